"""Starting test (起动试验): the starting current Ist and the time t0 within which the meter must
emit its first pulse at Ist.

t0 [min] = k · 60 · 1000 / (C · m · Un · Ist): 60·1000/(C·m·Un·Ist) is the theoretical time of
one pulse at Ist, and k (1.2 under JJG 596-2012) is the profile's margin on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from meterbench.regulations.lookup import find_row
from meterbench.regulations.numbers import CONTEXT, Number, to_decimal
from meterbench.regulations.profile import ElectricityProfile, Sourced


def starting_current_factor(
    profile: ElectricityProfile, meter_class: str, connection: str
) -> Sourced[Decimal]:
    """Ist as a multiple of Ib (direct) or In (transformer-operated) for the class."""
    row = find_row(
        profile.starting.current,
        lambda r: r.cls == meter_class and r.connection == connection,
        f"starting current for class {meter_class}, {connection}-connected",
        profile.id,
    )
    return Sourced(row.factor, (row,))


def starting_current(
    profile: ElectricityProfile, meter_class: str, connection: str, base_current_a: Number
) -> Sourced[Decimal]:
    """Ist in amperes: factor x Ib (or In)."""
    factor = starting_current_factor(profile, meter_class, connection)
    return Sourced(factor.value * to_decimal(base_current_a), factor.basis)


def one_pulse_time_min(constant: Number, m: Number, un_v: Number, current_a: Number) -> Decimal:
    """Minutes one pulse takes at the given current: 60·1000 / (C·m·Un·I)."""
    denominator = CONTEXT.multiply(
        CONTEXT.multiply(to_decimal(constant), to_decimal(m)),
        CONTEXT.multiply(to_decimal(un_v), to_decimal(current_a)),
    )
    if denominator <= 0:
        raise ValueError("constant, m, Un and current must all be positive")
    return CONTEXT.divide(Decimal(60_000), denominator)


def starting_time_min(
    k: Number, constant: Number, m: Number, un_v: Number, ist_a: Number
) -> Decimal:
    """t0 [min] = k·60·1000/(C·m·Un·Ist)."""
    return CONTEXT.multiply(to_decimal(k), one_pulse_time_min(constant, m, un_v, ist_a))


def starting_time(
    profile: ElectricityProfile, constant: Number, m: Number, un_v: Number, ist_a: Number
) -> Sourced[Decimal]:
    """t0 in minutes with the profile's coefficient k."""
    k = profile.starting.time_coefficient
    return Sourced(starting_time_min(k.value, constant, m, un_v, ist_a), (k,))


def judge_starting(pulse_times_s: Sequence[Number], t0_s: Number, required_pulses: int = 1) -> bool:
    """Pass when the meter emitted ``required_pulses`` pulses and the n-th came no later than
    n x t0 after the current was applied (n = 1: the first pulse before t0)."""
    if required_pulses < 1:
        raise ValueError("required_pulses must be at least 1")
    times = sorted(to_decimal(t) for t in pulse_times_s)
    if len(times) < required_pulses:
        return False
    return times[required_pulses - 1] <= required_pulses * to_decimal(t0_s)
