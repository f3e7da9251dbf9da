"""Plan-time pieces of the verdict rules: manual items (visual inspection, AC voltage test,
water tightness) accepted and expanded as manual steps the runner does not execute; the lot
rule carried as data into the expansion; water points outside the meter's temperature class
refused at plan time; the MPE row following the measured temperature."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from meterbench.config.errors import ConfigError
from meterbench.config.meter_types import WaterMeterType, load_meter_type
from meterbench.config.plans import load_plan
from meterbench.plan.expand import expand_plan
from meterbench.plan.model import ManualStep, PlanExpansion, WaterErrorStep
from meterbench.regulations.profile import WaterProfile, load_profile
from meterbench.regulations.water import (
    in_temperature_class,
    mpe_at_measured_temperature,
)
from meterbench.runner.engine import planned_steps

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "bench_configs" / "plans"
TYPES = REPO / "bench_configs" / "meter_types"


def _with(plan_file: Path, tmp_path: Path, head: str = "", items: str = "") -> Path:
    """The plan file with text added before its first item and after its items."""
    text = plan_file.read_text()
    first = text.index("[[items]]")
    out = tmp_path / plan_file.name
    out.write_text(text[:first] + head + "\n" + items + "\n" + text[first:])
    return out


def test_manual_items_are_planned_as_manual_steps(tmp_path: Path) -> None:
    items = (
        '[[items]]\ntype = "visual"\n\n'
        '[[items]]\ntype = "ac_voltage"\nmandatory = false\ninstructions = "2 kV, 1 min"\n'
    )
    plan = load_plan(_with(PLANS / "jjg596-2012-initial.toml", tmp_path, items=items))
    meter = load_meter_type(TYPES / "1p-class2-5-60a.toml")
    expansion = expand_plan(plan, meter)
    manual = [s for s in expansion.steps if isinstance(s, ManualStep)]
    assert [(s.id, s.item, s.mandatory) for s in manual] == [
        ("visual", "visual", True),
        ("ac_voltage", "ac_voltage", False),
    ]
    assert manual[0].title.startswith("外观检查")
    assert manual[1].instructions == "2 kV, 1 min"
    again = PlanExpansion.model_validate(expansion.to_json_dict())  # as a snapshot reads back
    assert again.steps[0] == manual[0]
    # the runner has no executor for them: they never become bench steps
    assert not {s.item for s in planned_steps({"t": expansion}, [])} & {"visual", "ac_voltage"}


def test_tightness_is_a_water_item_and_not_an_electricity_one(tmp_path: Path) -> None:
    water = load_plan(
        _with(PLANS / "jjg162-2019-water.toml", tmp_path, items='[[items]]\ntype = "tightness"\n')
    )
    meter = load_meter_type(TYPES / "water-dn15-q3-2.5-r160.toml")
    step = expand_plan(water, meter).steps[0]
    assert isinstance(step, ManualStep) and step.item == "tightness"
    bad = _with(
        PLANS / "jjg596-2012-initial.toml", tmp_path, items='[[items]]\ntype = "tightness"\n'
    )
    with pytest.raises(ConfigError, match=r"items\[0\]\.type.*'tightness' is not an item"):
        load_plan(bad)


def test_the_lot_rule_is_plan_data_in_the_expansion(tmp_path: Path) -> None:
    head = (
        '[lot]\nitems = ["basic_error"]\npoints = ["P+/all/Ib/1.0"]\n'
        'weighting = "run"\nconsequence = "withhold"\n'
    )
    plan = load_plan(_with(PLANS / "jjg596-2012-initial.toml", tmp_path, head=head))
    expansion = expand_plan(plan, load_meter_type(TYPES / "1p-class2-5-60a.toml"))
    assert expansion.lot is not None
    assert expansion.lot.consequence == "withhold" and expansion.lot.weighting == "run"
    assert expansion.lot.points == ["P+/all/Ib/1.0"]
    assert (
        expand_plan(
            load_plan(PLANS / "jjg596-2012-initial.toml"),
            load_meter_type(TYPES / "1p-class2-5-60a.toml"),
        ).lot
        is None
    )
    bad = _with(PLANS / "jjg596-2012-initial.toml", tmp_path, head='[lot]\nconsequence = "x"\n')
    with pytest.raises(ConfigError, match=r"lot\.consequence"):
        load_plan(bad)


def _water_meter(temperature_class: str) -> WaterMeterType:
    return WaterMeterType.model_validate(
        {
            "id": "wm-t",
            "class": "2",
            "q3_m3h": "2.5",
            "r": "160",
            "dn": 15,
            "scale_interval_l": "0.05",
            "pulse_value_l": "0.01",
            "temperature_class": temperature_class,
        }
    )


def _water_plan(tmp_path: Path, temperature: int) -> Path:
    text = (PLANS / "jjg162-2019-water.toml").read_text()
    out = tmp_path / "water-hot.toml"
    out.write_text(text.replace("temperature_c = 20", f"temperature_c = {temperature}"))
    return out


def test_a_point_outside_the_temperature_class_is_refused_at_plan_time(tmp_path: Path) -> None:
    plan = load_plan(_water_plan(tmp_path, 40))
    with pytest.raises(ConfigError) as caught:
        expand_plan(plan, _water_meter("T30"))
    message = str(caught.value)
    assert "water-hot.toml" in message and "temperature_c" in message
    assert "T30" in message and "wm-t" in message and plan.id in message
    step = expand_plan(plan, _water_meter("T50")).steps[0]  # a T50 meter is judged at 40 °C
    assert isinstance(step, WaterErrorStep)
    assert step.points[0].limits.mpe == Decimal(3)  # upper zone above 30 °C
    assert expand_plan(load_plan(PLANS / "jjg162-2019-water.toml"), _water_meter("T30"))


def test_temperature_classes_and_the_mpe_at_the_measured_temperature() -> None:
    profile = load_profile("jjg162-2019")
    assert isinstance(profile, WaterProfile)
    assert in_temperature_class(profile, "T30", 30).value is True
    assert in_temperature_class(profile, "T30", Decimal("30.1")).value is False
    assert in_temperature_class(profile, "T50", 45).value is True
    assert in_temperature_class(profile, "T30", 0).value is False
    crossed = mpe_at_measured_temperature(profile, "2", "upper", 30, Decimal("31.5")).value
    assert (crossed.mpe, crossed.nominal_mpe) == (Decimal(3), Decimal(2))
    assert "31.5" in crossed.note and "nominal 30" in crossed.note and "±2" in crossed.note
    same = mpe_at_measured_temperature(profile, "2", "upper", 20, Decimal("21.2")).value
    assert same.mpe == same.nominal_mpe == Decimal(2)
    lower = mpe_at_measured_temperature(profile, "2", "lower", 20, 45).value
    assert lower.mpe == Decimal(5)
