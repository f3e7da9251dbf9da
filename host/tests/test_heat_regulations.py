"""Heat meters against the verification reference §3.2: the component MPEs Ef (with its cap),
Et, Ec and E = Ef + Et + Ec, the flow and Δθ bands, the water properties of IAPWS-IF97 region 1
(checked against the release's own verification values and an independent density formula)
and the IEC 60751 platinum sensors."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterbench.config.errors import ConfigError
from meterbench.regulations.heat import (
    calculator_mpe,
    complete_mpe,
    delta_theta_band,
    flow_band,
    flow_sensor_mpe,
    heat_rates,
    min_test_quantity,
    relative_error,
    temperature_pair_mpe,
)
from meterbench.regulations.heat_profile import HeatProfile, delta_theta_value
from meterbench.regulations.lookup import NotInProfile
from meterbench.regulations.platinum import r0_ohm, resistance_ohm, temperature_c
from meterbench.regulations.profile import load_profile, profile_path, unconfirmed_entries
from meterbench.regulations.water_density import water_density
from meterbench.regulations.water_properties import (
    density_kg_m3,
    enthalpy_kj_kg,
    heat_coefficient_kj_m3_k,
    reference_heat_kj,
    specific_enthalpy_kj_kg,
    specific_volume_m3_kg,
)

F = Fraction
D = Decimal


@pytest.fixture(scope="module")
def heat() -> HeatProfile:
    profile = load_profile("jjg225-2024")
    assert isinstance(profile, HeatProfile)
    return profile


def test_profile_marks_what_is_not_confirmed(heat):
    unconfirmed = set(unconfirmed_entries(heat))
    assert "mpe.flow_sensor[0]" in unconfirmed  # class 1 formula and cap
    assert "mpe.flow_sensor[1]" not in unconfirmed  # class 2 is sourced
    assert {"delta_theta.bands[0]", "complete.pairs[0]"} <= unconfirmed


# (class, qp/q) -> Ef: a + b·qp/q, capped (class 1: 3.5 %, classes 2 and 3: 5 %)
@pytest.mark.parametrize(
    "cls,ratio,ef",
    [
        ("2", 1, "2.02"),
        ("2", 10, "2.2"),
        ("2", 100, "4"),
        ("2", 150, "5"),  # 2 + 3 = 5: exactly at the cap
        ("2", 250, "5"),  # 2 + 5 = 7, capped
        ("3", 1, "3.05"),
        ("3", 40, "5"),  # 3 + 2 = 5
        ("3", 100, "5"),  # 3 + 5 = 8, capped
        ("1", 1, "1.01"),
        ("1", 100, "2"),
        ("1", 250, "3.5"),  # 1 + 2.5 = 3.5
        ("1", 1000, "3.5"),  # capped
    ],
)
def test_flow_sensor_mpe_and_cap(heat, cls, ratio, ef):
    assert flow_sensor_mpe(heat, cls, ratio, 1).value == F(ef)


def test_flow_sensor_mpe_for_an_unknown_class(heat):
    with pytest.raises(NotInProfile, match="class 0.5"):
        flow_sensor_mpe(heat, "0.5", 1, 1)


def test_temperature_pair_and_calculator(heat):
    assert temperature_pair_mpe(heat, 3, 3).value == F("3.5")
    assert temperature_pair_mpe(heat, 3, 30).value == F("0.8")
    assert calculator_mpe(heat, 3, 3).value == F("1.5")
    assert calculator_mpe(heat, 3, 60).value == F("0.55")


@settings(max_examples=200, deadline=None)
@given(
    q=st.fractions(min_value=F(1, 10), max_value=F(3, 2)),
    dt=st.fractions(min_value=3, max_value=70),
    cls=st.sampled_from(["1", "2", "3"]),
)
def test_complete_mpe_is_the_sum_of_the_components(q, dt, cls):
    """E = Ef + Et + Ec; where Ef is below its cap this is the JJG 225-2001 / EN 1434-1:1997
    complete-meter formula E = (c + 4·Δθmin/Δθ + b·qp/q) with c = a + 1."""
    profile = load_profile("jjg225-2024")
    assert isinstance(profile, HeatProfile)
    rates = heat_rates("0.015", "1.5", 3, 3, 70)
    mpe = complete_mpe(profile, cls, rates, q, dt).value
    a, b = {"1": (1, F("0.01")), "2": (2, F("0.02")), "3": (3, F("0.05"))}[cls]
    uncapped = a + b * F(3, 2) / q
    cap = F("3.5") if cls == "1" else 5
    assert mpe.ef == min(uncapped, cap)
    assert mpe.e == mpe.ef + F(1, 2) + 3 * 3 / dt + F(1, 2) + F(3) / dt
    if uncapped <= cap:
        assert mpe.e == (a + 1) + 4 * F(3) / dt + b * F(3, 2) / q


def test_acceptance_meter_flow_points(heat):
    """Class 2, qp 1.5 m³/h, qi 0.015 m³/h: bands and Ef at each band's lower end."""
    rates = heat_rates("0.015", "1.5", 3, 3, 70)
    bands = {p: flow_band(heat, p, rates).value for p in ("qi", "0.1qp", "qp")}
    assert bands == {
        "qi": (F("0.015"), F("0.0165")),
        "0.1qp": (F("0.15"), F("0.165")),
        "qp": (F("1.35"), F("1.5")),
    }
    ef = {p: flow_sensor_mpe(heat, "2", rates.qp, low).value for p, (low, _) in bands.items()}
    assert ef == {"qi": 4, "0.1qp": F("2.2"), "qp": 2 + F(2, 90)}


def test_delta_theta_expressions_and_bands(heat):
    assert delta_theta_value("1.2dtmin", F(3), F(70)) == F("3.6")
    assert delta_theta_value("dtmax-5", F(3), F(70)) == 65
    assert delta_theta_value("10", F(3), F(70)) == 10
    with pytest.raises(ValueError):
        delta_theta_value("5-dtmax", F(3), F(70))
    rates = heat_rates("0.015", "1.5", 3, 3, 70)
    assert delta_theta_band(heat, "dtmin", rates).value == (3, F("3.6"))
    assert delta_theta_band(heat, "dtmax", rates).value == (65, 70)
    narrow = heat_rates("0.015", "1.5", 3, 5, 8)  # Δθmax 8 K: 10..20 K lies outside
    with pytest.raises(ValueError, match="outside"):
        delta_theta_band(heat, "10-20K", narrow)


def test_test_quantity_and_error(heat):
    # δV 0.1 L, Ef 2 %, ratio 0.1 -> 0.1/(0.1·0.02) = 50 L
    assert min_test_quantity(heat, "0.1", 2).value == D(50)
    assert relative_error("10.2", 10) == 2


def test_bad_profile_pair_is_reported(tmp_path):
    text = profile_path("jjg225-2024").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('flow = "qi", delta_theta', 'flow = "q9", delta_theta'), "utf-8")
    with pytest.raises(ConfigError) as info:
        load_profile(broken)
    assert "q9" in str(info.value)


# -- IAPWS-IF97 region 1 -------------------------------------------------------------------------

# IAPWS-IF97 release, Table 5: verification values for region 1 (T K, p MPa) -> v m³/kg, h kJ/kg
IF97_TABLE5 = [
    (300, 3, 0.100215168e-2, 0.115331273e3),
    (300, 80, 0.971180894e-3, 0.184142828e3),
    (500, 3, 0.120241800e-2, 0.975542239e3),
]


@pytest.mark.parametrize("t,p,v,h", IF97_TABLE5)
def test_if97_region1_verification_values(t, p, v, h):
    assert specific_volume_m3_kg(p, t) == pytest.approx(v, rel=1e-8)
    assert specific_enthalpy_kj_kg(p, t) == pytest.approx(h, rel=1e-8)


@pytest.mark.parametrize("celsius", [1, 5, 10, 20, 30, 40])
def test_if97_density_agrees_with_the_tanaka_formula(celsius):
    """Two independent formulas for air-free water near 1 atm agree within 20 ppm."""
    assert density_kg_m3(0.101325, celsius) == pytest.approx(
        float(water_density(celsius)), rel=2e-5
    )


def test_enthalpy_steam_table_values():
    assert enthalpy_kj_kg(0.101325, 20) == pytest.approx(84.01, abs=0.05)
    assert enthalpy_kj_kg(0.101325, 80) == pytest.approx(335.0, abs=0.1)


def test_reference_heat_and_coefficient():
    q = reference_heat_kj(1.0, 70, 50, 0.6, "return")
    assert q == pytest.approx(
        density_kg_m3(0.6, 50) * (enthalpy_kj_kg(0.6, 70) - enthalpy_kj_kg(0.6, 50))
    )
    assert heat_coefficient_kj_m3_k(70, 50, 0.6, "return") == pytest.approx(q / 20)
    # the supply side is warmer, so its water is lighter: less heat per measured m³
    assert reference_heat_kj(1.0, 70, 50, 0.6, "supply") < q
    assert reference_heat_kj(1.0, 10, 15, 0.6) < 0  # cooling
    with pytest.raises(ValueError):
        reference_heat_kj(1.0, 70, 50, 0.6, "middle")
    with pytest.raises(ValueError, match="273.15"):
        enthalpy_kj_kg(0.6, 400)
    with pytest.raises(ValueError, match="boils"):
        enthalpy_kj_kg(0.1, 120)  # saturation at 0.1 MPa is 99.6 °C
    assert enthalpy_kj_kg(0.3, 120) > enthalpy_kj_kg(0.3, 99)


# -- IEC 60751 -------------------------------------------------------------------------------------

# IEC 60751 table values for Pt100 (Ω)
PT100 = [
    (-200, 18.52),
    (-100, 60.26),
    (0, 100.00),
    (50, 119.40),
    (100, 138.51),
    (200, 175.86),
    (850, 390.48),
]


@pytest.mark.parametrize("t,r", PT100)
def test_pt100_table(t, r):
    assert resistance_ohm(t) == pytest.approx(r, abs=0.005)
    assert temperature_c(resistance_ohm(t)) == pytest.approx(t, abs=1e-9)


def test_pt500_and_pt1000_scale_with_r0():
    assert resistance_ohm(50, r0_ohm("Pt1000")) == pytest.approx(1194.0, abs=0.05)
    assert resistance_ohm(50, r0_ohm("Pt500")) == pytest.approx(597.0, abs=0.03)
    with pytest.raises(ValueError, match="Pt200"):
        r0_ohm("Pt200")


@given(t=st.floats(min_value=-200, max_value=850))
def test_resistance_inverts(t):
    assert temperature_c(resistance_ohm(t, 1000), 1000) == pytest.approx(t, abs=1e-7)
