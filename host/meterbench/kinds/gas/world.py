"""The physics of a simulated gas bench: the bell (or master meter) delivering air at a set
flow through the meters in series, the air's temperature and pressure at the reference and in
the meter line, the line pressurised for tightness, and each meter's indication.

Every state change happens at the simulated time a command arrives; between changes the flow
is constant, so ``advance`` integrates exactly. A meter indicates the air volume at the meter
line's conditions, which is the delivered volume carried by the ideal-gas law (with the water
vapour of the bell's seal), times (1 + its error at the flow).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from meterbench.kinds.gas import registers as r
from meterbench.regulations.gas import saturation_pressure_pa

KELVIN = 273.15
AIR_GAS_CONSTANT = 287.058


@dataclass(frozen=True)
class GasMeterBehaviour:
    """One simulated meter: its error curve (flow L/h, error %), register resolution, faults."""

    error_curve: tuple[tuple[float, float], ...] = ()
    error_pct: float = 0.0
    register_resolution_l: float = 0.2
    leak_pa_per_min: float = 0.0
    dp_at_qmax_pa: float = 120.0
    qmax_l_h: float = 4000.0

    def error_at(self, flow_l_h: float) -> float:
        """The curve interpolated in log(flow), flat beyond its ends; without one, error_pct."""
        curve = self.error_curve
        if not curve:
            return self.error_pct
        flows = [f for f, _ in curve]
        i = bisect.bisect_left(flows, flow_l_h)
        if i == 0 or flow_l_h <= 0:
            return curve[0][1]
        if i == len(curve):
            return curve[-1][1]
        (f0, e0), (f1, e1) = curve[i - 1], curve[i]
        return e0 + (e1 - e0) * math.log(flow_l_h / f0) / math.log(f1 / f0)


@dataclass
class _Meter:
    behaviour: GasMeterBehaviour
    origin_l: float = 0.0
    indicated_l: float = 0.0


@dataclass
class Air:
    """Conditions of the air: temperature °C and absolute pressure Pa."""

    temperature_c: float
    pressure_pa: float


@dataclass
class GasWorld:
    method: str
    litres_per_count: float
    capacity_l: float | None
    reference_air: Air
    line_air: Air
    atmosphere_pa: float = 101325.0
    reference_error_pct: float = 0.0
    refill_l_h: float = 20000.0
    pressurise_pa_s: float = 500.0
    flow_error_pct: float = 0.0  # the delivered flow against the setpoint (motor, valve)
    stuck: bool = False  # a fault: the bell (or the line's valve) does not move
    meters: dict[int, _Meter] = field(default_factory=dict)
    t: float = 0.0
    mode: int = r.CMD_STOP
    flow_setpoint_l_h: float = 0.0
    pressure_setpoint_pa: float = 0.0
    delivered_l: float = 0.0
    left_l: float = 0.0
    empty: bool = False
    line_gauge_pa: float = 0.0
    isolated_at: float | None = None

    def __post_init__(self) -> None:
        self.left_l = self.capacity_l or math.inf

    def add_meter(self, position: int, behaviour: GasMeterBehaviour, origin_l: float) -> None:
        self.meters[position] = _Meter(behaviour, origin_l)

    # -- what the air does ------------------------------------------------------------------
    def meter_factor(self) -> float:
        """Volume at the meter line per volume delivered by the reference."""
        ref, line = self.reference_air, self.line_air
        p_ref, p_line = ref.pressure_pa, line.pressure_pa
        if self.method == "bell":
            p_ref -= saturation_pressure_pa(ref.temperature_c)
            p_line -= saturation_pressure_pa(line.temperature_c)
        return p_ref / p_line * (line.temperature_c + KELVIN) / (ref.temperature_c + KELVIN)

    def line_density(self) -> float:
        line = self.line_air
        return line.pressure_pa / (AIR_GAS_CONSTANT * (line.temperature_c + KELVIN))

    def flow_l_h(self) -> float:
        """The flow actually delivered: the setpoint off by the drive's own error."""
        if self.mode != r.CMD_DELIVER or self.stuck:
            return 0.0
        return self.flow_setpoint_l_h * (1 + self.flow_error_pct / 100)

    def advance(self, t: float) -> None:
        """Bring the world to time ``t`` (never backwards)."""
        dt = t - self.t
        if dt <= 0:
            return
        self.t = t
        if self.mode == r.CMD_DELIVER:
            flow = self.flow_l_h()
            volume = flow * dt / 3600
            if volume >= self.left_l:
                volume, self.mode, self.empty = self.left_l, r.CMD_STOP, True
            self.left_l -= volume
            self.delivered_l += volume
            at_meter = volume * self.meter_factor()
            for meter in self.meters.values():
                error = meter.behaviour.error_at(flow)
                meter.indicated_l += at_meter * (1 + error / 100)
        elif self.mode == r.CMD_REFILL and self.capacity_l is not None:
            self.left_l = min(self.capacity_l, self.left_l + self.refill_l_h * dt / 3600)
            if self.left_l >= self.capacity_l:
                self.mode = r.CMD_STOP
        elif self.mode == r.CMD_PRESSURISE and self.isolated_at is None:
            needed = (self.pressure_setpoint_pa - self.line_gauge_pa) / self.pressurise_pa_s
            if dt >= needed:
                self.line_gauge_pa = self.pressure_setpoint_pa
                self.isolated_at = t - (dt - needed)
            else:
                self.line_gauge_pa += self.pressurise_pa_s * dt

    def command(self, t: float, command: int) -> None:
        self.advance(t)
        if command == r.CMD_DELIVER:
            self.empty = self.left_l <= 0
            if self.empty:
                return
        if command in (r.CMD_VENT, r.CMD_DELIVER, r.CMD_REFILL):
            self.line_gauge_pa = 0.0
            self.isolated_at = None
        if command == r.CMD_PRESSURISE:
            self.isolated_at = None
        if command == r.CMD_REFILL:
            self.empty = False
        self.mode = command

    def set_flow(self, t: float, flow_l_h: float) -> None:
        self.advance(t)
        self.flow_setpoint_l_h = flow_l_h

    def set_pressure(self, t: float, pressure_pa: float) -> None:
        self.advance(t)
        self.pressure_setpoint_pa = pressure_pa

    # -- what the devices read --------------------------------------------------------------
    def count(self, t: float) -> int:
        self.advance(t)
        true = self.delivered_l * (1 + self.reference_error_pct / 100)
        return math.floor(true / self.litres_per_count + 1e-9)

    def status(self, t: float) -> int:
        self.advance(t)
        bits = 0
        if self.mode in (r.CMD_DELIVER, r.CMD_REFILL):
            bits |= r.ST_MOVING
        if self.empty:
            bits |= r.ST_EMPTY
        if self.isolated_at is not None:
            bits |= r.ST_PRESSURISED
        return bits

    def register_l(self, position: int, t: float) -> float:
        """The register: whole steps of the meter's resolution, as its counter shows."""
        self.advance(t)
        meter = self.meters[position]
        step = meter.behaviour.register_resolution_l
        total = meter.origin_l + meter.indicated_l
        return math.floor(total / step + 1e-9) * step

    def gauge_pa(self, position: int, t: float) -> float:
        self.advance(t)
        if self.isolated_at is None:
            if self.mode == r.CMD_DELIVER:
                return self.line_air.pressure_pa - self.atmosphere_pa
            return self.line_gauge_pa
        leak = self.meters[position].behaviour.leak_pa_per_min * (t - self.isolated_at) / 60
        return max(0.0, self.line_gauge_pa - leak)

    def differential_pa(self, position: int, t: float) -> float:
        self.advance(t)
        behaviour = self.meters[position].behaviour
        q = self.flow_l_h()
        return behaviour.dp_at_qmax_pa * (q / behaviour.qmax_l_h) ** 2 * self.line_density() / 1.2


class TimeBase:
    """The controllers' reference frequency input: idle on a gas bench, counted all the same."""

    def count(self, t: float) -> int:
        return 0


class NoReference:
    """The controllers' reference input: nothing wired on a gas bench."""

    def count(self, t: float) -> int:
        return 0


class ControllerView:
    """What a simulated controller sees of a gas world: no pulse outputs wired."""

    def __init__(self) -> None:
        self.reference = NoReference()
        self.time_base = TimeBase()
        self.meters: dict[int, object] = {}


__all__ = ["Air", "ControllerView", "GasMeterBehaviour", "GasWorld"]
