"""Diaphragm gas meters against the verification reference §3.1: qt = 0.1 qmax, zones and MPE
by class, the class 1.0 same-sign rule, the bell prover's gas-law correction, the test volume in
whole cyclic volumes, and the tightness and pressure-loss limits."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterbench.regulations.gas import (
    bell_volume_at_meter,
    designation_rates,
    flow_band,
    gas_error,
    gas_mpe,
    gas_rates,
    master_volume_at_meter,
    pressure_loss_limit_pa,
    run_volume_l,
    same_sign_ok,
    saturation_pressure_pa,
    tightness_pressure_kpa,
    zone_for_flow,
)
from meterbench.regulations.gas_profile import GasProfile
from meterbench.regulations.lookup import NotInProfile
from meterbench.regulations.profile import load_profile

F = Fraction
D = Decimal


@pytest.fixture(scope="module")
def gas() -> GasProfile:
    profile = load_profile("jjg577-2012")
    assert isinstance(profile, GasProfile)
    return profile


def test_rates_zones_and_mpe(gas):
    rates = gas_rates(gas, "0.025", 4).value
    assert (rates.qmin, rates.qt, rates.qmax) == (F("0.025"), F("0.4"), 4)
    assert zone_for_flow("0.025", rates) == "lower" and zone_for_flow("0.4", rates) == "upper"
    assert zone_for_flow(4, rates) == "upper"
    with pytest.raises(ValueError, match="outside"):
        zone_for_flow("4.01", rates)
    assert [gas_mpe(gas, c, z).value for c in ("1.5", "1") for z in ("lower", "upper")] == [
        3,
        D("1.5"),
        2,
        1,
    ]
    with pytest.raises(NotInProfile):
        gas_mpe(gas, "2", "upper")
    with pytest.raises(ValueError, match="qmin < qt"):
        gas_rates(gas, 1, 4)  # qmin above qt = 0.4


def test_points_and_bands(gas):
    rates = gas_rates(gas, "0.04", 6).value
    assert flow_band(gas, "qmax", rates).value == (F("5.4"), 6)
    assert flow_band(gas, "0.2qmax", rates).value == (F("1.14"), F("1.26"))
    assert flow_band(gas, "qmin", rates).value == (F("0.04"), F("0.044"))


def test_class_1_same_sign_rule(gas):
    assert same_sign_ok(gas, "1", ["0.4", "0.5"])
    assert not same_sign_ok(gas, "1", ["0.4", "0.6"])
    assert same_sign_ok(gas, "1", ["-0.6", "0.6"])  # mixed signs: only the MPE applies
    assert same_sign_ok(gas, "1.5", ["0.9", "1.0"])  # no such rule for class 1.5


def test_bell_correction_without_differences_is_the_identity():
    assert bell_volume_at_meter(100, 101325, 20, 101325, 20) == 100
    assert bell_volume_at_meter(100, 101325, 20, 101325, 20, 1, 1) == 100
    assert master_volume_at_meter(50, 101000, 18, 101000, 18) == 50


def test_bell_correction_follows_the_gas_law():
    # meter 1 kPa above the bell: the same air takes less volume there
    v = bell_volume_at_meter(100, 101325, 20, 102325, 20)
    assert v == F(100) * 101325 / 102325
    # meter 2 K warmer: more volume
    assert bell_volume_at_meter(100, 101325, 20, 101325, 22) == F(100) * F("295.15") / F("293.15")
    # saturated bell air, dry meter air: the water vapour leaves less dry air to count
    wet = bell_volume_at_meter(100, 101325, 20, 101325, 20, bell_humidity=1)
    assert wet == pytest.approx(100 * (101325 - 2339) / 101325, rel=1e-3)
    with pytest.raises(ValueError, match="humidity"):
        bell_volume_at_meter(100, 101325, 20, 101325, 20, bell_humidity=2)


def test_saturation_pressure_values():
    assert saturation_pressure_pa(20) == pytest.approx(2339.2, rel=2e-4)
    assert saturation_pressure_pa(0) == pytest.approx(611.2, rel=1e-3)
    with pytest.raises(ValueError):
        saturation_pressure_pa(90)


# IAPWS-IF97 release, Table 35: saturation pressure verification values (T K -> p MPa)
@pytest.mark.parametrize("t,p", [(300, 0.353658941e-2), (500, 0.263889776e1), (600, 0.123443146e2)])
def test_if97_saturation_line(t, p):
    from meterbench.regulations.water_properties import saturation_pressure_mpa

    assert saturation_pressure_mpa(t) == pytest.approx(p, rel=1e-8)


@settings(max_examples=100, deadline=None)
@given(
    v=st.decimals(min_value=1, max_value=1000, places=2),
    pb=st.integers(95000, 105000),
    pm=st.integers(95000, 115000),
    tb=st.integers(10, 30),
    tm=st.integers(10, 30),
)
def test_bell_correction_inverts(v, pb, pm, tb, tm):
    there = bell_volume_at_meter(v, pb, tb, pm, tm)
    assert bell_volume_at_meter(there, pm, tm, pb, tb) == F(v)


def test_gas_error_sign():
    assert gas_error("101.5", 100) == F("1.5")
    with pytest.raises(ValueError):
        gas_error(1, 0)


def test_run_volume_in_whole_cycles(gas):
    # δV 0.2 L at 1.5 %: 0.2/(0.1·0.015) = 133.3 L -> 112 cycles of 1.2 L = 134.4 L
    assert run_volume_l(gas, "0.2", "1.2", "1.5").value == D("134.4")
    # a fine pulse output: the 10-cycle minimum decides
    assert run_volume_l(gas, "0.001", "1.2", "1.5").value == D(12)
    # 3 % at qmin: 66.7 L -> 56 cycles
    assert run_volume_l(gas, "0.2", "1.2", 3).value == D("67.2")


def test_tightness_pressure_loss_and_designations(gas):
    assert tightness_pressure_kpa(gas, 10).value == 15
    assert pressure_loss_limit_pa(gas, 4).value == 200
    assert pressure_loss_limit_pa(gas, 25).value == 300
    with pytest.raises(NotInProfile):
        pressure_loss_limit_pa(gas, 400)
    assert designation_rates(gas, "G4").value == (6, D("0.04"))
