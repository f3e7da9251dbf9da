"""Standard deviation estimate (标准偏差估计值, repeatability) for classes 0.2S and 0.5S.

s = sqrt(Σ(γi − γ̄)² / (n − 1)) over n readings at one point (Bessel), rounded to the class's
std-dev interval and compared with the profile limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from meterbench.regulations.numbers import CONTEXT, Number, to_decimal, to_fraction
from meterbench.regulations.profile import ElectricityProfile, Sourced
from meterbench.regulations.readings import mean
from meterbench.regulations.rounding import format_rounded, round_to_interval


def sample_variance(values: Sequence[Number]) -> Decimal:
    """Σ(x − x̄)²/(n − 1), exact until the final division."""
    if len(values) < 2:
        raise ValueError("a sample standard deviation needs at least two values")
    fractions = [to_fraction(v) for v in values]
    average = mean(fractions)
    squares = sum(((x - average) ** 2 for x in fractions), start=to_fraction(0))
    return to_decimal(squares / (len(fractions) - 1))


def std_dev(values: Sequence[Number]) -> Decimal:
    """Sample (Bessel, n − 1) standard deviation."""
    return CONTEXT.sqrt(sample_variance(values))


def std_dev_limit(profile: ElectricityProfile, meter_class: str) -> Sourced[Decimal] | None:
    """The class's limit on s, or None when the profile does not require the test for it."""
    if profile.std_dev is None:
        return None
    for row in profile.std_dev.limits:
        if row.cls == meter_class:
            return Sourced(row.limit, (row,))
    return None


@dataclass(frozen=True)
class StdDevJudgement:
    s: Decimal
    rounded: Decimal
    display: str
    limit: Decimal
    passed: bool


def judge_std_dev(values: Sequence[Number], limit: Number, interval: Number) -> StdDevJudgement:
    """s, rounded to ``interval``, passes when not above ``limit``."""
    s = std_dev(values)
    rounded = round_to_interval(s, interval)
    return StdDevJudgement(
        s=s,
        rounded=rounded,
        display=format_rounded(s, interval).lstrip("+"),
        limit=to_decimal(limit),
        passed=rounded <= to_decimal(limit),
    )
