"""Host drivers of a gas bench's reference and line sensors over Modbus RTU (register map in
``registers``). They speak in bench units (litres, L/h, °C, Pa) and hide the words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.devices.modbus_client import ModbusRtuClient
from meterbench.kinds.gas import registers as r
from meterbench.kinds.gas.config import GasReference


@dataclass(frozen=True)
class ReferenceState:
    """One read of the reference unit: the count and the air at the reference."""

    count: int
    status: int
    flow_l_h: Decimal
    temperature_c: Decimal
    pressure_pa: int
    left_l: Decimal

    @property
    def moving(self) -> bool:
        return bool(self.status & r.ST_MOVING)

    @property
    def empty(self) -> bool:
        return bool(self.status & r.ST_EMPTY)

    @property
    def pressurised(self) -> bool:
        return bool(self.status & r.ST_PRESSURISED)


@dataclass(frozen=True)
class LineConditions:
    """Temperature and absolute pressure of the air in the meter line."""

    temperature_c: Decimal
    pressure_pa: int


class GasReferenceDevice:
    """The bell prover (or master meter) controller."""

    def __init__(self, client: ModbusRtuClient, info: GasReference) -> None:
        self.client = client
        self.info = info

    async def command(self, command: int) -> None:
        await self.client.write(r.HR_COMMAND, command)

    async def set_flow(self, flow_l_h: float) -> None:
        raw = max(0, round(flow_l_h / r.FLOW_UNIT_L_H))
        await self.client.write_many(r.HR_FLOW_SETPOINT, r.split32(raw))

    async def set_pressure(self, pressure_pa: float) -> None:
        await self.client.write_many(r.HR_PRESSURE_SETPOINT, r.split32(round(pressure_pa)))

    async def stop(self) -> None:
        await self.command(r.CMD_STOP)

    async def read(self) -> ReferenceState:
        words = await self.client.read(0, r.REFERENCE_INPUTS, input_registers=True)
        return ReferenceState(
            count=r.join32(words[r.IR_COUNT], words[r.IR_COUNT + 1]),
            status=words[r.IR_STATUS],
            flow_l_h=Decimal(r.join32(words[r.IR_FLOW], words[r.IR_FLOW + 1]))
            * Decimal(str(r.FLOW_UNIT_L_H)),
            temperature_c=Decimal(r.signed16(words[r.IR_TEMPERATURE]))
            * Decimal(str(r.TEMPERATURE_UNIT_C)),
            pressure_pa=r.join32(words[r.IR_PRESSURE], words[r.IR_PRESSURE + 1]),
            left_l=Decimal(r.join32(words[r.IR_LEFT], words[r.IR_LEFT + 1]))
            * Decimal(str(r.LEFT_UNIT_L)),
        )

    def volume_l(self, counts: int) -> Fraction:
        """Litres ``counts`` stand for, corrected by the reference's certified error."""
        info = self.info
        return (
            Fraction(counts)
            * Fraction(str(info.litres_per_count))
            / (1 + Fraction(str(info.error_pct)) / 100)
        )


class GasLineSensors:
    """The meter line's temperature and pressure, and the per-position pressures."""

    def __init__(self, client: ModbusRtuClient) -> None:
        self.client = client

    async def conditions(self) -> LineConditions:
        words = await self.client.read(r.IR_LINE_TEMPERATURE, 3, input_registers=True)
        return LineConditions(
            Decimal(r.signed16(words[0])) * Decimal(str(r.TEMPERATURE_UNIT_C)),
            r.join32(words[1], words[2]),
        )

    async def gauge_pa(self, positions: list[int]) -> dict[int, int]:
        return await self._block(r.IR_POSITION_PRESSURE, positions)

    async def differential_pa(self, positions: list[int]) -> dict[int, Decimal]:
        unit = Decimal(str(r.DP_UNIT_PA))
        values = await self._block(r.IR_POSITION_DP, positions)
        return {p: v * unit for p, v in values.items()}

    async def _block(self, base: int, positions: list[int]) -> dict[int, int]:
        """Every position in one request: one instant for all (a hold is timed from it)."""
        first, last = min(positions), max(positions)
        words = await self.client.read(base + first - 1, last - first + 1, input_registers=True)
        return {p: r.signed16(words[p - first]) for p in positions}


__all__ = ["GasLineSensors", "GasReferenceDevice", "LineConditions", "ReferenceState"]
