"""Maximum permissible errors and rounding intervals for electricity meters, looked up in the
profile by class, connection (direct Ib bands vs CT In bands), power factor, current band and
balanced vs single-element load. A utility's acceptance limit is a separate value, never an MPE.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from meterbench.regulations.expressions import Rating
from meterbench.regulations.intervals import contains, current_band, resolve_band
from meterbench.regulations.lookup import NotInProfile, find_row
from meterbench.regulations.numbers import Number, plain, to_decimal, to_fraction
from meterbench.regulations.power_factor import canonical_pf
from meterbench.regulations.profile import ElectricityProfile, MpeRow, Sourced


@dataclass(frozen=True)
class Limits:
    """The limits one point is judged against: the regulatory ``mpe`` (legal conclusion) and
    an optional, tighter ``acceptance`` limit (customer conclusion). Both are symmetric, in %."""

    mpe: Decimal
    acceptance: Decimal | None = None

    def __post_init__(self) -> None:
        if self.mpe <= 0:
            raise ValueError("an MPE must be positive")
        if self.acceptance is not None and not 0 < self.acceptance <= self.mpe:
            raise ValueError("an acceptance limit must be positive and not wider than the MPE")


def check_class(profile: ElectricityProfile, meter_class: str, connection: str) -> None:
    """Raise NotInProfile when the profile does not cover the class, or not with this
    connection (0.2S/0.5S are transformer-operated only under JJG 596-2012)."""
    supported = profile.classes.supported.value
    if meter_class not in supported:
        raise NotInProfile(
            f"profile {profile.id} does not cover class {meter_class} "
            f"(covers {', '.join(supported)})"
        )
    ct_only = profile.classes.transformer_only
    if ct_only is not None and meter_class in ct_only.value and connection != "ct":
        raise NotInProfile(
            f"profile {profile.id}: class {meter_class} is for transformer-operated meters only"
        )


def mpe_lookup(
    profile: ElectricityProfile,
    meter_class: str,
    connection: str,
    pf: object,
    current_a: Number,
    rating: Rating,
    element: str = "all",
) -> Sourced[Decimal]:
    """MPE in % for one load point. ``element`` 'all' uses the balanced table, 'A'/'B'/'C' the
    single-element table. Bands come from the profile with their edges ([ includes, ) excludes)."""
    check_class(profile, meter_class, connection)
    pf_text = canonical_pf(pf)
    current = to_fraction(current_a)
    table = profile.mpe.balanced if element == "all" else profile.mpe.single_element
    load = "balanced" if element == "all" else "single-element"

    def applies(row: MpeRow) -> bool:
        return (
            row.connection == connection
            and pf_text in row.pf
            and meter_class in row.mpe
            and contains(resolve_band(current_band(row.current), rating), current)
        )

    try:
        row = find_row(table, applies, "", profile.id)
    except NotInProfile:
        raise NotInProfile(
            f"profile {profile.id} has no {load} MPE for class {meter_class}, "
            f"{connection}-connected, PF {pf_text} at {plain(current)} A"
            + _band_hint(table, connection, pf_text, meter_class)
        ) from None
    return Sourced(row.mpe[meter_class], (row,))


def rounding_interval(
    profile: ElectricityProfile,
    meter_class: str,
    quantity: Literal["error", "std_dev"] = "error",
) -> Sourced[Decimal]:
    """The 化整 interval in % for relative errors or for the standard-deviation estimate."""
    row = find_row(
        profile.rounding.intervals,
        lambda r: r.cls == meter_class,
        f"rounding interval for class {meter_class}",
        profile.id,
    )
    value = row.error if quantity == "error" else row.std_dev
    if value is None:
        raise NotInProfile(f"profile {profile.id} has no std-dev interval for class {meter_class}")
    return Sourced(value, (row,))


def single_element_difference_limit(
    profile: ElectricityProfile, meter_class: str
) -> Sourced[Decimal] | None:
    """IEC limit on |single-element error - balanced error| at its point, if the profile has one."""
    for row in profile.mpe.single_element_difference:
        if row.cls == meter_class:
            return Sourced(row.limit, (row,))
    return None


def acceptance_limit(mpe: Number, fraction_of_mpe: Number) -> Decimal:
    """A customer's acceptance limit as a fraction of the MPE (e.g. 0.6 x 2.0 % = 1.2 %)."""
    fraction = to_decimal(fraction_of_mpe)
    if not 0 < fraction <= 1:
        raise ValueError("an acceptance fraction must be in (0, 1]")
    return to_decimal(mpe) * fraction


def _band_hint(table: list[MpeRow], connection: str, pf: str, meter_class: str) -> str:
    bands = [
        r.current
        for r in table
        if r.connection == connection and pf in r.pf and meter_class in r.mpe
    ]
    if not bands:
        return " (no band at all for this PF)"
    return f" (bands: {', '.join(bands)})"
