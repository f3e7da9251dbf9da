"""Clock daily error (时钟日计时误差) from the meter's 1 Hz second pulse.

Each reading is the mean period T of the nominal 1 s pulse over a gate, timed against an
external reference time base; daily error = (1 − T)/T × 86400 s/d (positive = clock fast).
Five readings are averaged and rounded to 0.01 s/d; the meter fails if any single reading or the
rounded mean is beyond ±0.5 s/d. Single readings are compared as displayed, i.e. rounded to the
same interval [D], so a reading shown as +0.50 never fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.regulations.numbers import Number, to_decimal, to_fraction
from meterbench.regulations.profile import ClockSection
from meterbench.regulations.readings import mean
from meterbench.regulations.rounding import format_rounded, round_to_interval

SECONDS_PER_DAY = 86_400


def period_from_counts(reference_ticks: int, reference_hz: Number, cycles: int) -> Fraction:
    """Mean period in seconds: ``reference_ticks`` of a ``reference_hz`` time base counted
    between the first and the last of ``cycles`` + 1 second-pulse edges."""
    if cycles <= 0 or reference_ticks <= 0:
        raise ValueError("cycles and reference ticks must be positive")
    return Fraction(reference_ticks) / (to_fraction(reference_hz) * cycles)


def daily_error(period_s: Number, nominal_period_s: Number = 1) -> Fraction:
    """(Tn − T)/T × 86400 s/d for a pulse whose nominal period is Tn (1 s)."""
    t = to_fraction(period_s)
    if t <= 0:
        raise ValueError("a period must be positive")
    tn = to_fraction(nominal_period_s)
    return (tn - t) / t * SECONDS_PER_DAY


def daily_error_from_frequency(frequency_hz: Number, nominal_hz: Number = 1) -> Fraction:
    """(f − fn)/fn × 86400: the same quantity from a measured frequency (used to calibrate the
    bench's own time base)."""
    fn = to_fraction(nominal_hz)
    return (to_fraction(frequency_hz) - fn) / fn * SECONDS_PER_DAY


@dataclass(frozen=True)
class ClockJudgement:
    readings: tuple[Fraction, ...]
    mean: Fraction
    rounded: Decimal
    display: str
    limit: Decimal
    failing_readings: tuple[int, ...]
    passed: bool


def judge_clock(
    readings_s_per_day: Sequence[Number], limit: Number, interval: Number = Decimal("0.01")
) -> ClockJudgement:
    """Mean of the readings rounded to ``interval``; fail if any reading (rounded to the same
    interval) or the rounded mean is beyond ±``limit``. ``failing_readings`` lists the (0-based)
    readings beyond the limit."""
    values = tuple(to_fraction(r) for r in readings_s_per_day)
    average = mean(values)
    rounded = round_to_interval(average, interval)
    bound = to_fraction(limit)
    failing = tuple(
        i for i, v in enumerate(values) if abs(to_fraction(round_to_interval(v, interval))) > bound
    )
    return ClockJudgement(
        readings=values,
        mean=average,
        rounded=rounded,
        display=format_rounded(average, interval),
        limit=to_decimal(limit),
        failing_readings=failing,
        passed=not failing and abs(to_fraction(rounded)) <= bound,
    )


def judge_clock_profile(
    readings_s_per_day: Sequence[Number], clock: ClockSection
) -> ClockJudgement:
    """``judge_clock`` with the limit and rounding interval of a profile's clock section."""
    return judge_clock(
        readings_s_per_day, clock.limit_s_per_day.value, clock.rounding_s_per_day.value
    )


def timebase_max_ppm(limit_s_per_day: Number, ratio: Number) -> Decimal:
    """Largest time-base error (ppm) that keeps the reference's share within ``ratio`` of the
    limit: ±0.5 s/d is 5.79 ppm in all, so 1/10 of it is about 0.58 ppm."""
    return to_decimal(to_fraction(limit_s_per_day) * to_fraction(ratio) / SECONDS_PER_DAY * 10**6)
