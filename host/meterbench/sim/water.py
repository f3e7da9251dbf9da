"""One physics model for the simulated water bench.

The pump drive's speed and the start valve decide the flow through the line; every meter in
series sees the same flow. A change of speed or valve moves the flow towards its new value as a
first-order lag (time constant of the hydraulics), so runs have real start-up and run-out. Each
meter integrates the flow with its own error curve over flow (a water meter is worst at low
flows and does not turn at all below its starting flow); the master meter integrates it with
its small error and emits K pulses per litre; the weighing tank collects it (and drains when
told); the water has one temperature. Every pulse time, count, register and weight derives from
this one time line, exactly, whatever the time scale.

Numerically the flow history is a list of segments (one per change). Within a segment's
transient (the first ``TRANSIENT_TAUS`` time constants) every integrated volume is tabulated on
a fine grid and interpolated linearly, which makes volumes exactly invertible for pulse times;
after it the flow is constant and volumes grow linearly.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from meterbench.regulations.water_density import water_density
from meterbench.sim.physics import TimeBase

SECONDS_PER_HOUR = 3600.0
TRANSIENT_TAUS = 12.0
GRID_POINTS = 240
TRUE = "true"  # the channel of the actual volume

Factor = Callable[[float], float]  # flow L/h -> indicated / actual volume rate


@dataclass(frozen=True)
class Hydraulics:
    """The pump (flow at full speed and how it grows with speed), the line's time constant,
    the water temperature and how fast the tank drains."""

    pump_max_flow_l_h: float = 3200.0
    pump_exponent: float = 1.15
    time_constant_s: float = 1.0
    temperature_c: float = 20.0
    drain_l_h: float = 36000.0

    def pump_flow_l_h(self, demand: float) -> float:
        return self.pump_max_flow_l_h * max(0.0, min(1.0, demand)) ** self.pump_exponent


@dataclass(frozen=True)
class WaterMeterBehaviour:
    """One simulated water meter. ``error_curve`` is (flow L/h, error %) interpolated linearly
    in log(flow), constant beyond its ends, plus ``error_pct``; below ``start_flow_l_h`` the meter
    does not register. ``register_bias_pct`` makes its register (CJ/T 188) run apart from its
    pulse output, as a faulty electronic meter's would."""

    pulse_value_l: float | None
    error_curve: tuple[tuple[float, float], ...] = ()
    error_pct: float = 0.0
    start_flow_l_h: float = 0.0
    register_bias_pct: float = 0.0
    dead: bool = False
    seed: int = 0

    def error_at(self, flow_l_h: float) -> float:
        """Error in % at a steady flow (the start threshold aside)."""
        return self.error_pct + _log_interpolate(self.error_curve, flow_l_h)

    def factor(self, flow_l_h: float) -> float:
        if self.dead or flow_l_h <= 0 or flow_l_h < self.start_flow_l_h:
            return 0.0
        return 1 + self.error_at(flow_l_h) / 100


def _log_interpolate(curve: tuple[tuple[float, float], ...], flow: float) -> float:
    if not curve or flow <= 0:
        return curve[0][1] if curve else 0.0
    xs = [x for x, _ in curve]
    i = bisect.bisect_left(xs, flow)
    if i == 0:
        return curve[0][1]
    if i == len(xs):
        return curve[-1][1]
    (x0, y0), (x1, y1) = curve[i - 1], curve[i]
    return y0 + (y1 - y0) * math.log(flow / x0) / math.log(x1 / x0)


class _Segment:
    """Flow from ``start`` on: ``target + (q0 - target)·exp(-(t - start)/tau)``."""

    def __init__(
        self, start: float, q0: float, target: float, tau: float, base: dict[str, float]
    ) -> None:
        self.start = start
        self.q0 = q0
        self.target = target
        self.tau = tau
        self.base = base
        moving = tau > 0 and abs(q0 - target) > 1e-12
        self.settled_at = start + TRANSIENT_TAUS * tau if moving else start
        self._times: list[float] = []
        self._grids: dict[str, list[float]] = {}

    def flow(self, t: float) -> float:
        if t >= self.settled_at:
            return self.target
        return self.target + (self.q0 - self.target) * math.exp(-(t - self.start) / self.tau)

    def _grid(self, key: str, factor: Factor) -> list[float]:
        grid = self._grids.get(key)
        if grid is None:
            if not self._times:
                span = self.settled_at - self.start
                self._times = [
                    self.start + span * (k / GRID_POINTS) ** 2 for k in range(GRID_POINTS + 1)
                ]
            rates = [self.flow(t) * factor(self.flow(t)) / SECONDS_PER_HOUR for t in self._times]
            grid = [self.base[key]]
            for k in range(1, len(self._times)):
                step = self._times[k] - self._times[k - 1]
                grid.append(grid[-1] + (rates[k] + rates[k - 1]) / 2 * step)
            self._grids[key] = grid
        return grid

    def _settled(self, key: str, factor: Factor) -> tuple[float, float]:
        """(volume at ``settled_at``, volume rate in L/s after it)."""
        end = self._grid(key, factor)[-1] if self.settled_at > self.start else self.base[key]
        return end, self.target * factor(self.target) / SECONDS_PER_HOUR

    def volume(self, key: str, factor: Factor, t: float) -> float:
        if t <= self.start:
            return self.base[key]
        if t >= self.settled_at:
            end, rate = self._settled(key, factor)
            return end + rate * (t - self.settled_at)
        grid = self._grid(key, factor)
        k = bisect.bisect_right(self._times, t)
        t0, t1 = self._times[k - 1], self._times[k]
        return grid[k - 1] + (grid[k] - grid[k - 1]) * (t - t0) / (t1 - t0)

    def time_of(self, key: str, factor: Factor, target: float, until: float) -> float | None:
        """Earliest time in [start, until] at which the volume reaches ``target``."""
        if self.base[key] >= target:
            return self.start
        if self.settled_at > self.start:
            grid = self._grid(key, factor)
            if grid[-1] >= target:
                k = bisect.bisect_left(grid, target)
                v0, v1 = grid[k - 1], grid[k]
                t0, t1 = self._times[k - 1], self._times[k]
                t = t0 + (t1 - t0) * (target - v0) / (v1 - v0)
                return t if t <= until else None
        end, rate = self._settled(key, factor)
        if rate <= 0:
            return None
        t = self.settled_at + (target - end) / rate
        return t if t <= until else None


class WaterWorld:
    """The shared world of one water bench, on one time line.

    Changes (drive, valves) take effect at the time they are made, but never before a moment
    someone has already observed: what a controller counted stays true."""

    def __init__(
        self,
        hydraulics: Hydraulics,
        behaviours: dict[int, WaterMeterBehaviour],
        *,
        reference_pulses_per_l: float,
        reference_error_pct: float = 0.0,
        time_base: TimeBase | None = None,
    ) -> None:
        self.hydraulics = hydraulics
        self._factors: dict[str, Factor] = {TRUE: _unit_factor}
        for position, behaviour in behaviours.items():
            self._factors[_meter_key(position)] = behaviour.factor
        self._segments = [_Segment(0.0, 0.0, 0.0, 0.0, dict.fromkeys(self._factors, 0.0))]
        self._starts = [0.0]
        self._horizon = 0.0
        # Bumped by every change of flow: a controller's pulse predictions made before it
        # no longer hold (``SimulatedController`` sleeps until the predicted pulse).
        self.version = 0
        self.running = False
        self.demand = 0.0
        self.valves: dict[str, bool] = {"start": False, "drain": False}
        self.meters: dict[int, WaterMeterModel | ReferencePulseOutput] = {
            p: WaterMeterModel(self, p, b) for p, b in behaviours.items()
        }
        self.reference = ReferenceFlowMeter(self, reference_pulses_per_l, reference_error_pct)
        self.time_base = time_base or TimeBase(10e6)
        self.tank = Tank(self, hydraulics.drain_l_h)

    # -- changes ----------------------------------------------------------------------------------
    def _moment(self, t: float) -> float:
        self._horizon = max(self._horizon, t)
        return self._horizon

    def set_drive(
        self, t: float, *, running: bool | None = None, demand: float | None = None
    ) -> None:
        """The pump drive starts, stops or changes speed (demand 0..1 of full speed)."""
        if running is not None:
            self.running = running
        if demand is not None:
            self.demand = max(0.0, min(1.0, demand))
        self._retarget(t)

    def set_valve(self, t: float, name: str, opened: bool) -> None:
        if self.valves.get(name) == opened:
            return
        t = self._moment(t)
        self.valves[name] = opened
        if name == "drain":
            self.tank.set_drain(t, opened)
        else:
            self._retarget(t)

    def target_flow_l_h(self) -> float:
        if not (self.running and self.valves["start"]):
            return 0.0
        return self.hydraulics.pump_flow_l_h(self.demand)

    def _retarget(self, t: float) -> None:
        self.version += 1
        t = self._moment(t)
        segment = self._segments[-1]
        q = segment.flow(t)
        base = {key: segment.volume(key, f, t) for key, f in self._factors.items()}
        new = _Segment(t, q, self.target_flow_l_h(), self.hydraulics.time_constant_s, base)
        if t == segment.start:
            self._segments[-1] = new
        else:
            self._segments.append(new)
            self._starts.append(t)

    # -- what is observed ---------------------------------------------------------------------
    def _segment_at(self, t: float) -> int:
        return max(0, bisect.bisect_right(self._starts, t) - 1)

    def flow_l_h(self, t: float) -> float:
        self._moment(t)
        return self._segments[self._segment_at(t)].flow(t)

    def volume(self, key: str, t: float) -> float:
        """Litres integrated on a channel (``TRUE`` or a meter's) up to ``t``."""
        self._moment(t)
        return self._segments[self._segment_at(t)].volume(key, self._factors[key], t)

    def time_of_volume(self, key: str, target: float, after: float) -> float | None:
        """Earliest time >= ``after`` at which a channel reaches ``target`` litres, under the
        flow known now (None if it never does unless something changes)."""
        factor = self._factors[key]
        i = self._segment_at(after)
        while i < len(self._segments):
            until = self._starts[i + 1] if i + 1 < len(self._segments) else math.inf
            t = self._segments[i].time_of(key, factor, target, until)
            if t is not None:
                return max(t, after)
            i += 1
        return None

    def temperature_c(self, t: float) -> float:
        return self.hydraulics.temperature_c

    def density_kg_m3(self, t: float) -> float:
        return float(water_density(round(self.temperature_c(t), 6)))


def _unit_factor(flow_l_h: float) -> float:
    return 1.0


def _meter_key(position: int) -> str:
    return f"meter{position}"


def _pulse_times(
    world: WaterWorld, key: str, per_pulse: float, phase: float, t0: float, t1: float
) -> list[float]:
    """Times in (t0, t1] at which channel ``key`` crosses whole pulses of ``per_pulse`` litres
    (the pulse counter starting ``phase`` of a pulse in)."""
    times: list[float] = []
    start = t0
    n = math.floor(world.volume(key, t0) / per_pulse + phase)
    while True:
        t = world.time_of_volume(key, (n + 1 - phase) * per_pulse, t0)
        if t is None or t > t1:
            return times
        if t > start:  # a pulse exactly at t0 belonged to the previous interval
            times.append(t)
        n += 1
        t0 = t


def _next_pulse_time(
    world: WaterWorld, key: str, per_pulse: float, phase: float, after: float
) -> float:
    """The first time after ``after`` that ``_pulse_times`` would give, under the flow known
    now (infinity: none unless the flow changes)."""
    n = math.floor(world.volume(key, after) / per_pulse + phase)
    while True:
        t = world.time_of_volume(key, (n + 1 - phase) * per_pulse, after)
        if t is None:
            return math.inf
        if t > after:
            return t
        n += 1


class WaterMeterModel:
    """A meter under test: pulse (or photo-sensor) output and register, from its indication."""

    def __init__(self, world: WaterWorld, position: int, behaviour: WaterMeterBehaviour) -> None:
        self.world = world
        self.key = _meter_key(position)
        self.behaviour = behaviour
        self._phase = random.Random(behaviour.seed).random()
        self.register_origin_l = 0.0

    def indicated_l(self, t: float) -> float:
        return self.world.volume(self.key, t)

    def register_l(self, t: float) -> float:
        bias = 1 + self.behaviour.register_bias_pct / 100
        return self.register_origin_l + self.indicated_l(t) * bias

    def pulse_times(self, t0: float, t1: float) -> list[float]:
        value = self.behaviour.pulse_value_l
        if not value:
            return []
        return _pulse_times(self.world, self.key, value, self._phase, t0, t1)

    def next_pulse_time(self, after: float) -> float:
        value = self.behaviour.pulse_value_l
        if not value:
            return math.inf
        return _next_pulse_time(self.world, self.key, value, self._phase, after)

    def second_pulse_times(self, t0: float, t1: float) -> list[float]:
        return []  # water meters have no clock output


class ReferenceFlowMeter:
    """The master meter: K pulses per litre of its indication (true volume x its error). The
    controllers' reference counters see ``count``; ``ReferencePulseOutput`` feeds the same
    pulses to a channel input as edges."""

    def __init__(self, world: WaterWorld, pulses_per_l: float, error_pct: float = 0.0) -> None:
        self.world = world
        self.pulses_per_l = pulses_per_l
        self.factor = 1 + error_pct / 100

    def volume_l(self, t: float) -> float:
        return self.world.volume(TRUE, t) * self.factor

    def count(self, t: float) -> int:
        return math.floor(self.volume_l(t) * self.pulses_per_l + 1e-9)


class ReferencePulseOutput:
    """The master meter's pulses as edges on one controller channel."""

    def __init__(self, reference: ReferenceFlowMeter) -> None:
        self.reference = reference

    def pulse_times(self, t0: float, t1: float) -> list[float]:
        ref = self.reference
        return _pulse_times(ref.world, TRUE, self._per_pulse(), 1e-9, t0, t1)

    def next_pulse_time(self, after: float) -> float:
        return _next_pulse_time(self.reference.world, TRUE, self._per_pulse(), 1e-9, after)

    def _per_pulse(self) -> float:
        ref = self.reference
        return 1 / (ref.pulses_per_l * ref.factor)  # true litres per pulse

    def second_pulse_times(self, t0: float, t1: float) -> list[float]:
        return []


class Tank:
    """The weighing tank: collects everything that flows, drains at a fixed rate when the
    drain valve is open (the bench never fills and drains at once)."""

    def __init__(self, world: WaterWorld, drain_l_h: float) -> None:
        self.world = world
        self.drain_l_s = drain_l_h / SECONDS_PER_HOUR
        self._since = 0.0
        self._content = 0.0
        self._inflow = 0.0
        self._draining = False

    def content_l(self, t: float) -> float:
        inflow = self.world.volume(TRUE, t) - self._inflow
        drained = self.drain_l_s * (t - self._since) if self._draining else 0.0
        return max(0.0, self._content + inflow - drained)

    def set_drain(self, t: float, opened: bool) -> None:
        self._content = self.content_l(t)
        self._inflow = self.world.volume(TRUE, t)
        self._since = t
        self._draining = opened

    def mass_kg(self, t: float) -> float:
        return self.content_l(t) * self.world.density_kg_m3(t) / 1000

    def settling(self, t: float) -> bool:
        """Water still arriving or leaving."""
        return self.world.flow_l_h(t) > 1e-6 or (self._draining and self.content_l(t) > 0)


__all__ = [
    "Hydraulics",
    "ReferenceFlowMeter",
    "ReferencePulseOutput",
    "Tank",
    "WaterMeterBehaviour",
    "WaterMeterModel",
    "WaterWorld",
]
