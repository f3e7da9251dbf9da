"""Water meters (JJG 162-2019): flow rates from Q3 and R, tolerance bands of the test flows,
MPE by zone, class and water temperature, test volume, and the error E = (Vi − Va)/Va.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from meterbench.regulations.intervals import contains, number_band
from meterbench.regulations.lookup import NotInProfile, find_row
from meterbench.regulations.numbers import Number, plain, to_decimal, to_fraction
from meterbench.regulations.profile import Sourced, WaterProfile

LITRES_PER_M3 = 1000

Zone = Literal["upper", "lower"]


@dataclass(frozen=True)
class FlowRates:
    """Q1..Q4 in m³/h, exact."""

    q1: Fraction
    q2: Fraction
    q3: Fraction
    q4: Fraction

    def rate(self, point: str) -> Fraction:
        """The nominal rate of 'Q1'..'Q4'."""
        return {"Q1": self.q1, "Q2": self.q2, "Q3": self.q3, "Q4": self.q4}[point]


def flow_rates(
    q3_m3h: Number, r: Number, q2_over_q1: Number = Decimal("1.6"), q4_over_q3: Number = 1.25
) -> FlowRates:
    """Q1 = Q3/R, Q2 = 1.6·Q1, Q4 = 1.25·Q3 (ratios are parameters; the profile holds them)."""
    q3 = to_fraction(q3_m3h)
    ratio = to_fraction(r)
    if q3 <= 0 or ratio <= 0:
        raise ValueError("Q3 and R must be positive")
    q1 = q3 / ratio
    return FlowRates(q1, q1 * to_fraction(q2_over_q1), q3, q3 * to_fraction(q4_over_q3))


def profile_flow_rates(profile: WaterProfile, q3_m3h: Number, r: Number) -> Sourced[FlowRates]:
    """``flow_rates`` with the profile's Q2/Q1 and Q4/Q3 ratios."""
    flow = profile.flow
    rates = flow_rates(q3_m3h, r, flow.q2_over_q1.value, flow.q4_over_q3.value)
    return Sourced(rates, (flow.q2_over_q1, flow.q4_over_q3))


def flow_band(
    profile: WaterProfile, point: str, rates: FlowRates
) -> Sourced[tuple[Fraction, Fraction]]:
    """(low, high) in m³/h within which the measured mean flow of a run at ``point`` must lie."""
    row = find_row(
        profile.flow.bands, lambda r: r.point == point, f"flow band for {point}", profile.id
    )
    nominal = rates.rate(point)
    return Sourced((nominal * to_fraction(row.low), nominal * to_fraction(row.high)), (row,))


def flow_in_band(measured_m3h: Number, band: tuple[Fraction, Fraction]) -> bool:
    """A run is valid only if its measured mean flow is inside the band (ends included)."""
    value = to_fraction(measured_m3h)
    return band[0] <= value <= band[1]


def zone_for_flow(flow_m3h: Number, rates: FlowRates) -> Zone:
    """Lower zone Q1 <= Q < Q2, upper zone Q2 <= Q <= Q4; outside raises ValueError."""
    q = to_fraction(flow_m3h)
    if rates.q2 <= q <= rates.q4:
        return "upper"
    if rates.q1 <= q < rates.q2:
        return "lower"
    raise ValueError(
        f"flow {plain(q)} m³/h lies outside Q1..Q4 ({plain(rates.q1)}..{plain(rates.q4)})"
    )


def water_mpe(
    profile: WaterProfile, meter_class: str, zone: Zone, temperature_c: Number
) -> Sourced[Decimal]:
    """MPE in % for a class, zone and water temperature."""
    supported = profile.classes.supported.value
    if meter_class not in supported:
        raise NotInProfile(
            f"profile {profile.id} does not cover class {meter_class} "
            f"(covers {', '.join(supported)})"
        )
    temperature = to_fraction(temperature_c)
    row = find_row(
        profile.mpe.rows,
        lambda r: (
            r.cls == meter_class
            and r.zone == zone
            and (r.temperature_c is None or contains(number_band(r.temperature_c), temperature))
        ),
        f"MPE for class {meter_class}, {zone} zone, water at {plain(temperature)} °C",
        profile.id,
    )
    return Sourced(row.mpe, (row,))


def temperature_class_band(profile: WaterProfile, temperature_class: str) -> Sourced[str]:
    """The water-temperature band (interval text, e.g. "[0.1, 30]") of a temperature class."""
    section = profile.temperature_classes
    if section is None:
        raise NotInProfile(f"profile {profile.id} defines no temperature classes")
    row = find_row(
        section.rows,
        lambda r: r.name == temperature_class,
        f"temperature class {temperature_class}",
        profile.id,
    )
    return Sourced(row.temperature_c, (row,))


def in_temperature_class(
    profile: WaterProfile, temperature_class: str, temperature_c: Number
) -> Sourced[bool]:
    """Whether water at ``temperature_c`` lies inside the meter's temperature class."""
    band = temperature_class_band(profile, temperature_class)
    inside = contains(number_band(band.value), to_fraction(temperature_c))
    return Sourced(inside, band.basis)


@dataclass(frozen=True)
class TemperatureMpe:
    """The MPE that applies at the measured water temperature, with the one the plan's nominal
    temperature would give beside it (for the record: they differ across a zone boundary)."""

    mpe: Decimal
    measured_c: Decimal
    nominal_c: Decimal
    nominal_mpe: Decimal

    @property
    def note(self) -> str:
        text = (
            f"MPE ±{plain(self.mpe)} % at the measured {plain(self.measured_c)} °C "
            f"(nominal {plain(self.nominal_c)} °C"
        )
        if self.nominal_mpe != self.mpe:
            return text + f" would give ±{plain(self.nominal_mpe)} %)"
        return text + ", same zone)"


def mpe_at_measured_temperature(
    profile: WaterProfile,
    meter_class: str,
    zone: Zone,
    nominal_c: Number,
    measured_c: Number,
) -> Sourced[TemperatureMpe]:
    """The MPE row follows the temperature the water really had; the nominal one is noted."""
    measured = water_mpe(profile, meter_class, zone, measured_c)
    nominal = water_mpe(profile, meter_class, zone, nominal_c)
    result = TemperatureMpe(
        mpe=measured.value,
        measured_c=to_decimal(to_fraction(measured_c)),
        nominal_c=to_decimal(to_fraction(nominal_c)),
        nominal_mpe=nominal.value,
    )
    return Sourced(result, measured.basis + nominal.basis)


def water_rounding_interval(profile: WaterProfile, meter_class: str) -> Sourced[Decimal]:
    row = find_row(
        profile.rounding.intervals,
        lambda r: r.cls == meter_class,
        f"rounding interval for class {meter_class}",
        profile.id,
    )
    return Sourced(row.error, (row,))


def water_error(indicated_l: Number, actual_l: Number) -> Fraction:
    """E = (Vi − Va)/Va × 100 % (positive = meter registers too much)."""
    actual = to_fraction(actual_l)
    if actual <= 0:
        raise ValueError("the actual (reference) volume must be positive")
    return (to_fraction(indicated_l) - actual) / actual * 100


def min_test_volume(resolution_l: Number, uncertainty_pct: Number, k: Number = 1) -> Fraction:
    """V_min = k·δV/u, u as a percentage of the test volume (0.2 % -> δV 0.05 L gives 25 L)."""
    u = to_fraction(uncertainty_pct) / 100
    if u <= 0 or to_fraction(resolution_l) <= 0:
        raise ValueError("resolution and allowed uncertainty must be positive")
    return to_fraction(k) * to_fraction(resolution_l) / u


def run_volume_l(profile: WaterProfile, resolution_l: Number, mpe_pct: Number) -> Sourced[Decimal]:
    """Test volume for one run: V_min with u = uncertainty_ratio x MPE, rounded up to a whole
    number of resolution steps."""
    volume = profile.volume
    u = to_fraction(volume.uncertainty_ratio.value) * to_fraction(mpe_pct)
    v_min = min_test_volume(resolution_l, u, volume.reading_k.value)
    step = to_fraction(resolution_l)
    steps = -(-v_min // step)
    return Sourced(to_decimal(steps * step), (volume.reading_k, volume.uncertainty_ratio))


def r_in_series(profile: WaterProfile, r: Number) -> bool:
    """Whether R is one of the profile's preferred values."""
    return to_fraction(r) in {to_fraction(v) for v in profile.flow.r_series.value}
