"""Water temperature read-out: the temperature decides the MPE row and the water's density.

One interface, one driver: a transmitter that reports the temperature in one Modbus register.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from meterbench.devices.modbus_client import ModbusRtuClient
from meterbench.kinds.water.config import Thermometer
from meterproto.modbus import rtu


class WaterThermometer(Protocol):
    async def read_c(self) -> Decimal: ...


class ModbusThermometer:
    def __init__(self, client: ModbusRtuClient, info: Thermometer) -> None:
        self.client = client
        self.info = info

    async def read_c(self) -> Decimal:
        info = self.info
        (raw,) = await self.client.read(info.address, input_registers=info.input_register)
        value = rtu.to_signed(raw) if info.signed else raw
        return Decimal(value) * Decimal(str(info.scale_c))


__all__ = ["ModbusThermometer", "WaterThermometer"]
