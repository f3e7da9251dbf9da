"""Register (走字) test: the energy register against the reference standard and against the
meter's own pulses, and the tariff-combination check.

The register error is (ΔW_register − W_reference)/W_reference × 100 %. Separately, the register
must not run ahead of the test output: its advance may exceed the energy of the pulses the meter
emitted (N/C) only by the quantisation of the last digit. The test energy is chosen so that the
register's digit is a small fraction of the MPE: W >= k·d / (ratio × MPE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.regulations.numbers import Number, to_decimal, to_fraction
from meterbench.regulations.rounding import round_to_interval


def register_error(register_advance_kwh: Number, reference_energy_kwh: Number) -> Fraction:
    """(ΔW_register − W_reference)/W_reference × 100 %."""
    reference = to_fraction(reference_energy_kwh)
    if reference <= 0:
        raise ValueError("reference energy must be positive")
    return (to_fraction(register_advance_kwh) - reference) / reference * 100


def pulse_energy_kwh(meter_pulses: int, meter_constant: Number) -> Fraction:
    """Energy the meter's test output stands for: N/C kWh."""
    return Fraction(meter_pulses) / to_fraction(meter_constant)


def register_vs_pulses_error(
    register_advance_kwh: Number, meter_pulses: int, meter_constant: Number
) -> Fraction:
    """(ΔW_register − N/C)/(N/C) × 100 %: does the register follow the test-output constant?"""
    if meter_pulses <= 0:
        raise ValueError("no meter pulses counted")
    return register_error(register_advance_kwh, pulse_energy_kwh(meter_pulses, meter_constant))


def register_ahead_of_pulses(
    register_advance_kwh: Number,
    meter_pulses: int,
    meter_constant: Number,
    resolution_kwh: Number,
    tolerance_digits: int = 1,
) -> bool:
    """True when the register advanced more than the pulses justify plus ``tolerance_digits``
    digits of quantisation: the fault a register that runs ahead of its pulses shows."""
    excess = to_fraction(register_advance_kwh) - pulse_energy_kwh(meter_pulses, meter_constant)
    return excess > tolerance_digits * to_fraction(resolution_kwh)


def register_test_energy_kwh(
    resolution_kwh: Number, mpe_pct: Number, ratio: Number, k: Number = 1
) -> Decimal:
    """Smallest test energy whose reading quantisation k·d is at most ``ratio`` x MPE,
    rounded up to a whole number of register digits."""
    d = to_fraction(resolution_kwh)
    allowed = to_fraction(ratio) * to_fraction(mpe_pct) / 100
    if d <= 0 or allowed <= 0:
        raise ValueError("resolution, MPE and ratio must be positive")
    digits = -(-(to_fraction(k) * d / allowed) // d)  # ceil in digits
    return to_decimal(digits * d)


def tariff_combination_ok(
    total_advance_kwh: Number,
    tariff_advances_kwh: Sequence[Number],
    resolution_kwh: Number,
    digits_per_extra_tariff: int = 1,
) -> bool:
    """|ΔW_total − ΣΔW_tariffs| <= (n − 1) x digits x d, n = tariffs that advanced (JJG 691)."""
    advanced = [to_fraction(a) for a in tariff_advances_kwh if to_fraction(a) != 0]
    allowed = max(len(advanced) - 1, 0) * digits_per_extra_tariff * to_fraction(resolution_kwh)
    return abs(to_fraction(total_advance_kwh) - sum(advanced, Fraction(0))) <= allowed


@dataclass(frozen=True)
class SpanJudgement:
    """A register's advance over a whole run against the reference energy of its direction:
    the error, the limit it is judged by (MPE plus the reading quantisation), and whether the
    run gave enough energy to judge at all (``judged``)."""

    error_pct: Fraction | None
    rounded: Decimal | None
    limit_pct: Decimal
    quantisation_pct: Decimal | None
    judged: bool
    passed: bool


def register_span_judgement(
    advance_kwh: Number,
    reference_kwh: Number,
    mpe_pct: Number,
    digit_kwh: Number,
    reading_digits: Number,
    max_digit_share: Number,
    rounding: Decimal,
) -> SpanJudgement:
    """Whole-run register check of one direction. The quantisation of the two readings
    (k digits of d) widens the limit by 100·k·d/W; when that widening is more than
    ``max_digit_share`` of the MPE the run had too little energy and is not judged. With no
    reference energy at all the register must not advance by more than the quantisation."""
    advance, reference = to_fraction(advance_kwh), to_fraction(reference_kwh)
    mpe = to_fraction(mpe_pct)
    slack_kwh = to_fraction(reading_digits) * to_fraction(digit_kwh)
    if reference <= 0:
        passed = abs(advance) <= slack_kwh
        return SpanJudgement(None, None, to_decimal(mpe), None, not passed, passed)
    quantisation = slack_kwh / reference * 100
    limit = to_decimal(mpe + quantisation)
    if quantisation > to_fraction(max_digit_share) * mpe:
        return SpanJudgement(None, None, limit, to_decimal(quantisation), False, True)
    error = register_error(advance, reference)
    rounded = round_to_interval(error, rounding)
    return SpanJudgement(
        error, rounded, limit, to_decimal(quantisation), True, abs(rounded) <= limit
    )
