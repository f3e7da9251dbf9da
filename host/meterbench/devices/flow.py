"""Flow setting: one small driver interface, one Modbus RTU frequency-converter driver.

The runner regulates the flow itself (it measures the flow with the controllers and corrects
the demand), so a flow actuator only has to take a demand between 0 and 1: pump speed, valve
opening, whatever the bench has. Other actuators (a motorised valve, controller outputs)
become drivers by implementing ``FlowDriver``.
"""

from __future__ import annotations

from typing import Protocol

from meterbench.devices.modbus_client import ModbusRtuClient
from meterbench.kinds.water.config import FlowDrive


class FlowDriver(Protocol):
    """What the runner needs from a flow actuator."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def set_demand(self, demand: float) -> float:
        """Set 0..1 of full output; returns the demand actually set (after quantisation)."""
        ...

    def describe(self) -> str: ...


class ModbusVfd:
    """A pump frequency converter: run/stop through its control register, speed through its
    frequency register (``frequency_unit_hz`` per count)."""

    def __init__(self, client: ModbusRtuClient, info: FlowDrive) -> None:
        self.client = client
        self.info = info
        self.demand = 0.0

    async def start(self) -> None:
        await self.client.write(self.info.control_register, self.info.run_command)

    async def stop(self) -> None:
        await self.client.write(self.info.control_register, self.info.stop_command)

    async def set_demand(self, demand: float) -> float:
        info = self.info
        demand = max(0.0, min(1.0, demand))
        counts = round(demand * info.max_frequency_hz / info.frequency_unit_hz)
        await self.client.write(info.frequency_register, counts)
        self.demand = counts * info.frequency_unit_hz / info.max_frequency_hz
        return self.demand

    async def output_frequency_hz(self) -> float | None:
        """What the drive reports it runs at (None when it has no such register)."""
        register = self.info.output_frequency_register
        if register is None:
            return None
        (value,) = await self.client.read(register)
        return value * self.info.frequency_unit_hz

    def describe(self) -> str:
        return f"frequency converter (Modbus unit {self.info.unit})"


__all__ = ["FlowDriver", "ModbusVfd"]
