"""Diaphragm gas meters: flow rates and zones, MPE by class, the bell prover's correction to
the meter's conditions, the test volume from the cyclic volume and the register resolution,
and the tightness and pressure-loss limits.

Why pure functions over the profile: the same MPE and test volume must come out of ``plan
show``, the runner and a recomputed record; the profile holds the numbers, exact arithmetic
(Fraction) the verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from meterbench.regulations.gas_profile import GasProfile, PressureLossRow
from meterbench.regulations.lookup import NotInProfile, find_row
from meterbench.regulations.numbers import Number, plain, to_decimal, to_fraction
from meterbench.regulations.profile import Sourced
from meterbench.regulations.water_properties import saturation_pressure_mpa

Zone = Literal["upper", "lower"]
KELVIN = Fraction("273.15")


@dataclass(frozen=True)
class GasRates:
    """qmin, qt and qmax in m³/h, exact."""

    qmin: Fraction
    qt: Fraction
    qmax: Fraction

    def base(self, name: str) -> Fraction:
        return {"qmin": self.qmin, "qt": self.qt, "qmax": self.qmax}[name]


def gas_rates(profile: GasProfile, qmin_m3h: Number, qmax_m3h: Number) -> Sourced[GasRates]:
    """qt = ratio·qmax from the profile (0.1 for diaphragm meters); ValueError unless
    qmin < qt < qmax."""
    qmin, qmax = to_fraction(qmin_m3h), to_fraction(qmax_m3h)
    entry = profile.flow.qt_over_qmax
    qt = qmax * to_fraction(entry.value)
    if not 0 < qmin < qt < qmax:
        raise ValueError(
            f"flow rates must satisfy 0 < qmin < qt < qmax (qmin {plain(qmin)}, "
            f"qt {plain(qt)}, qmax {plain(qmax)} m³/h)"
        )
    return Sourced(GasRates(qmin, qt, qmax), (entry,))


def zone_for_flow(flow_m3h: Number, rates: GasRates) -> Zone:
    """Lower zone qmin <= q < qt, upper zone qt <= q <= qmax; outside raises ValueError."""
    q = to_fraction(flow_m3h)
    if rates.qt <= q <= rates.qmax:
        return "upper"
    if rates.qmin <= q < rates.qt:
        return "lower"
    raise ValueError(
        f"flow {plain(q)} m³/h lies outside qmin..qmax ({plain(rates.qmin)}..{plain(rates.qmax)})"
    )


def gas_mpe(profile: GasProfile, meter_class: str, zone: Zone) -> Sourced[Decimal]:
    """MPE in % for a class and zone."""
    supported = profile.classes.supported.value
    if meter_class not in supported:
        raise NotInProfile(
            f"profile {profile.id} does not cover class {meter_class} "
            f"(covers {', '.join(supported)})"
        )
    row = find_row(
        profile.mpe.rows,
        lambda r: r.cls == meter_class and r.zone == zone,
        f"MPE for class {meter_class}, {zone} zone",
        profile.id,
    )
    return Sourced(row.mpe, (row,))


def same_sign_ok(profile: GasProfile, meter_class: str, upper_errors: list[Number]) -> bool:
    """The class 1.0 rule: when all errors from qt to qmax share a sign, none may exceed the
    profile's limit. Classes without the rule always pass."""
    rows = [r for r in profile.mpe.same_sign if r.cls == meter_class]
    if not rows or not upper_errors:
        return True
    errors = [to_fraction(e) for e in upper_errors]
    same_sign = all(e > 0 for e in errors) or all(e < 0 for e in errors)
    return not same_sign or all(abs(e) <= to_fraction(rows[0].limit) for e in errors)


def flow_band(
    profile: GasProfile, point: str, rates: GasRates
) -> Sourced[tuple[Fraction, Fraction]]:
    """(low, high) in m³/h for a flow point (``qmin``, ``0.2qmax``, ``qmax``)."""
    row = find_row(
        profile.flow.bands, lambda r: r.point == point, f"flow band {point!r}", profile.id
    )
    base = rates.base(row.base)
    return Sourced((base * to_fraction(row.low), base * to_fraction(row.high)), (row,))


def gas_rounding_interval(profile: GasProfile, meter_class: str) -> Sourced[Decimal]:
    row = find_row(
        profile.rounding.intervals,
        lambda r: r.cls == meter_class,
        f"rounding interval for class {meter_class}",
        profile.id,
    )
    return Sourced(row.error, (row,))


def gas_error(indicated_l: Number, reference_l: Number) -> Fraction:
    """E = (Vm − Vref)/Vref × 100 %, Vref already carried to the meter's conditions."""
    ref = to_fraction(reference_l)
    if ref <= 0:
        raise ValueError("the reference volume must be positive")
    return (to_fraction(indicated_l) - ref) / ref * 100


# --------------------------------------------------------------------------- bell prover


def saturation_pressure_pa(temperature_c: float) -> float:
    """Saturation vapour pressure of water over a flat water surface (IAPWS-IF97 region 4),
    for the bell's water seal: 0.01 to 60 °C."""
    t = float(temperature_c)
    if not 0 <= t <= 60:
        raise ValueError(f"the water-vapour term is used here for 0..60 °C, got {t:g} °C")
    return saturation_pressure_mpa(t + 273.15) * 1e6


def bell_volume_at_meter(
    bell_volume_l: Number,
    bell_pressure_pa: Number,
    bell_temperature_c: Number,
    meter_pressure_pa: Number,
    meter_temperature_c: Number,
    bell_humidity: Number = 0,
    meter_humidity: Number = 0,
) -> Fraction:
    """The volume the bell delivered, at the meter's absolute pressure and temperature.

    Ideal gas, the same dry air passing both: V_m = V_b·(p_b − φ_b·p_s(θ_b))/(p_m − φ_m·p_s(θ_m))
    ·T_m/T_b. Pressures are absolute (Pa); φ are relative humidities 0..1 (1 for air saturated
    over the bell's water seal, 0 to leave the water-vapour term out)."""
    phi_b, phi_m = to_fraction(bell_humidity), to_fraction(meter_humidity)
    if not (0 <= phi_b <= 1 and 0 <= phi_m <= 1):
        raise ValueError("relative humidity must lie in 0..1")
    t_b = to_fraction(bell_temperature_c) + KELVIN
    t_m = to_fraction(meter_temperature_c) + KELVIN
    p_b = to_fraction(bell_pressure_pa)
    p_m = to_fraction(meter_pressure_pa)
    if phi_b:
        p_b -= phi_b * to_fraction(saturation_pressure_pa(float(bell_temperature_c)))
    if phi_m:
        p_m -= phi_m * to_fraction(saturation_pressure_pa(float(meter_temperature_c)))
    if p_b <= 0 or p_m <= 0 or t_b <= 0 or t_m <= 0:
        raise ValueError("absolute pressures and temperatures must be positive")
    return to_fraction(bell_volume_l) * p_b / p_m * t_m / t_b


def master_volume_at_meter(
    master_volume_l: Number,
    master_pressure_pa: Number,
    master_temperature_c: Number,
    meter_pressure_pa: Number,
    meter_temperature_c: Number,
) -> Fraction:
    """A master meter in series: the same ideal-gas correction without the water-vapour term
    (the same air passes both meters)."""
    return bell_volume_at_meter(
        master_volume_l,
        master_pressure_pa,
        master_temperature_c,
        meter_pressure_pa,
        meter_temperature_c,
    )


# --------------------------------------------------------------------------- test volume


def run_volume_l(
    profile: GasProfile, resolution_l: Number, cyclic_volume_l: Number, mpe_pct: Number
) -> Sourced[Decimal]:
    """Test volume for one run: V_min = k·δV/(ratio·MPE), at least ``min_cycles`` cyclic
    volumes, raised to a whole number of them when the profile asks (a diaphragm meter's
    error varies within a cycle)."""
    volume, cycles = profile.volume, profile.cycles
    step = to_fraction(resolution_l)
    cycle = to_fraction(cyclic_volume_l)
    u = to_fraction(volume.uncertainty_ratio.value) * to_fraction(mpe_pct) / 100
    if step <= 0 or cycle <= 0 or u <= 0:
        raise ValueError("resolution, cyclic volume and MPE must be positive")
    v_min = max(to_fraction(volume.reading_k.value) * step / u, cycle * cycles.min_cycles.value)
    unit = cycle if cycles.whole_cycles.value else step
    v = -(-v_min // unit) * unit
    basis = (volume.reading_k, volume.uncertainty_ratio, cycles.min_cycles, cycles.whole_cycles)
    return Sourced(to_decimal(v), basis)


# --------------------------------------------------------------------------- other items


def tightness_pressure_kpa(profile: GasProfile, pmax_kpa: Number) -> Sourced[Decimal]:
    """Test pressure of the tightness test: factor x maximum working pressure."""
    entry = profile.tightness.pressure_factor
    return Sourced(to_decimal(to_fraction(entry.value) * to_fraction(pmax_kpa)), (entry,))


def pressure_loss_limit_pa(profile: GasProfile, qmax_m3h: Number) -> Sourced[Decimal]:
    """Largest pressure loss at qmax for a meter of this size."""
    q = to_fraction(qmax_m3h)
    row: PressureLossRow = find_row(
        sorted(profile.pressure_loss.rows, key=lambda r: r.qmax_up_to),
        lambda r: q <= to_fraction(r.qmax_up_to),
        f"pressure-loss limit for qmax {plain(q)} m³/h",
        profile.id,
    )
    return Sourced(row.limit_pa, (row,))


def designation_rates(profile: GasProfile, designation: str) -> Sourced[tuple[Decimal, Decimal]]:
    """(qmax, largest qmin) in m³/h of a G designation."""
    row = find_row(
        profile.flow.designations,
        lambda r: r.designation == designation,
        f"designation {designation}",
        profile.id,
    )
    return Sourced((row.qmax, row.qmin), (row,))
