"""Plans as data and their expansion for each example meter type, with hand-checked numbers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from meterbench.config.errors import ConfigError
from meterbench.config.meter_types import load_meter_type
from meterbench.config.plans import load_plan
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_files, expand_plan
from meterbench.plan.model import (
    BasicErrorStep,
    ClockStep,
    CreepStep,
    PlanExpansion,
    RegisterStep,
    StartingStep,
    StdDevStep,
    WaterErrorStep,
)

D = Decimal
REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "bench_configs" / "plans"
TYPES = REPO / "bench_configs" / "meter_types"
C0 = BenchContext(reference_constant=D("1.6e8"))


def expand(plan: str, meter: str, bench: BenchContext | None = None) -> PlanExpansion:
    return expand_files(PLANS / f"{plan}.toml", TYPES / f"{meter}.toml", bench)


def step(expansion: PlanExpansion, step_id: str) -> Any:
    """The step of that id; its class depends on the plan's data, so it is typed dynamically
    and the tests read the fields that step type has."""
    return next(s for s in expansion.steps if s.id == step_id)


def point(steps: BasicErrorStep, key: str) -> Any:
    return next(p for p in steps.points if p.key == key)


def test_example_plans_load_with_their_profiles():
    ids = {p.stem: load_plan(p) for p in sorted(PLANS.glob("*.toml"))}
    assert set(ids) >= {
        "jjg596-2012-initial",
        "jjg596-2012-subsequent",
        "iec62053-21-routine",
        "jjg162-2019-water",
    }
    initial = ids["jjg596-2012-initial"]
    assert [i.item_id for i in initial.items] == [
        "communication",
        "creep",
        "starting",
        "basic_error",
        "std_dev",
        "register",
        "clock",
        "time_setting",
    ]


# --------------------------------------------------------------------------- single-phase class 2


@pytest.fixture(scope="module")
def sp2() -> PlanExpansion:
    return expand("jjg596-2012-initial", "1p-class2-5-60a", C0)


def test_single_phase_class2_creep_and_starting(sp2):
    creep = step(sp2, "creep")
    assert isinstance(creep, CreepStep)
    # Δt = 480e6/(1200·1·220·60) = 30.303 min -> 1818.2 s, rounded up
    assert creep.duration_min == D("30.303") and creep.duration_s == 1819
    assert creep.voltage_v == D("253") and creep.current_a == 0 and creep.max_pulses == 1
    assert creep.why.inputs["K"] == "480"
    starting = step(sp2, "starting")
    assert isinstance(starting, StartingStep)
    assert starting.current_a == D("0.025") and starting.directions == ["P+"]
    assert starting.t0_min == D("10.9091") and starting.t0_s == D("654.545")
    assert starting.window_s == D("654.545") and starting.pf == "1.0"
    assert "starting.pf" in starting.unconfirmed


def test_single_phase_class2_error_points(sp2):
    basic = step(sp2, "basic_error")
    assert isinstance(basic, BasicErrorStep)
    keys = [p.key for p in basic.points]
    assert keys == [
        "P+/all/Imax/1.0",
        "P+/all/0.5Imax/1.0",
        "P+/all/Ib/1.0",
        "P+/all/0.1Ib/1.0",
        "P+/all/0.05Ib/1.0",
        "P+/all/Imax/0.5L",
        "P+/all/Ib/0.5L",
        "P+/all/0.2Ib/0.5L",
        "P+/all/0.1Ib/0.5L",
        "P+/all/Imax/0.8C",
        "P+/all/Ib/0.8C",
        "P+/all/0.2Ib/0.8C",
        "P+/all/0.1Ib/0.8C",
    ]
    ib = point(basic, "P+/all/Ib/1.0")
    # P = 1100 W; N_res = ceil(5000·1200/1.6e8) = 1; N_time = ceil(1100·5·1200/3.6e6) = 2
    assert (ib.current_a, ib.power_w, ib.limits.mpe, ib.rounding_interval) == (5, 1100, 2, D("0.2"))
    assert ib.pulses.pulses_per_reading == 2
    assert (ib.pulses.for_resolution, ib.pulses.for_time) == (1, 2)
    assert ib.pulses.reading_time_s == D("5.455")
    assert ib.readings.base == 2 and ib.readings.max == 4 and ib.readings.borderline_enabled
    assert ib.limits.acceptance is None
    low = point(basic, "P+/all/0.05Ib/1.0")
    assert low.current_a == D("0.25") and low.limits.mpe == D("2.5")
    assert point(basic, "P+/all/0.1Ib/0.5L").limits.mpe == D("2.5")
    assert point(basic, "P+/all/0.2Ib/0.8C").limits.mpe == 2
    imax = point(basic, "P+/all/Imax/0.5L")
    assert imax.power_w == 6600 and imax.pulses.pulses_per_reading == 11  # ceil(9.17)
    assert len(basic.skipped_points) == 19


def test_single_phase_class2_other_items(sp2):
    register = step(sp2, "register")
    assert isinstance(register, RegisterStep)
    # W = 0.01/(0.2·2 %) = 2.5 kWh at 13.2 kW: 681.8 s
    assert register.energy_kwh == D("2.5") and register.duration_s == D("681.818")
    assert register.limits.mpe == 2 and register.ahead_tolerance_kwh == D("0.01")
    clock = step(sp2, "clock")
    assert isinstance(clock, ClockStep)
    assert (clock.readings, clock.gate_pulses, clock.total_s) == (5, 60, 300)
    assert clock.limit_s_per_day == D("0.5") and clock.timebase_max_ppm == D("0.579")
    assert [s.id for s in sp2.skipped] == ["std_dev"]
    assert "class 2" in sp2.skipped[0].reason
    assert sp2.batch_statistics is True
    assert "plan.points" in sp2.unconfirmed and "clock.gate_pulses" in sp2.unconfirmed


# --------------------------------------------------------------------------- CT class 0.5S


@pytest.fixture(scope="module")
def ct05() -> PlanExpansion:
    return expand("jjg596-2012-initial", "3p4w-class0.5s-ct-1.5-6a", C0)


def test_ct_class05s_points_and_single_elements(ct05):
    basic = step(ct05, "basic_error")
    assert isinstance(basic, BasicErrorStep)
    assert point(basic, "P+/all/0.01In/1.0").limits.mpe == 1
    assert point(basic, "P+/all/0.05In/1.0").limits.mpe == D("0.5")
    assert point(basic, "P+/all/0.02In/0.5L").limits.mpe == 1
    assert point(basic, "P+/all/0.1In/0.8C").limits.mpe == D("0.6")
    for element in "ABC":
        single = point(basic, f"P+/{element}/Ib/1.0")
        # one element: 57.7 V · 1.5 A = 86.55 W; one pulse lasts 6.5 s
        assert single.limits.mpe == D("0.6") and single.power_w == D("86.55")
        assert single.pulses.pulses_per_reading == 1
        assert point(basic, f"P+/{element}/0.1In/0.5L").limits.mpe == 1
    reverse = point(basic, "P-/all/Ib/1.0")  # bidirectional meter
    assert reverse.limits.mpe == D("0.5")
    assert all(p.rounding_interval == D("0.05") for p in basic.points)
    assert not any("0.02In/1.0" in p.key for p in basic.points)  # class 1/2 CT band only


def test_ct_class05s_starting_creep_std_dev(ct05):
    starting = step(ct05, "starting")
    assert isinstance(starting, StartingStep)
    # Ist = 0.0015 A; t0 = 72000/(6400·3·57.7·0.0015) = 43.3276 min, both directions
    assert starting.current_a == D("0.0015") and starting.t0_min == D("43.3276")
    assert starting.directions == ["P+", "P-"]
    creep = step(ct05, "creep")
    assert isinstance(creep, CreepStep)
    # 600e6/(6400·3·57.7·6) = 90.2657 min
    assert creep.duration_min == D("90.2657") and creep.voltage_v == D("66.355")
    std = step(ct05, "std_dev")
    assert isinstance(std, StdDevStep)
    assert [p.point.key for p in std.points] == ["P+/all/Ib/1.0", "P+/all/Ib/0.5L"]
    assert all(p.readings == 5 and p.limit == D("0.1") for p in std.points)
    assert all(p.std_dev_interval == D("0.01") for p in std.points)
    assert all(p.point.readings.max == 5 for p in std.points)  # no borderline extras
    assert ct05.batch_statistics is False  # the meter type turns it off
    assert any("register test takes" in w for w in ct05.warnings)


def test_three_phase_class1_direct_and_class1_special_points():
    expansion = expand("jjg596-2012-initial", "3p4w-class1-5-60a", C0)
    basic = step(expansion, "basic_error")
    assert isinstance(basic, BasicErrorStep)
    assert point(basic, "P+/all/Ib/0.25L").limits.mpe == D("3.5")
    assert point(basic, "P+/all/Ib/0.5C").limits.mpe == D("2.5")
    assert point(basic, "P+/A/0.1Ib/1.0").limits.mpe == 2
    balanced = point(basic, "P+/all/Ib/1.0")
    assert balanced.power_w == 3300  # 3 · 220 · 5
    assert point(basic, "P+/B/Ib/1.0").power_w == 1100
    creep = step(expansion, "creep")
    assert isinstance(creep, CreepStep)
    # 600e6/(400·3·220·60) = 37.8788 min
    assert creep.duration_min == D("37.8788")


def test_single_phase_class1_without_clock():
    expansion = expand("jjg596-2012-initial", "1p-class1-10-100a", C0)
    assert {s.id for s in expansion.skipped} == {"std_dev", "clock", "time_setting"}
    starting = step(expansion, "starting")
    assert isinstance(starting, StartingStep)
    assert starting.current_a == D("0.04") and starting.t0_min == D("10.2273")


def test_water_expansion():
    expansion = expand("jjg162-2019-water", "water-dn15-q3-2.5-r160")
    water = step(expansion, "water_error")
    assert isinstance(water, WaterErrorStep)
    assert water.rates.q1_m3h == D("0.015625") and water.rates.q4_m3h == D("3.125")
    q3, q2, q1 = water.points
    assert (q3.nominal_l_h, q3.band_low_l_h, q3.band_high_l_h) == (2500, 2250, 2500)
    assert (q2.nominal_l_h, q2.zone, q2.limits.mpe) == (25, "upper", 2)
    assert (q1.nominal_l_h, q1.zone, q1.limits.mpe) == (D("15.625"), "lower", 5)
    assert q3.volume_l == 25 and q1.volume_l == 10  # 0.05/(0.1·2 %), 0.05/(0.1·5 %)
    # Q1 target = middle of 15.625..17.1875 = 16.40625 L/h; 10 L take 2194.286 s
    assert q1.target_l_h == D("16.40625") and q1.duration_s == D("2194.286")
    assert q1.runs == 1 and q1.rounding_interval == D("0.2")
    assert "flow.bands[0]" in expansion.unconfirmed


def test_water_bench_reference_resolution_and_flow_range():
    bench = BenchContext(reference_resolution_l=D("0.1"), max_flow_l_h=D("2000"))
    water = step(expand("jjg162-2019-water", "water-dn15-q3-2.5-r160", bench), "water_error")
    q3 = water.points[0]
    assert q3.volume_l == 50 and not q3.feasible and "2000" in q3.problems[0]


def test_subsequent_and_iec_plans():
    sub = expand("jjg596-2012-subsequent", "3p4w-class0.5s-ct-1.5-6a")
    assert "std_dev" not in {s.id for s in sub.steps}
    iec = expand("iec62053-21-routine", "1p-class2-5-60a", C0)
    basic = step(iec, "basic_error")
    assert isinstance(basic, BasicErrorStep)
    assert all(not p.readings.borderline_enabled and p.readings.max == 2 for p in basic.points)
    assert iec.profile.id == "iec62053-21"
    assert "starting.time_coefficient" in step(iec, "starting").unconfirmed


def test_without_reference_constant_n_follows_the_time_rule():
    expansion = expand("jjg596-2012-initial", "1p-class2-5-60a")
    ib = point(step(expansion, "basic_error"), "P+/all/Ib/1.0")
    assert ib.pulses.for_resolution is None and ib.pulses.pulses_per_reading == 2
    assert ib.pulses.resolution_pct is None and ib.why.notes


def test_bench_setpoint_limits_flag_points():
    bench = BenchContext(
        reference_constant=D("1.6e8"), max_current_a=D("50"), max_voltage_v=D("250")
    )
    expansion = expand("jjg596-2012-initial", "1p-class2-5-60a", bench)
    assert not point(step(expansion, "basic_error"), "P+/all/Imax/1.0").feasible
    assert point(step(expansion, "basic_error"), "P+/all/Ib/1.0").feasible
    creep = step(expansion, "creep")
    assert not creep.feasible and "253" in creep.problems[0]


def test_expansion_is_json_serialisable_and_round_trips(sp2):
    data = sp2.to_json_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert data["schema"] == "meterbench/plan-expansion/1"
    again = PlanExpansion.model_validate(json.loads(text))
    assert again == sp2


# --------------------------------------------------------------------------- plan data and errors

PLAN_HEAD = """
[plan]
id = "t"
title = "test"
regulation = "jjg596-2012"
verification = "initial"
kind = "electricity"
"""


def write(tmp_path: Path, body: str, head: str = PLAN_HEAD) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def test_acceptance_limits_stay_separate(tmp_path):
    path = write(
        tmp_path,
        """
[acceptance]
fraction_of_mpe = 0.6
source = "utility contract"

[[items]]
type = "basic_error"
points = [{ current = "Ib", pf = "1.0" }, { current = "Imax", pf = "1.0", acceptance = 1.0 }]
""",
    )
    expansion = expand_plan(load_plan(path), load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    basic = step(expansion, "basic_error")
    ib, imax = basic.points
    assert ib.limits.mpe == 2 and ib.limits.acceptance == D("1.2")
    assert "utility contract" in ib.limits.acceptance_basis
    assert imax.limits.mpe == 2 and imax.limits.acceptance == 1


def test_profile_overrides_from_the_plan(tmp_path):
    path = write(
        tmp_path,
        """
[profile_overrides]
"basic_error.readings_per_point" = 3
"basic_error.borderline.enabled" = false

[[items]]
type = "basic_error"
points = [{ current = "Ib" }]
""",
    )
    expansion = expand_plan(load_plan(path), load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    ib = step(expansion, "basic_error").points[0]
    assert ib.readings.base == 3 and ib.readings.max == 3
    assert expansion.profile.overrides == {
        "basic_error.readings_per_point": "3",
        "basic_error.borderline.enabled": "False",
    }


BAD_PLANS = [
    ('[[items]]\ntype = "burn_in"\n', "items[0].type", "unknown value 'burn_in'"),
    ('[[items]]\ntype = "creep"\nspeed = 2\n', "items[0].speed", "unknown field"),
    (
        '[[items]]\ntype = "basic_error"\npoints = [{ current = "0.05" }]\n',
        "items[0].points[0].current",
        "names no current",
    ),
    (
        '[[items]]\ntype = "basic_error"\npoints = [{ current = "Ib", pf = "0.5" }]\n',
        "items[0].points[0].pf",
        "needs L",
    ),
    ('[[items]]\ntype = "basic_error"\npoints = []\n', "items[0].points", "at least 1"),
    ('[[items]]\ntype = "creep"\n\n[[items]]\ntype = "creep"\n', "items[1].id", "used twice"),
    (
        '[[items]]\ntype = "water_error"\npoints = [{ flow = "Q3" }]\n',
        "items[0].type",
        "not an item",
    ),
    (
        '[profile_overrides]\n"nope.value" = 1\n\n[[items]]\ntype = "creep"\n',
        "profile_overrides.nope.value",
        "no such value",
    ),
    ("", "items", "required"),
]


@pytest.mark.parametrize(("body", "field", "message"), BAD_PLANS)
def test_bad_plan_names_the_field(tmp_path, body, field, message):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    fields = [issue.field for issue in info.value.issues]
    assert field in fields, str(info.value)
    assert message in info.value.issues[fields.index(field)].message
    assert info.value.path.endswith("plan.toml")


def test_plan_against_its_profile(tmp_path):
    path = write(
        tmp_path, '[[items]]\ntype = "clock"\n', PLAN_HEAD.replace("jjg596-2012", "iec62053-21")
    )
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert info.value.field == "items[0].type" and "iec62053-21" in info.value.message
    path = write(
        tmp_path, '[[items]]\ntype = "creep"\n', PLAN_HEAD.replace("jjg596-2012", "jjg999")
    )
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert info.value.field == "plan.regulation"
    path = write(
        tmp_path, '[[items]]\ntype = "creep"\n', PLAN_HEAD.replace("jjg596-2012", "jjg162-2019")
    )
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert info.value.field == "plan.kind"


def test_points_without_an_mpe_for_this_meter(tmp_path):
    path = write(
        tmp_path, '[[items]]\ntype = "basic_error"\npoints = [{ current = "Ib", pf = "0.25L" }]\n'
    )
    with pytest.raises(ConfigError) as info:
        expand_plan(load_plan(path), load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    assert info.value.field == "items[0].points[0]" and "PF 0.25L" in info.value.message
    path = write(tmp_path, '[[items]]\ntype = "basic_error"\npoints = [{ current = "0.5Itr" }]\n')
    with pytest.raises(ConfigError) as info:
        expand_plan(load_plan(path), load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    assert info.value.field == "items[0].points[0].current"
    path = write(
        tmp_path,
        '[[items]]\ntype = "basic_error"\npoints = [{ current = "Ib" }, { current = "1.0Ib" }]\n',
    )
    with pytest.raises(ConfigError, match="repeats"):
        expand_plan(load_plan(path), load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    path = write(
        tmp_path,
        '[[items]]\ntype = "basic_error"\npoints = [{ current = "Ib", acceptance = 3 }]\n',
    )
    with pytest.raises(ConfigError) as info:
        expand_plan(load_plan(path), load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    assert info.value.field == "items[0].points[0].acceptance"


def test_meter_that_does_not_fit_the_plan():
    with pytest.raises(ConfigError) as info:
        expand("iec62053-21-routine", "3p4w-class0.5s-ct-1.5-6a")
    assert info.value.field == "class" and info.value.path.endswith("3p4w-class0.5s-ct-1.5-6a.toml")
    with pytest.raises(ConfigError) as info:
        expand("jjg596-2012-initial", "water-dn15-q3-2.5-r160")
    assert info.value.field == "kind"
    with pytest.raises(ConfigError) as info:
        expand("jjg162-2019-water", "1p-class2-5-60a")
    assert info.value.field == "kind"
