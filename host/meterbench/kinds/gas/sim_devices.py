"""Simulated Modbus units of a gas bench (register map in ``registers``): the bell prover's
(or master meter's) controller and the line-sensor module, both on the gas world, and the
CJ/T 188 gas meters whose registers follow their indication."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from meterbench.clock import Clock
from meterbench.kinds.gas import registers as r
from meterbench.kinds.gas.world import GasWorld
from meterbench.sim.answer import Answer
from meterbench.sim.meter_cjt188 import Cjt188WaterMeter
from meterproto.cjt188.frame import Frame
from meterproto.modbus import rtu


class SimulatedReference:
    """The bell prover's controller: commands and setpoints in, count and air conditions out."""

    def __init__(self, world: GasWorld, clock: Clock, error_c: float = 0.0) -> None:
        self.world = world
        self.clock = clock
        self.error_c = error_c
        self.flow_raw = 0
        self.pressure_raw = 0
        self.command = r.CMD_STOP

    def _holding(self) -> dict[int, int]:
        flow, pressure = r.split32(self.flow_raw), r.split32(self.pressure_raw)
        return {
            r.HR_COMMAND: self.command,
            r.HR_FLOW_SETPOINT: flow[0],
            r.HR_FLOW_SETPOINT + 1: flow[1],
            r.HR_PRESSURE_SETPOINT: pressure[0],
            r.HR_PRESSURE_SETPOINT + 1: pressure[1],
        }

    def _inputs(self) -> list[int]:
        t, world = self.clock.now(), self.world
        count = r.split32(world.count(t))
        status = world.status(t)
        flow = r.split32(round(world.flow_l_h() / r.FLOW_UNIT_L_H))
        air = world.reference_air
        temperature = r.to_signed16(
            round((air.temperature_c + self.error_c) / r.TEMPERATURE_UNIT_C)
        )
        pressure = r.split32(round(air.pressure_pa))
        left = world.left_l if world.capacity_l is not None else 0.0
        left_raw = r.split32(round(left / r.LEFT_UNIT_L))
        return [*count, status, *flow, temperature, *pressure, *left_raw]

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        if function == rtu.READ_INPUT:
            values = self._inputs()
            if address + count > len(values):
                return rtu.ILLEGAL_ADDRESS
            return values[address : address + count]
        registers = self._holding()
        try:
            return [registers[a] for a in range(address, address + count)]
        except KeyError:
            return rtu.ILLEGAL_ADDRESS

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        holding = self._holding()
        for offset, value in enumerate(values):
            if address + offset not in holding:
                return rtu.ILLEGAL_ADDRESS
            holding[address + offset] = value
        if holding[r.HR_COMMAND] not in r.COMMANDS:
            return rtu.ILLEGAL_VALUE
        t = self.clock.now()
        flow = r.join32(holding[r.HR_FLOW_SETPOINT], holding[r.HR_FLOW_SETPOINT + 1])
        pressure = r.join32(holding[r.HR_PRESSURE_SETPOINT], holding[r.HR_PRESSURE_SETPOINT + 1])
        if flow != self.flow_raw:
            self.flow_raw = flow
            self.world.set_flow(t, flow * r.FLOW_UNIT_L_H)
        if pressure != self.pressure_raw:
            self.pressure_raw = pressure
            self.world.set_pressure(t, float(pressure))
        if address <= r.HR_COMMAND < address + len(values):
            self.command = holding[r.HR_COMMAND]
            self.world.command(t, self.command)
        return None


class SimulatedLineSensors:
    """Meter-line temperature and pressure, per-position gauge and differential pressures."""

    def __init__(self, world: GasWorld, clock: Clock, positions: list[int]) -> None:
        self.world = world
        self.clock = clock
        self.positions = set(positions)

    def _value(self, register: int) -> int | None:
        t, world = self.clock.now(), self.world
        air = world.line_air
        pressure = r.split32(round(air.pressure_pa))
        fixed = {
            r.IR_LINE_TEMPERATURE: r.to_signed16(round(air.temperature_c / r.TEMPERATURE_UNIT_C)),
            r.IR_LINE_PRESSURE: pressure[0],
            r.IR_LINE_PRESSURE + 1: pressure[1],
        }
        if register in fixed:
            return fixed[register]
        for base, read, unit in (
            (r.IR_POSITION_PRESSURE, world.gauge_pa, 1.0),
            (r.IR_POSITION_DP, world.differential_pa, r.DP_UNIT_PA),
        ):
            position = register - base + 1
            if position in self.positions:
                return r.to_signed16(round(read(position, t) / unit))
        return None

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        if function != rtu.READ_INPUT:
            return rtu.ILLEGAL_FUNCTION
        values = [self._value(a) for a in range(address, address + count)]
        if any(v is None for v in values):
            return rtu.ILLEGAL_ADDRESS
        return [v for v in values if v is not None]

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        return rtu.ILLEGAL_FUNCTION


class SimulatedGasMeter(Cjt188WaterMeter):
    """A CJ/T 188 gas meter (30H) whose register, in litres, follows its indication in the
    world; brought up to date before every answer. ``valve_closed`` and ``silent`` are faults."""

    world: Any = None
    position: int = 0
    sim_clock: Any = None
    silent: bool = False

    def respond(self, request: Frame) -> Answer | None:
        if self.silent:
            return None
        world: GasWorld = self.world
        litres = world.register_l(self.position, self.sim_clock.now())
        self.set_volume(Decimal(str(round(litres, 6))))
        return super().respond(request)


__all__ = ["SimulatedGasMeter", "SimulatedLineSensors", "SimulatedReference"]
