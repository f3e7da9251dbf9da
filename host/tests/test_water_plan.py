"""What a water bench runs, against the verification reference §2: flow points Q1 = Q3/R,
Q2 = 1.6·Q1 with their bands (§2.3), zone and MPE by class and water temperature (§2.2),
test volume V = k·δV/(ratio·MPE) (§2.6), for several Q3 / R / class combinations, expanded
for a water bench exactly as the runner does; and the gravimetric volume from water density."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.meter_types import WaterMeterType
from meterbench.config.plans import load_plan
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_plan
from meterbench.plan.model import WaterErrorStep
from meterbench.regulations.water_density import buoyancy_factor, water_density, weighed_volume_l
from meterbench.runner.engine import bench_context, planned_steps
from meterbench.runner.meters import MeterEntry

REPO = Path(__file__).resolve().parents[2]
PLAN = REPO / "bench_configs" / "plans" / "jjg162-2019-water.toml"
D = Decimal


def _meter(q3: str, r: str, cls: str, pulse: str | None = "0.01") -> WaterMeterType:
    return WaterMeterType.model_validate(
        {
            "id": f"q3-{q3}-r{r}-c{cls}",
            "class": cls,
            "q3_m3h": q3,
            "r": r,
            "dn": 15,
            "scale_interval_l": "0.05",
            "pulse_value_l": pulse,
        }
    )


def _step(meter: WaterMeterType, temperature: int = 20, bench: BenchContext | None = None):
    plan = load_plan(PLAN)
    if temperature != 20:
        data = plan.model_dump(by_alias=True)
        for point in data["items"][0]["points"]:
            point["temperature_c"] = temperature
        plan = type(plan).model_validate(data)
    expansion = expand_plan(plan, meter, bench=bench)
    (step,) = expansion.steps
    assert isinstance(step, WaterErrorStep)
    return {p.key: p for p in step.points}


# (Q3 m³/h, R, class, water °C) -> Q1 and Q2 in L/h (§2.1), MPE upper / lower zone (§2.2)
COMBINATIONS = [
    ("2.5", "160", "2", 20, "15.625", "25", "2", "5"),  # D10
    ("1.6", "40", "2", 20, "40", "64", "2", "5"),
    ("4", "100", "1", 20, "40", "64", "1", "3"),
    ("6.3", "250", "1", 35, "25.2", "40.32", "2", "3"),  # class 1 above 30 °C
    ("10", "63", "2", 40, "158.730159", "253.968254", "3", "5"),  # L07: class 2 at 40 °C
]


@pytest.mark.parametrize(
    ("q3", "r", "cls", "temperature", "q1", "q2", "upper", "lower"), COMBINATIONS
)
def test_flow_points_bands_zones_and_mpe(
    q3: str, r: str, cls: str, temperature: int, q1: str, q2: str, upper: str, lower: str
) -> None:
    points = _step(_meter(q3, r, cls), temperature)
    q3_l_h = D(q3) * 1000
    assert points["Q3"].nominal_l_h == q3_l_h
    assert points["Q2"].nominal_l_h == D(q2)
    assert points["Q1"].nominal_l_h == D(q1)
    # §2.3: Q1 and Q2 from their nominal up to +10 %, Q3 from -10 % up to the nominal
    assert (points["Q3"].band_low_l_h, points["Q3"].band_high_l_h) == (q3_l_h * D("0.9"), q3_l_h)
    for key in ("Q1", "Q2"):
        nominal = points[key].nominal_l_h
        low, high = points[key].band_low_l_h, points[key].band_high_l_h
        assert low == nominal and abs(high - nominal * D("1.1")) <= D("0.000001")
        assert low < points[key].target_l_h < high
    assert [points[k].zone for k in ("Q3", "Q2", "Q1")] == ["upper", "upper", "lower"]
    assert points["Q3"].limits.mpe == points["Q2"].limits.mpe == D(upper)
    assert points["Q1"].limits.mpe == D(lower)


@pytest.mark.parametrize(("pulse", "upper_l", "lower_l"), [("0.01", 5, 2), (None, 25, 10)])
def test_test_volume_from_the_meters_resolution(pulse: str | None, upper_l: int, lower_l: int):
    """§2.6: δV = 0.05 L (scale interval) at 2 % -> 25 L; a 0.01 L pulse output -> 5 L; the
    lower zone's 5 % MPE allows 2.5 times less."""
    points = _step(_meter("2.5", "160", "2", pulse))
    assert points["Q3"].volume_l == points["Q2"].volume_l == upper_l
    assert points["Q1"].volume_l == lower_l


def test_a_coarse_reference_sets_a_larger_volume() -> None:
    """The same rule applied to the reference: a 0.1 L master-meter pulse needs 50 L."""
    points = _step(_meter("2.5", "160", "2"), bench=BenchContext(reference_resolution_l=D("0.1")))
    assert points["Q3"].volume_l == 50
    assert any("reference" in note for note in points["Q3"].why.notes)


def test_water_bench_context_and_planned_steps() -> None:
    bench = load_bench(REPO / "bench_configs" / "sim-water-10.toml")
    context = bench_context(bench)
    assert context.reference_resolution_l == D("0.001")
    assert (context.min_flow_l_h, context.max_flow_l_h) == (D(5), D(3000))
    meter = _meter("2.5", "160", "2")
    expansion = expand_plan(load_plan(PLAN), meter, bench=context)
    entries = [MeterEntry(p, meter.id, Path("x.toml"), meter, f"S{p}") for p in (1, 2)]
    steps = planned_steps({meter.id: expansion}, entries)
    assert [(s.key, s.item, s.positions) for s in steps] == [
        ("water_error/Q3", "water_error", [1, 2]),
        ("water_error/Q2", "water_error", [1, 2]),
        ("water_error/Q1", "water_error", [1, 2]),
    ]


def test_a_point_beyond_the_bench_flow_range_is_infeasible() -> None:
    context = BenchContext(min_flow_l_h=D(30), max_flow_l_h=D(3000))
    points = _step(_meter("2.5", "160", "2"), bench=context)
    assert not points["Q1"].feasible and points["Q3"].feasible


# -- water density and the weighed volume ------------------------------------------------------


@pytest.mark.parametrize(
    ("celsius", "density"),
    [(4, "999.9750"), (15, "999.1026"), (20, "998.2067"), (25, "997.0470"), (30, "995.6488")],
)
def test_water_density_follows_the_tanaka_formula(celsius: int, density: str) -> None:
    assert abs(water_density(celsius) - Fraction(density)) <= Fraction("0.00006")


def test_weighed_volume_corrects_density_and_air_buoyancy() -> None:
    # 10 kg on the balance at 20 °C: m = 10 x 1.00105..., V = m / 998.2067 kg/m³
    factor = buoyancy_factor(water_density(20))
    assert abs(factor - Fraction("1.0010534")) < Fraction("0.0000001")
    volume = weighed_volume_l("1.000", "11.000", 20)
    assert abs(volume - 10 * factor / water_density(20) * 1000) < Fraction(1, 10**12)
    assert Fraction("10.028") < volume < Fraction("10.029")
    with pytest.raises(ValueError, match="0..40"):
        water_density(55)
