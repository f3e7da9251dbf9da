"""One physics model for the simulated electricity bench.

The source setpoint decides the true power; everything else derives from it. The reference
standard integrates true power with its own small class error and emits C0 pulses per kWh; every
position's meter integrates the same power with its own error behaviour and emits C pulses per
kWh; its registers advance with its measured energy (optionally faster, as a tampered meter's
would, and by load: ``sim.error_curves``); reverse energy (P-) emits pulses too but moves only
the reverse register, never the forward one; its clock emits second pulses at its own rate.
Setpoints are piecewise constant in time, so every count is computed exactly from the segment
history, whatever the time scale.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field

from meterbench.electrical import Setpoint, pf_to_angle
from meterbench.sim.error_curves import ErrorCurve

SECONDS_PER_DAY = 86400.0
J_PER_KWH = 3.6e6
GAUSS_MAX_SIGMA = 9.0  # above sqrt(-2 ln 2**-53) = 8.57, the most random.gauss can draw


# ---------------------------------------------------------------------------------------------
# Meter behaviour
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorPoint:
    """Error at one load point of a table: current as a multiple of Ib, power factor."""

    current_ib: float
    pf: str | float
    error_pct: float


@dataclass(frozen=True)
class ErrorModel:
    """How wrong a meter is: constant, plus a table over load points and PF, or a curve in
    current (I/Ib, linear interpolation), plus random noise redrawn every ``noise_interval_s``."""

    constant_pct: float = 0.0
    table: tuple[ErrorPoint, ...] = ()
    curve: tuple[tuple[float, float], ...] = ()
    noise_pct: float = 0.0
    noise_interval_s: float = 5.0

    def systematic_pct(self, current_a: float, ib_a: float, angle_deg: float) -> float:
        ratio = current_a / ib_a if ib_a else 0.0
        for point in self.table:
            if (
                math.isclose(point.current_ib, ratio, rel_tol=0.01)
                and abs(pf_to_angle(point.pf) - angle_deg) < 1.0
            ):
                return self.constant_pct + point.error_pct
        return self.constant_pct + self._curve_pct(ratio)

    def _curve_pct(self, ratio: float) -> float:
        if not self.curve:
            return 0.0
        xs = [x for x, _ in self.curve]
        i = bisect.bisect_left(xs, ratio)
        if i == 0:
            return self.curve[0][1]
        if i == len(xs):
            return self.curve[-1][1]
        (x0, y0), (x1, y1) = self.curve[i - 1], self.curve[i]
        return y0 + (y1 - y0) * (ratio - x0) / (x1 - x0)


@dataclass(frozen=True)
class MeterBehaviour:
    """Everything about one simulated meter's metrology that a bench can observe."""

    constant_imp_per_kwh: float
    ib_a: float
    error: ErrorModel = field(default_factory=ErrorModel)
    start_current_a: float = 0.0  # below this current the meter does not register
    creep_pulses_per_hour: float = 0.0  # pulses emitted at no load with voltage applied
    clock_error_s_per_day: float = 0.0
    register_bias_pct: float = 0.0  # registers run this much faster than the pulses
    pulse_curve: ErrorCurve = ErrorCurve()  # added to the pulses' error, by load
    register_curve: ErrorCurve = ErrorCurve()  # registers' error beyond the pulses', by load
    reverse_error_pct: float = 0.0  # added to pulses and registers for reverse energy only
    pulse_jitter_s: float = 0.0
    dead: bool = False  # emits no pulses at all
    seed: int = 0


class _Integrator:
    """Energy registered over piecewise-constant rates (kWh/s), with noise intervals.

    Noise multiplies the rate by a factor redrawn every ``noise_interval_s``. The energy at
    every interval boundary of a segment is memoised as it is first needed, so evaluating the
    energy or solving for the time of a pulse costs a bisection, not a walk from the start.
    """

    def __init__(self, noise_pct: float, noise_interval_s: float, seed: int) -> None:
        self._starts: list[float] = [0.0]
        self._rates: list[float] = [0.0]  # kWh per second, before noise
        self._energy_at_start: list[float] = [0.0]
        self._boundaries: list[list[float]] = [[]]  # per segment: energy at interval ends
        self._noise_pct = noise_pct
        self._noise_interval = noise_interval_s
        self._seed = seed
        self._noise_of: dict[int, float] = {}  # a seeded generator per draw is costly: once
        # A Gaussian draw of random.gauss never exceeds 8.6 sigma (its log of 1 - random()
        # is bounded), so below this noise no factor is negative and energy never falls.
        self._monotone = noise_pct * GAUSS_MAX_SIGMA < 100.0

    def set_rate(self, t: float, rate: float) -> None:
        if t < self._starts[-1]:
            raise ValueError("setpoints must be applied in time order")
        energy = self.energy(t)
        if t == self._starts[-1]:
            self._rates[-1] = rate
            self._boundaries[-1] = []
            return
        self._starts.append(t)
        self._rates.append(rate)
        self._energy_at_start.append(energy)
        self._boundaries.append([])

    def _noise(self, k: int) -> float:
        if not self._noise_pct:
            return 1.0
        factor = self._noise_of.get(k)
        if factor is None:
            draw = random.Random(self._seed * 1_000_003 + k).gauss(0.0, self._noise_pct)
            factor = self._noise_of[k] = 1.0 + draw / 100
        return factor

    def _end(self, i: int) -> float:
        return self._starts[i + 1] if i + 1 < len(self._starts) else math.inf

    def _boundary_energy(self, i: int, j: int) -> float:
        """Energy at the end of the j-th noise interval of segment i (j = 0 is the first,
        possibly partial, interval)."""
        known = self._boundaries[i]
        start = self._starts[i]
        k0 = math.floor(start / self._noise_interval)
        while len(known) <= j:
            n = len(known)
            a = start if n == 0 else (k0 + n) * self._noise_interval
            b = (k0 + n + 1) * self._noise_interval
            before = self._energy_at_start[i] if n == 0 else known[-1]
            known.append(before + self._rates[i] * self._noise(k0 + n) * (b - a))
        return known[j]

    def _segment_energy(self, i: int, t: float) -> float:
        start, rate = self._starts[i], self._rates[i]
        if rate == 0.0 or t <= start:
            return self._energy_at_start[i]
        if not self._noise_pct:
            return self._energy_at_start[i] + rate * (t - start)
        k0 = math.floor(start / self._noise_interval)
        k = math.floor(t / self._noise_interval)
        j = k - k0
        before = self._energy_at_start[i] if j == 0 else self._boundary_energy(i, j - 1)
        a = start if j == 0 else k * self._noise_interval
        return before + rate * self._noise(k) * (t - a)

    def energy(self, t: float) -> float:
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return 0.0
        return self._segment_energy(i, t)

    def time_of_energy(self, target: float, after: float) -> float | None:
        """Earliest time >= ``after`` at which the energy reaches ``target`` under the rates
        known now (None if it never does unless a setpoint changes)."""
        if self.energy(after) >= target:
            return after
        i = bisect.bisect_right(self._starts, after) - 1
        from_t = after
        while True:
            end = self._end(i)
            if self._rates[i] > 0:
                reached = self._solve(i, target, end, from_t)
                if reached is not None:
                    return max(reached, after)
            if end == math.inf:
                return None
            i += 1
            from_t = None

    def _solve(
        self, i: int, target: float, end: float, below_at: float | None = None
    ) -> float | None:
        """When segment i reaches ``target`` (None: not before ``end``); ``below_at``: an
        instant in the segment at which the energy is still below it, where the search for
        the interval may begin instead of at the segment's start."""
        start, rate = self._starts[i], self._rates[i]
        if not self._noise_pct:
            t = start + (target - self._energy_at_start[i]) / rate
            return t if t <= end else None
        if end != math.inf and self._segment_energy(i, end) < target:
            return None
        # Find the first interval whose end energy reaches the target (galloping search on
        # the memoised boundaries), then solve inside it.
        k0 = math.floor(start / self._noise_interval)
        if below_at is not None and self._monotone:
            lo = self._first_reaching(i, target, math.floor(below_at / self._noise_interval) - k0)
        else:
            hi = 1
            while self._boundary_energy(i, hi - 1) < target:
                hi *= 2
            lo = 0
            while lo < hi:
                mid = (lo + hi) // 2
                if self._boundary_energy(i, mid) < target:
                    lo = mid + 1
                else:
                    hi = mid
        j = lo
        before = self._energy_at_start[i] if j == 0 else self._boundary_energy(i, j - 1)
        a = start if j == 0 else (k0 + j) * self._noise_interval
        t = a + (target - before) / (rate * self._noise(k0 + j))
        return t if t <= end else None

    def _first_reaching(self, i: int, target: float, near: int) -> int:
        """The first interval of segment i whose end energy reaches ``target``, searched from
        interval ``near`` (where the energy is known to be below it) instead of the segment's
        start: boundary energies never fall (no noise factor below 0), so the first one that
        reaches the target is the same wherever a search below it begins. A pulse search
        starts at the previous pulse, so this costs a probe or two instead of a bisection
        over the whole segment."""
        lo = max(0, near - 1)  # the one before: rounding of the interval of ``near``
        if lo and self._boundary_energy(i, lo - 1) >= target:
            lo = 0  # every interval before lo ends below the target
        step = 1
        while self._boundary_energy(i, lo + step - 1) < target:
            lo += step
            step *= 2
        hi = lo + step - 1  # its end reaches the target
        while lo < hi:
            mid = (lo + hi) // 2
            if self._boundary_energy(i, mid) < target:
                lo = mid + 1
            else:
                hi = mid
        return lo


class MeterPhysics:
    """One meter under test: its test-output pulses, registers and clock second pulses."""

    def __init__(self, behaviour: MeterBehaviour) -> None:
        self.behaviour = behaviour
        rng = random.Random(behaviour.seed)
        self._pulse_phase = rng.random()  # where in its pulse period the meter starts
        self._second_phase = rng.random()
        model = behaviour.error
        self._meter = _Integrator(model.noise_pct, model.noise_interval_s, behaviour.seed)
        # The registers share the pulses' noise (same seed and intervals): they follow the
        # same measured energy, scaled by the register's own error at each load.
        self._forward = _Integrator(model.noise_pct, model.noise_interval_s, behaviour.seed)
        self._reverse = _Integrator(model.noise_pct, model.noise_interval_s, behaviour.seed)
        self.register_origin_kwh = 0.0
        self.reverse_origin_kwh = 0.0

    def apply(self, t: float, setpoint: Setpoint) -> None:
        b = self.behaviour
        rate = register_factor = 0.0
        if not b.dead and setpoint.voltage_present:
            current = setpoint.max_current_a
            power = abs(setpoint.active_power_w)
            if current > 0 and current >= b.start_current_a and power > 0:
                angle = setpoint.phases[0].angle_deg
                ratio = current / b.ib_a if b.ib_a else 0.0
                direction = setpoint.direction
                error = b.error.systematic_pct(current, b.ib_a, angle)
                error += b.pulse_curve.error_pct(ratio, angle, direction)
                if setpoint.reverse:
                    error += b.reverse_error_pct
                rate = power * (1 + error / 100) / J_PER_KWH
                register_factor = 1 + b.register_curve.error_pct(ratio, angle, direction) / 100
            elif current == 0 and b.creep_pulses_per_hour > 0:
                rate = b.creep_pulses_per_hour / b.constant_imp_per_kwh / 3600.0
                register_factor = 1.0
        reverse = setpoint.reverse and setpoint.output_on
        self._meter.set_rate(t, rate)
        self._forward.set_rate(t, 0.0 if reverse else rate * register_factor)
        self._reverse.set_rate(t, rate * register_factor if reverse else 0.0)

    # -- energy and pulses ---------------------------------------------------------------------
    def measured_energy_kwh(self, t: float) -> float:
        return self._meter.energy(t)

    def register_kwh(self, t: float) -> float:
        """What the meter's forward active energy register shows (total), including any
        register bias and register curve."""
        bias = 1 + self.behaviour.register_bias_pct / 100
        return self.register_origin_kwh + self._forward.energy(t) * bias

    def reverse_register_kwh(self, t: float) -> float:
        """What the meter's reverse active energy register shows (total)."""
        bias = 1 + self.behaviour.register_bias_pct / 100
        return self.reverse_origin_kwh + self._reverse.energy(t) * bias

    def pulse_count(self, t: float) -> int:
        return math.floor(
            self.measured_energy_kwh(t) * self.behaviour.constant_imp_per_kwh + self._pulse_phase
        )

    def pulse_times(self, t0: float, t1: float) -> list[float]:
        """Times of the test-output pulses in (t0, t1], jitter included."""
        constant = self.behaviour.constant_imp_per_kwh
        times = []
        start = t0
        n = self.pulse_count(t0)
        while True:
            target = (n + 1 - self._pulse_phase) / constant
            t = self._meter.time_of_energy(target, t0)
            if t is None or t > t1:
                break
            n += 1
            # A pulse exactly at t0 belongs to the previous interval (rounding may count it
            # again here when an interval ends on a pulse, as a woken-on-time device's do).
            if t > start:
                times.append(t + self._jitter(n))
            t0 = t
        return times

    def next_pulse_time(self, t: float) -> float:
        """When the first test-output pulse after ``t`` falls due (before jitter) under the
        setpoints known now; inf if none does."""
        constant = self.behaviour.constant_imp_per_kwh
        n = self.pulse_count(t)
        while True:
            target = (n + 1 - self._pulse_phase) / constant
            due = self._meter.time_of_energy(target, t)
            if due is None:
                return math.inf
            if due > t:  # one exactly at t (rounding) was already due: as in pulse_times
                return due
            n += 1

    def next_second_pulse_time(self, t: float) -> float:
        """When the meter's clock output gives its first second pulse after ``t``."""
        rate = 1 + self.behaviour.clock_error_s_per_day / SECONDS_PER_DAY
        return (math.floor(t * rate + self._second_phase) + 1 - self._second_phase) / rate

    def _jitter(self, n: int) -> float:
        amount = self.behaviour.pulse_jitter_s
        if not amount:
            return 0.0
        return random.Random(self.behaviour.seed * 7919 + n).uniform(-amount, amount)

    # -- clock ----------------------------------------------------------------------------------
    def second_pulse_times(self, t0: float, t1: float) -> list[float]:
        """Edges of the meter's 1 Hz clock output in (t0, t1]: its clock runs
        (1 + e/86400) times as fast as true time."""
        rate = 1 + self.behaviour.clock_error_s_per_day / SECONDS_PER_DAY
        first = math.floor(t0 * rate + self._second_phase) + 1
        out = []
        k = first
        while True:
            t = (k - self._second_phase) / rate
            if t > t1:
                return out
            if t > t0:  # one exactly at t0 was the previous interval's
                out.append(t)
            k += 1


class ReferenceStandard:
    """The reference meter: C0 pulses per kWh of true energy in either direction (its pulse
    output follows the direction it is set to measure), with its own small error."""

    def __init__(self, constant_imp_per_kwh: float, error_pct: float = 0.0) -> None:
        self.constant = constant_imp_per_kwh
        self.error_pct = error_pct
        self._energy = _Integrator(0.0, 1.0, 0)
        # the same energy kept apart by direction, for a whole run's register check
        self._forward = _Integrator(0.0, 1.0, 0)
        self._reverse = _Integrator(0.0, 1.0, 0)

    def apply(self, t: float, setpoint: Setpoint) -> None:
        power = abs(setpoint.active_power_w)
        rate = power * (1 + self.error_pct / 100) / J_PER_KWH
        reverse = setpoint.reverse and setpoint.output_on
        self._energy.set_rate(t, rate)
        self._forward.set_rate(t, 0.0 if reverse else rate)
        self._reverse.set_rate(t, rate if reverse else 0.0)

    def energy_kwh(self, t: float) -> float:
        return self._energy.energy(t)

    def direction_energy_kwh(self, t: float, reverse: bool) -> float:
        """Energy of one direction since the start of the simulation (P- if ``reverse``)."""
        return (self._reverse if reverse else self._forward).energy(t)

    def count(self, t: float) -> int:
        """Reference pulses emitted since the start of the simulation, at time t."""
        return math.floor(self._energy.energy(t) * self.constant)


class TimeBase:
    """An external reference frequency (e.g. 10 MHz) counted by the controllers."""

    def __init__(self, frequency_hz: float, error_ppm: float = 0.0) -> None:
        self.frequency_hz = frequency_hz
        self.error_ppm = error_ppm

    def count(self, t: float) -> int:
        return math.floor(t * self.frequency_hz * (1 + self.error_ppm * 1e-6))


class ElectricityWorld:
    """The shared world: one source, one reference, many meters, all on one time line."""

    def __init__(
        self,
        reference: ReferenceStandard,
        meters: dict[int, MeterPhysics],
        time_base: TimeBase | None = None,
    ) -> None:
        self.reference = reference
        self.meters = meters
        self.time_base = time_base or TimeBase(10e6)
        self.setpoint = Setpoint.off()
        self.setpoint_since = 0.0
        self.version = 0  # counts setpoint changes: predictions made before one are stale

    def apply(self, t: float, setpoint: Setpoint) -> None:
        """The source output changes at time t (settling is the source model's business)."""
        self.setpoint = setpoint
        self.setpoint_since = t
        self.version += 1
        self.reference.apply(t, setpoint)
        for meter in self.meters.values():
            meter.apply(t, setpoint)
