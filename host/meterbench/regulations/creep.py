"""No-load (creep) test (潜动试验): voltage on, no current, at most one pulse in Δt.

Δt [min] >= K · 10^6 / (C · m · Un · I), with I = Imax under JJG 596-2012 and the IEC editions
before IEC 62052-11:2020 (which bases the duration on Ist instead; the profile names the basis).
"""

from __future__ import annotations

from decimal import Decimal

from meterbench.regulations.lookup import find_row
from meterbench.regulations.numbers import CONTEXT, Number, to_decimal
from meterbench.regulations.profile import ElectricityProfile, Sourced


def creep_coefficient(profile: ElectricityProfile, meter_class: str) -> Sourced[Decimal]:
    """K for the class (900 for 0.2S, 600 for 0.5S/1, 480 for 2 under JJG 596-2012)."""
    row = find_row(
        profile.creep.coefficient,
        lambda r: r.cls == meter_class,
        f"creep coefficient for class {meter_class}",
        profile.id,
    )
    return Sourced(row.k, (row,))


def creep_voltage(profile: ElectricityProfile, un_v: Number) -> Sourced[Decimal]:
    """Test voltage: factor (1.15 under JJG 596-2012) x Un."""
    factor = profile.creep.voltage_factor
    return Sourced(factor.value * to_decimal(un_v), (factor,))


def creep_duration_min(
    k: Number, constant: Number, m: Number, un_v: Number, current_a: Number
) -> Decimal:
    """Δt [min] = K·10^6/(C·m·Un·I)."""
    denominator = CONTEXT.multiply(
        CONTEXT.multiply(to_decimal(constant), to_decimal(m)),
        CONTEXT.multiply(to_decimal(un_v), to_decimal(current_a)),
    )
    if denominator <= 0:
        raise ValueError("constant, m, Un and current must all be positive")
    return CONTEXT.divide(CONTEXT.multiply(to_decimal(k), Decimal(10) ** 6), denominator)


def creep_duration(
    profile: ElectricityProfile,
    meter_class: str,
    constant: Number,
    m: Number,
    un_v: Number,
    imax_a: Number,
    ist_a: Number | None = None,
) -> Sourced[Decimal]:
    """Minimum creep duration in minutes for the profile's current basis (Imax or Ist)."""
    k = creep_coefficient(profile, meter_class)
    basis = profile.creep.current_basis
    if basis.value == "ist":
        if ist_a is None:
            raise ValueError(f"profile {profile.id} bases the creep time on Ist: pass ist_a")
        current = ist_a
    else:
        current = imax_a
    return Sourced(creep_duration_min(k.value, constant, m, un_v, current), (*k.basis, basis))


def judge_creep(pulses: int, max_pulses: int) -> bool:
    """Pass when the test output emitted no more than ``max_pulses`` pulses (1: fail on the
    second)."""
    if pulses < 0:
        raise ValueError("a pulse count cannot be negative")
    return pulses <= max_pulses
