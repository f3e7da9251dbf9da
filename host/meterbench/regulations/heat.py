"""Heat meters: the component MPEs and their sum, the flow and temperature-difference points,
and the error of a heat or volume indication.

Why pure functions over the profile: the same MPE must come out of ``plan show``, the runner's
verdict and a record recomputed years later, so the formulas take the profile's coefficients as
data and compute exactly (Fraction), with the profile entries they used returned alongside.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.regulations.heat_profile import HeatProfile, delta_theta_value
from meterbench.regulations.lookup import NotInProfile, find_row
from meterbench.regulations.numbers import Number, plain, to_decimal, to_fraction
from meterbench.regulations.profile import Sourced


@dataclass(frozen=True)
class HeatRates:
    """The nameplate flow rates (m³/h) and temperature differences (K), exact."""

    qi: Fraction
    qp: Fraction
    qs: Fraction
    dt_min: Fraction
    dt_max: Fraction

    def base(self, name: str) -> Fraction:
        return {"qi": self.qi, "qp": self.qp, "qs": self.qs}[name]


def heat_rates(
    qi_m3h: Number, qp_m3h: Number, qs_m3h: Number, dt_min_k: Number, dt_max_k: Number
) -> HeatRates:
    """Exact nameplate values; ValueError when they are not ordered qi < qp <= qs and
    0 < Δθmin < Δθmax."""
    qi, qp, qs = to_fraction(qi_m3h), to_fraction(qp_m3h), to_fraction(qs_m3h)
    dt_min, dt_max = to_fraction(dt_min_k), to_fraction(dt_max_k)
    if not 0 < qi < qp <= qs:
        raise ValueError("flow rates must satisfy 0 < qi < qp <= qs")
    if not 0 < dt_min < dt_max:
        raise ValueError("temperature differences must satisfy 0 < Δθmin < Δθmax")
    return HeatRates(qi, qp, qs, dt_min, dt_max)


def _check_class(profile: HeatProfile, meter_class: str) -> None:
    supported = profile.classes.supported.value
    if meter_class not in supported:
        raise NotInProfile(
            f"profile {profile.id} does not cover class {meter_class} "
            f"(covers {', '.join(supported)})"
        )


def flow_sensor_mpe(
    profile: HeatProfile, meter_class: str, qp_m3h: Number, q_m3h: Number
) -> Sourced[Fraction]:
    """Ef = a + b·qp/q (%), but never more than the class's cap."""
    _check_class(profile, meter_class)
    q = to_fraction(q_m3h)
    if q <= 0:
        raise ValueError("the flow rate must be positive")
    row = find_row(
        profile.mpe.flow_sensor,
        lambda r: r.cls == meter_class,
        f"flow-sensor MPE for class {meter_class}",
        profile.id,
    )
    value = to_fraction(row.a) + to_fraction(row.b) * to_fraction(qp_m3h) / q
    return Sourced(min(value, to_fraction(row.cap)), (row,))


def _dt_term(a: Decimal, b: Decimal, dt_min_k: Number, dt_k: Number) -> Fraction:
    dt = to_fraction(dt_k)
    if dt <= 0:
        raise ValueError("the temperature difference must be positive")
    return to_fraction(a) + to_fraction(b) * to_fraction(dt_min_k) / dt


def temperature_pair_mpe(profile: HeatProfile, dt_min_k: Number, dt_k: Number) -> Sourced[Fraction]:
    """Et = a + b·Δθmin/Δθ (%) for the pair of temperature sensors (0.5 + 3·Δθmin/Δθ)."""
    row = profile.mpe.temperature_pair
    return Sourced(_dt_term(row.a, row.b, dt_min_k, dt_k), (row,))


def calculator_mpe(profile: HeatProfile, dt_min_k: Number, dt_k: Number) -> Sourced[Fraction]:
    """Ec = a + b·Δθmin/Δθ (%) for the calculator (0.5 + Δθmin/Δθ)."""
    row = profile.mpe.calculator
    return Sourced(_dt_term(row.a, row.b, dt_min_k, dt_k), (row,))


@dataclass(frozen=True)
class HeatMpe:
    """The three component MPEs (%) and the complete meter's E = Ef + Et + Ec."""

    ef: Fraction
    et: Fraction
    ec: Fraction

    @property
    def e(self) -> Fraction:
        return self.ef + self.et + self.ec


def complete_mpe(
    profile: HeatProfile,
    meter_class: str,
    rates: HeatRates,
    q_m3h: Number,
    dt_k: Number,
) -> Sourced[HeatMpe]:
    """E = Ef + Et + Ec at a flow rate and temperature difference."""
    ef = flow_sensor_mpe(profile, meter_class, rates.qp, q_m3h)
    et = temperature_pair_mpe(profile, rates.dt_min, dt_k)
    ec = calculator_mpe(profile, rates.dt_min, dt_k)
    return Sourced(HeatMpe(ef.value, et.value, ec.value), ef.basis + et.basis + ec.basis)


def flow_band(
    profile: HeatProfile, point: str, rates: HeatRates
) -> Sourced[tuple[Fraction, Fraction]]:
    """(low, high) in m³/h for a flow point (``qi``, ``0.1qp``, ``qp``)."""
    row = find_row(
        profile.flow.bands, lambda r: r.point == point, f"flow band {point!r}", profile.id
    )
    base = rates.base(row.base)
    return Sourced((base * to_fraction(row.low), base * to_fraction(row.high)), (row,))


def delta_theta_band(
    profile: HeatProfile, point: str, rates: HeatRates
) -> Sourced[tuple[Fraction, Fraction]]:
    """(low, high) in K for a temperature-difference point, clipped to the meter's
    Δθmin..Δθmax (ValueError when nothing of the band is left)."""
    row = find_row(
        profile.delta_theta.bands, lambda r: r.point == point, f"Δθ band {point!r}", profile.id
    )
    low = max(delta_theta_value(row.low, rates.dt_min, rates.dt_max), rates.dt_min)
    high = min(delta_theta_value(row.high, rates.dt_min, rates.dt_max), rates.dt_max)
    if low > high:
        raise ValueError(
            f"Δθ point {point!r} ({row.low} .. {row.high}) lies outside the meter's "
            f"Δθmin..Δθmax ({plain(rates.dt_min)} .. {plain(rates.dt_max)} K)"
        )
    return Sourced((low, high), (row,))


def heat_rounding_interval(profile: HeatProfile, meter_class: str) -> Sourced[Decimal]:
    row = find_row(
        profile.rounding.intervals,
        lambda r: r.cls == meter_class,
        f"rounding interval for class {meter_class}",
        profile.id,
    )
    return Sourced(row.error, (row,))


def relative_error(indicated: Number, reference: Number) -> Fraction:
    """E = (indicated − reference)/reference × 100 % for heat, volume or Δθ alike."""
    ref = to_fraction(reference)
    if ref <= 0:
        raise ValueError("the reference value must be positive")
    return (to_fraction(indicated) - ref) / ref * 100


def min_test_quantity(
    profile: HeatProfile, resolution: Number, mpe_pct: Number
) -> Sourced[Decimal]:
    """Smallest test quantity (volume or heat, in the resolution's unit) whose reading
    resolution stays within ``uncertainty_ratio`` x MPE: V = k·δ/u, rounded up to whole δ."""
    volume = profile.volume
    step = to_fraction(resolution)
    u = to_fraction(volume.uncertainty_ratio.value) * to_fraction(mpe_pct) / 100
    if step <= 0 or u <= 0:
        raise ValueError("resolution and MPE must be positive")
    v_min = to_fraction(volume.reading_k.value) * step / u
    steps = -(-v_min // step)
    return Sourced(to_decimal(steps * step), (volume.reading_k, volume.uncertainty_ratio))
