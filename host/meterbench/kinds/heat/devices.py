"""Drivers of a heat bench's own devices on its Modbus line: the two baths, the two reference
thermometers and the calculator tester (register maps in ``kinds.heat.config``)."""

from __future__ import annotations

from decimal import Decimal

from meterbench.devices.modbus_client import ModbusRtuClient
from meterbench.kinds.heat.config import Bath, CalculatorTester, ReferenceThermometer
from meterproto.modbus import rtu

MILLIOHM = Decimal("0.001")


def _pair(value: int) -> list[int]:
    return [(value >> 16) & 0xFFFF, value & 0xFFFF]


def _unpair(high: int, low: int) -> int:
    return high << 16 | low


class BathController:
    """A thermostat bath: ``set_c`` writes the setpoint, ``read_c`` its own bath reading."""

    def __init__(self, client: ModbusRtuClient, info: Bath) -> None:
        self.client = client
        self.info = info

    async def set_c(self, celsius: Decimal) -> None:
        value = int((celsius / Decimal(str(self.info.scale_c))).to_integral_value())
        await self.client.write(self.info.setpoint_register, rtu.from_signed(value))

    async def read_c(self) -> Decimal:
        (raw,) = await self.client.read(self.info.temperature_register, input_registers=True)
        return Decimal(rtu.to_signed(raw)) * Decimal(str(self.info.scale_c))


class ReferenceThermometerClient:
    """The temperature of one bath as the reference sees it, certificate correction applied."""

    def __init__(self, client: ModbusRtuClient, info: ReferenceThermometer) -> None:
        self.client = client
        self.info = info

    async def read_c(self) -> Decimal:
        high, low = await self.client.read(self.info.address, 2, input_registers=True)
        value = _unpair(high, low)
        if value >= 1 << 31:
            value -= 1 << 32
        scale = Decimal(str(self.info.scale_c))
        return Decimal(value) * scale + Decimal(str(self.info.correction_c))


class CalculatorTesterClient:
    """Simulated sensor resistances and volume pulses into every calculator at once."""

    def __init__(self, client: ModbusRtuClient, info: CalculatorTester) -> None:
        self.client = client
        self.info = info

    async def connect(self, connected: bool) -> None:
        """Switch the calculators' inputs to the tester (True) or back to their own sensors."""
        await self.client.write(7, 1 if connected else 0)

    async def set_resistances(self, supply_ohm: Decimal, return_ohm: Decimal) -> None:
        supply = int((supply_ohm / MILLIOHM).to_integral_value())
        ret = int((return_ohm / MILLIOHM).to_integral_value())
        await self.client.write_many(0, _pair(supply) + _pair(ret))

    async def send_pulses(self, count: int, hz: float) -> None:
        await self.client.write_many(4, [*_pair(count), max(1, round(hz))])
        await self.client.write(7, 2)

    async def pulses_left(self) -> int:
        high, low = await self.client.read(0, 2, input_registers=True)
        return _unpair(high, low)


__all__ = ["BathController", "CalculatorTesterClient", "ReferenceThermometerClient"]
