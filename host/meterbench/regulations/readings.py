"""Readings per load point, the borderline re-test, and the judgement of a point.

Two readings per point [M]; their mean is rounded to the class interval and compared with the
limit. If the unrounded |mean| lies between 0.8 and 1.2 x MPE [M] two more readings are taken
and all four averaged. Everything is exact: readings come in as Fractions (from raw counts) or
Decimals, so a tie at the interval's midpoint is decided by the rule, not by float noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.regulations.limits import Limits
from meterbench.regulations.numbers import Number, to_decimal, to_fraction
from meterbench.regulations.profile import BorderlineSection
from meterbench.regulations.rounding import format_rounded, round_to_interval


@dataclass(frozen=True)
class BorderlineRule:
    """The re-test rule as plain values (``from_profile`` reads it from a profile)."""

    enabled: bool
    low: Decimal
    high: Decimal
    extra_readings: int

    @classmethod
    def from_profile(cls, section: BorderlineSection) -> BorderlineRule:
        return cls(
            section.enabled.value,
            section.low.value,
            section.high.value,
            section.extra_readings.value,
        )

    @classmethod
    def off(cls) -> BorderlineRule:
        return cls(False, Decimal(0), Decimal(0), 0)


@dataclass(frozen=True)
class PointJudgement:
    """A finished point: unrounded mean, rounded value and its display, and the two
    conclusions kept apart (``acceptance_pass`` is None when no acceptance limit applies)."""

    readings: tuple[Fraction, ...]
    mean: Fraction
    rounded: Decimal
    display: str
    interval: Decimal
    limits: Limits
    mpe_pass: bool
    acceptance_pass: bool | None

    @property
    def mean_decimal(self) -> Decimal:
        return to_decimal(self.mean)


def mean(values: Sequence[Number]) -> Fraction:
    """Exact arithmetic mean."""
    if not values:
        raise ValueError("no readings to average")
    return sum((to_fraction(v) for v in values), Fraction(0)) / len(values)


def is_borderline(mean_error: Number, mpe: Number, rule: BorderlineRule) -> bool:
    """Whether |mean| lies within [low, high] x MPE (both ends included) and the rule is on."""
    if not rule.enabled:
        return False
    magnitude = abs(to_fraction(mean_error))
    limit = to_fraction(mpe)
    return to_fraction(rule.low) * limit <= magnitude <= to_fraction(rule.high) * limit


def readings_still_needed(
    readings: Sequence[Number], mpe: Number, base_readings: int, rule: BorderlineRule
) -> int:
    """How many more readings the point needs: the base count first; then, once, the extra
    readings if the mean of the base readings is borderline. 0 means the point is complete."""
    if len(readings) < base_readings:
        return base_readings - len(readings)
    total = base_readings + rule.extra_readings
    if len(readings) >= total or not rule.enabled:
        return 0
    if is_borderline(mean(readings[:base_readings]), mpe, rule):
        return total - len(readings)
    return 0


def max_readings(base_readings: int, rule: BorderlineRule) -> int:
    """Most readings a point can take (base plus the borderline extras when enabled)."""
    return base_readings + (rule.extra_readings if rule.enabled else 0)


def judge_point(
    readings: Sequence[Number],
    limits: Limits,
    interval: Number,
    judge_on: str = "rounded",
) -> PointJudgement:
    """Mean, 化整 and both conclusions. Pass when |rounded mean| <= limit (``judge_on =
    'unrounded'`` compares the exact mean instead)."""
    values = tuple(to_fraction(v) for v in readings)
    average = mean(values)
    rounded = round_to_interval(average, interval)
    compared = to_fraction(rounded) if judge_on == "rounded" else average
    mpe_pass = abs(compared) <= to_fraction(limits.mpe)
    acceptance_pass = (
        None if limits.acceptance is None else abs(compared) <= to_fraction(limits.acceptance)
    )
    return PointJudgement(
        readings=values,
        mean=average,
        rounded=rounded,
        display=format_rounded(average, interval),
        interval=to_decimal(interval),
        limits=limits,
        mpe_pass=mpe_pass,
        acceptance_pass=acceptance_pass,
    )
