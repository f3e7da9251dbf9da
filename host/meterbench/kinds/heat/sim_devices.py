"""The simulated heat devices of a heat bench, on one Modbus RTU line: two thermostat baths,
their reference thermometers and the calculator tester; and the simulated CJ/T 188 heat meter
whose registers integrate the heat its flow sensor, sensors and calculator would count.

Why changes notify the meters first: a meter integrates heat between two moments at the
temperatures its inputs had, so before a bath setpoint or the tester's state changes every
meter brings its registers up to that moment.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from meterbench.clock import Clock
from meterbench.kinds.heat.config import Bath, CalculatorTester, ReferenceThermometer
from meterbench.regulations.platinum import r0_ohm, temperature_c
from meterbench.regulations.water_properties import reference_heat_kj
from meterbench.sim.answer import Answer
from meterbench.sim.meter_cjt188 import Cjt188WaterMeter
from meterbench.sim.water import WaterMeterModel, WaterWorld
from meterproto.cjt188 import messages as cmsg
from meterproto.cjt188.frame import FN_READ_DATA, Frame
from meterproto.cjt188.heat import HeatMeterData, encode_heat_data
from meterproto.dlt645.frame import DecodeError
from meterproto.modbus import rtu

Hook = Callable[[float], None]
UNIT_WH, UNIT_KW, UNIT_LITRE, UNIT_M3H = 0x02, 0x17, 0x29, 0x35


class BathPhysics:
    """A thermostat: first-order approach to its setpoint from where it was."""

    def __init__(self, start_c: float, time_constant_s: float) -> None:
        self.setpoint = start_c
        self._from = start_c
        self._t0 = 0.0
        self.tau = time_constant_s

    def temperature_c(self, t: float) -> float:
        elapsed = max(0.0, t - self._t0)
        return self.setpoint + (self._from - self.setpoint) * math.exp(-elapsed / self.tau)

    def set_setpoint(self, t: float, celsius: float) -> None:
        self._from = self.temperature_c(t)
        self._t0 = t
        self.setpoint = celsius


class SimulatedBath:
    """A bath's Modbus unit: holding = setpoint, input = its own temperature reading."""

    def __init__(self, info: Bath, physics: BathPhysics, clock: Clock, hooks: list[Hook]) -> None:
        self.info, self.physics, self.clock, self.hooks = info, physics, clock, hooks

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        if count != 1:
            return rtu.ILLEGAL_ADDRESS
        if function == rtu.READ_HOLDING and address == self.info.setpoint_register:
            value = self.physics.setpoint
        elif function == rtu.READ_INPUT and address == self.info.temperature_register:
            value = self.physics.temperature_c(self.clock.now())
        else:
            return rtu.ILLEGAL_ADDRESS
        return [rtu.from_signed(round(value / self.info.scale_c))]

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        if address != self.info.setpoint_register or len(values) != 1:
            return rtu.ILLEGAL_ADDRESS
        celsius = rtu.to_signed(values[0]) * self.info.scale_c
        if not 0 <= celsius <= 100:
            return rtu.ILLEGAL_VALUE
        now = self.clock.now()
        for hook in self.hooks:
            hook(now)
        self.physics.set_setpoint(now, celsius)
        return None


class SimulatedReferenceThermometer:
    """A reference thermometer in a bath: a signed 32-bit input-register pair."""

    def __init__(
        self, info: ReferenceThermometer, bath: BathPhysics, clock: Clock, error_c: float
    ) -> None:
        self.info, self.bath, self.clock, self.error_c = info, bath, clock, error_c

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        if function != rtu.READ_INPUT:
            return rtu.ILLEGAL_FUNCTION
        if address != self.info.address or count != 2:
            return rtu.ILLEGAL_ADDRESS
        celsius = self.bath.temperature_c(self.clock.now()) + self.error_c
        value = round(celsius / self.info.scale_c) & 0xFFFFFFFF
        return [value >> 16, value & 0xFFFF]

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        return rtu.ILLEGAL_FUNCTION


class SimulatedCalculatorTester:
    """Resistances and volume pulses into every calculator (register map in the config)."""

    def __init__(self, info: CalculatorTester, clock: Clock, hooks: list[Hook]) -> None:
        self.info, self.clock, self.hooks = info, clock, hooks
        self.holding = [0] * 8
        self.connected = False
        self._started_at: float | None = None
        self._count = 0
        self._hz = 1

    def _pair(self, at: int) -> int:
        return self.holding[at] << 16 | self.holding[at + 1]

    def resistances_ohm(self) -> tuple[float, float]:
        return self._pair(0) / 1000, self._pair(2) / 1000

    def pulses_sent(self, t: float) -> int:
        if self._started_at is None:
            return 0
        return min(self._count, math.floor((t - self._started_at) * self._hz))

    def read(self, function: int, address: int, count: int) -> list[int] | int:
        if function == rtu.READ_HOLDING and address >= 0 and address + count <= 8:
            return self.holding[address : address + count]
        if function == rtu.READ_INPUT and address == 0 and count == 2:
            left = self._count - self.pulses_sent(self.clock.now())
            return [left >> 16, left & 0xFFFF]
        return rtu.ILLEGAL_ADDRESS

    def write(self, address: int, values: tuple[int, ...]) -> int | None:
        if address < 0 or address + len(values) > 8:
            return rtu.ILLEGAL_ADDRESS
        now = self.clock.now()
        for hook in self.hooks:
            hook(now)
        new = list(self.holding)
        new[address : address + len(values)] = values
        if new[6] > self.info.max_pulse_hz:
            return rtu.ILLEGAL_VALUE
        if new[7] not in (0, 1, 2):
            return rtu.ILLEGAL_VALUE
        self.holding = new
        if 7 in range(address, address + len(values)):
            command = new[7]
            if command == 2:
                if self.pulses_sent(now) < self._count:
                    return rtu.DEVICE_FAILURE  # still sending the last pulses
                self._count, self._hz = self._pair(4), max(1, new[6])
                self._started_at = now
                self.connected = True
            else:
                self.connected = command == 1
                self._started_at, self._count = None, 0
        return None


@dataclass
class HeatMeterErrors:
    """What makes one simulated heat meter wrong (the flow sensor's error is in its model)."""

    supply_sensor_error_k: float = 0.0
    return_sensor_error_k: float = 0.0
    calculator_error_pct: float = 0.0
    garbled: str | None = None


@dataclass
class HeatPhysics:
    """The registers of one heat meter, integrated from its inputs."""

    flow: WaterMeterModel
    world: WaterWorld
    supply_bath: BathPhysics
    return_bath: BathPhysics
    tester: SimulatedCalculatorTester | None
    sensor: str
    pulse_value_l: float
    pressure_mpa: float
    installation: str
    heating: bool
    errors: HeatMeterErrors
    heat_wh: float = 0.0
    volume_l: float = 0.0
    _t: float = 0.0
    _flow_l: float = 0.0
    _pulses: int = 0
    _tester_on: bool = False
    log: list[Any] = field(default_factory=list)

    def inputs_c(self, t: float) -> tuple[float, float]:
        """(supply, return) as the meter's calculator sees them at ``t``."""
        tester = self.tester
        if tester is not None and tester.connected:
            r0 = r0_ohm(self.sensor)
            supply, ret = tester.resistances_ohm()
            if supply <= 0 or ret <= 0:
                return 0.0, 0.0  # nothing set yet: an open input
            return temperature_c(supply, r0), temperature_c(ret, r0)
        e = self.errors
        return (
            self.supply_bath.temperature_c(t) + e.supply_sensor_error_k,
            self.return_bath.temperature_c(t) + e.return_sensor_error_k,
        )

    def update(self, t: float) -> None:
        """Bring the registers up to ``t`` at the inputs of this moment."""
        if t < self._t:
            return
        flow_l = self.flow.indicated_l(t)
        pulses = self.tester.pulses_sent(t) if self.tester is not None else 0
        tester_on = self.tester is not None and self.tester.connected
        d_volume = 0.0
        if tester_on and self._tester_on:
            d_volume = max(0, pulses - self._pulses) * self.pulse_value_l
        elif not tester_on:
            d_volume = flow_l - self._flow_l
        self._t, self._flow_l, self._pulses, self._tester_on = t, flow_l, pulses, tester_on
        if d_volume <= 0:
            return
        supply, ret = self.inputs_c(t)
        self.volume_l += d_volume
        if (supply - ret > 0) != self.heating or supply == ret:
            return
        heat_kj = abs(
            reference_heat_kj(d_volume / 1000, supply, ret, self.pressure_mpa, self.installation)
        )
        self.heat_wh += heat_kj / 3.6 * (1 + self.errors.calculator_error_pct / 100)


class SimulatedHeatMeter(Cjt188WaterMeter):
    """A CJ/T 188 heat meter (type 20H/21H) answering 901F in the heat layout, its registers
    brought up to date before every answer."""

    physics: HeatPhysics | None = None
    sim_clock: Any = None
    silent: bool = False
    started_at: dt.datetime | None = None

    def respond(self, request: Frame) -> Answer | None:
        if self.silent:
            return None
        return super().respond(request)

    def heat_content(self) -> bytes:
        physics = self.physics
        assert physics is not None and self.sim_clock is not None
        t = self.sim_clock.now()
        physics.update(t)
        supply, ret = physics.inputs_c(t)
        flow_m3h = physics.world.flow_l_h(t) / 1000
        power_kw = 0.0
        if supply != ret and flow_m3h > 0:
            heat_kj = reference_heat_kj(
                flow_m3h, supply, ret, physics.pressure_mpa, physics.installation
            )
            power_kw = abs(heat_kj) / 3600
        hours = int(t // 3600)

        def d(value: float, places: int) -> Decimal:
            return Decimal(f"{value:.{places}f}")

        heat = d(physics.heat_wh % 1_000_000, 2)
        content = bytearray(
            encode_heat_data(
                HeatMeterData(
                    settlement_heat=Decimal("0.00"),
                    settlement_heat_unit=UNIT_WH,
                    heat=heat,
                    heat_unit=UNIT_WH,
                    power=d(power_kw, 2),
                    power_unit=UNIT_KW,
                    flow=d(flow_m3h, 4),
                    flow_unit=UNIT_M3H,
                    volume=d(physics.volume_l % 1_000_000, 2),
                    volume_unit=UNIT_LITRE,
                    supply_c=d(max(supply, 0.0), 2),
                    return_c=d(max(ret, 0.0), 2),
                    working_hours=hours % 1_000_000,
                    time=self.now() if self.has_clock else None,
                    status=bytes(2),
                )
            )
        )
        if physics.errors.garbled == "return_temperature":
            content[28:31] = b"\xff\xff\xff"
        elif physics.errors.garbled == "real_time":
            content[34:41] = b"\x99" * 7
        return bytes(content)

    def handle(self, request: Frame) -> Frame | None:
        if not self.accepts(request) or len(request.data) < 3:
            return None
        try:
            di, order = cmsg.decode_di(request.data[:2])
        except DecodeError:
            return None
        if request.function == FN_READ_DATA and di == cmsg.DI_CURRENT_DATA:
            di_order = "high_first" if order == cmsg.HIGH_BYTE_FIRST else "low_first"
            return cmsg.read_data_reply(
                self.wire_address,
                di,
                request.data[2],
                self.heat_content(),
                self.meter_type,
                di_order,
            )
        return super().handle(request)


__all__ = [
    "BathPhysics",
    "HeatMeterErrors",
    "HeatPhysics",
    "SimulatedBath",
    "SimulatedCalculatorTester",
    "SimulatedHeatMeter",
    "SimulatedReferenceThermometer",
]
