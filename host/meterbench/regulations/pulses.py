"""The standard-meter (pulse comparison) method: error from raw counts, and how many meter
pulses to gate each reading with.

While the meter under test emits N pulses the reference standard emits m. For a meter without
error it would emit m0 = C0·N/(C·K_I·K_U), so γ = (m0 − m)/m × 100 % (positive = meter fast).
K_I, K_U are the transformer ratios through which the standard is connected [M: where they enter
depends on the bench wiring, so they stay explicit parameters].

N is chosen as small as the rules allow: the counting resolution 1/m0 must be at most
``resolution_ratio`` (1/10) of the rounding interval, and a reading must last at least
``min_reading_s`` seconds; more pulses than that only make the bench slower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.regulations.numbers import CONTEXT, Number, to_decimal, to_fraction

SECONDS_PER_KWH_W = 3_600_000
"""One kWh in watt-seconds: pulse frequency f = P·C / 3.6e6 for P in W and C in imp/kWh."""


def expected_reference_pulses(
    reference_constant: Number,
    meter_pulses: int,
    meter_constant: Number,
    k_i: Number = 1,
    k_u: Number = 1,
) -> Fraction:
    """m0 = C0·N/(C·K_I·K_U): reference pulses for N meter pulses from an error-free meter."""
    denominator = to_fraction(meter_constant) * to_fraction(k_i) * to_fraction(k_u)
    if denominator <= 0 or meter_pulses <= 0:
        raise ValueError("constants, ratios and N must be positive")
    return to_fraction(reference_constant) * meter_pulses / denominator


def error_from_counts(
    reference_pulses: int,
    meter_pulses: int,
    meter_constant: Number,
    reference_constant: Number,
    k_i: Number = 1,
    k_u: Number = 1,
    reference_error_pct: Number = 0,
) -> Fraction:
    """γ = (m0 − m)/m × 100 % (+ γ0, the standard's known error, when corrected), exactly."""
    if reference_pulses <= 0:
        raise ValueError("no reference pulses counted")
    m0 = expected_reference_pulses(reference_constant, meter_pulses, meter_constant, k_i, k_u)
    m = Fraction(reference_pulses)
    return (m0 - m) / m * 100 + to_fraction(reference_error_pct)


def pulse_frequency_hz(power_w: Number, constant: Number) -> Decimal:
    """f = P·C/3.6e6 pulses per second."""
    return CONTEXT.divide(
        CONTEXT.multiply(to_decimal(power_w), to_decimal(constant)), Decimal(SECONDS_PER_KWH_W)
    )


@dataclass(frozen=True)
class PulseChoice:
    """Pulses per reading and why: ``for_resolution`` and ``for_time`` are the two lower
    bounds (``for_resolution`` is None without a reference constant), ``pulses`` their maximum."""

    pulses: int
    for_resolution: int | None
    for_time: int
    min_pulses: int
    min_reference_pulses: Fraction | None
    expected_reference_pulses: Fraction | None
    resolution_pct: Fraction | None
    reading_time_s: Decimal


def min_reference_pulses(interval_pct: Number, resolution_ratio: Number) -> Fraction:
    """Smallest m0 with 100/m0 % <= ratio x interval: 10 000 for a 0.1 % interval at 1/10."""
    target = to_fraction(resolution_ratio) * to_fraction(interval_pct)
    if target <= 0:
        raise ValueError("interval and ratio must be positive")
    return Fraction(100) / target


def choose_pulses(
    power_w: Number,
    meter_constant: Number,
    interval_pct: Number,
    resolution_ratio: Number,
    min_reading_s: Number,
    min_pulses: int = 1,
    reference_constant: Number | None = None,
    k_i: Number = 1,
    k_u: Number = 1,
) -> PulseChoice:
    """The fewest meter pulses per reading that meet the resolution and time rules."""
    if to_decimal(power_w) <= 0:
        raise ValueError("power must be positive to size a reading")
    c = to_fraction(meter_constant)
    # N_time = ceil(P·t·C/3.6e6); power may be irrational (sqrt 3), so Decimal here.
    energy_pulses = CONTEXT.divide(
        CONTEXT.multiply(
            CONTEXT.multiply(to_decimal(power_w), to_decimal(min_reading_s)), to_decimal(c)
        ),
        Decimal(SECONDS_PER_KWH_W),
    )
    for_time = int(energy_pulses.to_integral_value(rounding="ROUND_CEILING"))
    for_resolution = None
    m0_min = None
    if reference_constant is not None:
        m0_min = min_reference_pulses(interval_pct, resolution_ratio)
        ratio = c * to_fraction(k_i) * to_fraction(k_u) / to_fraction(reference_constant)
        for_resolution = math.ceil(m0_min * ratio)
    pulses = max(min_pulses, for_time, for_resolution or 0)
    m0 = None
    resolution = None
    if reference_constant is not None:
        m0 = expected_reference_pulses(reference_constant, pulses, c, k_i, k_u)
        resolution = Fraction(100) / m0
    seconds = CONTEXT.divide(
        Decimal(pulses * SECONDS_PER_KWH_W), CONTEXT.multiply(to_decimal(power_w), to_decimal(c))
    )
    return PulseChoice(
        pulses=pulses,
        for_resolution=for_resolution,
        for_time=for_time,
        min_pulses=min_pulses,
        min_reference_pulses=m0_min,
        expected_reference_pulses=m0,
        resolution_pct=resolution,
        reading_time_s=seconds,
    )
