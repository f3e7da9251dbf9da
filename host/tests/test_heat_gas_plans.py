"""Heat and gas meter types, plans and their expansion: what ``meterbench plan show`` lists for
a class 2 heat meter (qp 1.5 m³/h, qi 0.015 m³/h) and for G2.5/G4 class 1.5 gas meters, and the
errors a wrong file gets (file and field named)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from meterbench.config.errors import ConfigError
from meterbench.config.gas_meter_type import GasMeterType
from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.config.meter_types import load_meter_type
from meterbench.config.plans import load_plan
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_plan
from meterbench.plan.gas_model import GasErrorStep, GasPressureLossStep, GasTightnessStep
from meterbench.plan.heat_model import (
    HeatCalculatorStep,
    HeatCompleteStep,
    HeatFlowStep,
    HeatSensorPairStep,
)
from meterbench.regulations.platinum import resistance_ohm

REPO = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "meterbench"
PLANS = REPO / "bench_configs" / "plans"
TYPES = REPO / "bench_configs" / "meter_types"
HEAT = TYPES / "heat-dn20-qp1.5-class2.toml"
G25 = TYPES / "gas-g2.5-class1.5.toml"
G4 = TYPES / "gas-g4-class1.5.toml"
D = Decimal


def show(plan: str, meter: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "plan", "show", plan, "--meter-type", meter, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_acceptance_heat_plan_show_lists_the_flow_sensor_mpe():
    result = show("jjg225-heat", "heat-dn20-qp1.5-class2", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    flow = next(s for s in data["steps"] if s["type"] == "heat_flow")
    points = {p["key"]: p for p in flow["points"]}
    assert list(points) == ["qp", "0.1qp", "qi"]
    # Ef = 2 + 0.02·qp/q at the middle of each band: 0.95 qp, 0.105 qp, 1.05 qi
    assert points["qp"]["limits"]["mpe"] == "2.021053"
    assert points["0.1qp"]["limits"]["mpe"] == "2.190476"
    assert points["qi"]["limits"]["mpe"] == "3.904762"
    assert (points["qi"]["band_low_l_h"], points["qi"]["band_high_l_h"]) == ("15", "16.5")
    assert (points["qp"]["band_low_l_h"], points["qp"]["band_high_l_h"]) == ("1350", "1500")
    combined = points["0.1qp"]["combined"]
    # paired with 10..20 K: Δθ 15 K, Et = 0.5 + 3·3/15, Ec = 0.5 + 3/15
    assert (combined["delta_theta_k"], combined["et"], combined["ec"]) == ("15", "1.1", "0.7")
    assert combined["e"] == "3.990476"
    assert points["qp"]["water_band_c"] == "45 .. 55"
    assert data["meter_type"]["kind"] == "heat" and data["batch_statistics"] is True
    assert "mpe.flow_sensor[1]" not in data["unconfirmed"]
    calc = next(s for s in data["steps"] if s["type"] == "heat_calculator")
    assert [p["limits"]["mpe"] for p in calc["points"]] == ["1.409091", "0.7", "0.544444"]


def test_acceptance_gas_plan_show_lists_the_mpe_per_zone():
    result = show("jjg577-gas", "gas-g2.5-class1.5", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    step = next(s for s in data["steps"] if s["type"] == "gas_error")
    assert (step["qmin_m3h"], step["qt_m3h"], step["qmax_m3h"]) == ("0.025", "0.4", "4")
    zones = {p["key"]: (p["zone"], p["limits"]["mpe"]) for p in step["points"]}
    assert zones == {"qmax": ("upper", "1.5"), "0.2qmax": ("upper", "1.5"), "qmin": ("lower", "3")}
    volumes = {p["key"]: (p["volume_l"], p["cycles"]) for p in step["points"]}
    assert volumes["qmin"] == ("67.2", "56")
    types = [s["type"] for s in data["steps"]]
    assert types == ["gas_tightness", "gas_error", "gas_pressure_loss"]


def test_human_readable_plan_show_for_heat_and_gas():
    heat = show("jjg225-heat", "heat-dn20-qp1.5-class2")
    assert heat.returncode == 0 and "Ef ±%" in heat.stdout and "R supply Ω" in heat.stdout
    gas = show("jjg577-gas", "gas-g4-class1.5")
    assert gas.returncode == 0 and "cycles" in gas.stdout and "qt 0.6" in gas.stdout


def test_shipped_types_load():
    heat = load_meter_type(HEAT)
    assert isinstance(heat, HeatMeterType)
    assert (heat.meter_class, heat.qp_m3h, heat.qi_m3h, heat.dn) == ("2", D("1.5"), D("0.015"), 20)
    assert heat.cjt188_type == 0x20 and heat.heat_resolution_kwh == D("0.001")
    g4 = load_meter_type(G4)
    assert isinstance(g4, GasMeterType) and g4.resolution_l == D("0.2")
    assert g4.cjt188_type == 0x30


def _write(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source", "old", "new", "field"),
    [
        (HEAT, "qi_m3h = 0.015", "qi_m3h = 2", "qi_m3h"),
        (HEAT, 'class = "2"', 'class = "0.5"', "class"),
        (HEAT, "delta_theta_max_k = 70", "delta_theta_max_k = 2", "delta_theta_max_k"),
        (HEAT, "theta_max_c = 95", "theta_max_c = 50", "delta_theta_max_k"),
        (G25, "qmin_m3h = 0.025", "qmin_m3h = 5", "qmin_m3h"),
        (G25, 'class = "1.5"', 'class = "2"', "class"),
        (G25, "cyclic_volume_l = 1.2", "cyclic_volume_l = 0.1", "cyclic_volume_l"),
    ],
)
def test_bad_nameplates_name_file_and_field(tmp_path, source, old, new, field):
    path = _write(tmp_path, source, old, new)
    with pytest.raises(ConfigError) as info:
        load_meter_type(path)
    assert info.value.path == path or str(info.value.path) == str(path)
    assert field in {issue.field for issue in info.value.issues}


def test_plan_show_refuses_a_meter_of_another_kind():
    result = show("jjg225-heat", "gas-g4-class1.5", "--json")
    assert result.returncode != 0
    assert "gas-g4-class1.5.toml" in result.stderr and "kind" in result.stderr


def test_a_gas_item_in_a_heat_plan_is_refused(tmp_path):
    path = tmp_path / "mixed.toml"
    path.write_text(
        '[plan]\nid = "mixed"\ntitle = "t"\nregulation = "jjg225-2024"\n'
        'verification = "initial"\nkind = "heat"\n\n'
        '[[items]]\ntype = "heat_flow"\npoints = [{ flow = "qp" }]\n\n'
        '[[items]]\ntype = "gas_tightness"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert "items[1].type" in str(info.value) and "heat meters" in str(info.value)


def test_an_unknown_point_names_the_plan_field(tmp_path):
    path = _write(tmp_path, PLANS / "jjg225-heat.toml", '{ flow = "qi" }', '{ flow = "q9" }')
    with pytest.raises(ConfigError) as info:
        expand_plan(load_plan(path), load_meter_type(HEAT))
    assert "items[0].points[2].flow" in str(info.value) and "q9" in str(info.value)


def test_calculator_inputs_are_simulated_pt1000_values():
    expansion = expand_plan(load_plan(PLANS / "jjg225-heat.toml"), load_meter_type(HEAT))
    calc = next(s for s in expansion.steps if isinstance(s, HeatCalculatorStep))
    pair = next(s for s in expansion.steps if isinstance(s, HeatSensorPairStep))
    for point in calc.points:
        assert point.supply_c - point.return_c == point.delta_theta_k
        assert D(4) <= point.return_c and point.supply_c <= D(95)
        assert float(point.supply_ohm) == pytest.approx(
            resistance_ohm(float(point.supply_c), 1000), abs=1e-4
        )
        # the test volume carries at least 10 heat resolutions per percent of Ec
        assert point.heat_kwh is not None and point.heat_kwh >= D("0.001") / (
            D("0.1") * point.limits.mpe / 100
        )
    assert [p.limits.mpe for p in pair.points] == [D("3.227273"), D("1.1"), D("0.633333")]
    assert calc.points[-1].return_c == D("27.5")  # Δθ 67.5 K pushed below the 40 °C start


def test_complete_meter_plan_uses_the_profile_pairs():
    expansion = expand_plan(load_plan(PLANS / "jjg225-heat-complete.toml"), load_meter_type(HEAT))
    (step,) = expansion.steps
    assert isinstance(step, HeatCompleteStep)
    assert [p.key for p in step.points] == ["qp/dtmin", "0.1qp/10-20K", "qi/dtmax"]
    for p in step.points:
        c = p.components
        assert p.limits.mpe == c.e and abs(c.e - (c.ef + c.et + c.ec)) <= D("0.000002")
    assert step.points[0].heat_kwh > 0 and step.points[0].volume_l >= D("39.8")


def test_flow_outside_the_bench_is_infeasible():
    bench = BenchContext(min_flow_l_h=D(20), max_flow_l_h=D(3000))
    expansion = expand_plan(
        load_plan(PLANS / "jjg225-heat.toml"), load_meter_type(HEAT), bench=bench
    )
    flow = next(s for s in expansion.steps if isinstance(s, HeatFlowStep))
    feasible = {p.key: p.feasible for p in flow.points}
    assert feasible == {"qp": True, "0.1qp": True, "qi": False}


def test_gas_steps_and_designation_check(tmp_path):
    expansion = expand_plan(load_plan(PLANS / "jjg577-gas.toml"), load_meter_type(G4))
    tight, error, loss = expansion.steps
    assert isinstance(tight, GasTightnessStep) and tight.pressure_kpa == 15 and tight.hold_s == 180
    assert isinstance(error, GasErrorStep) and error.humidity_correction
    assert isinstance(loss, GasPressureLossStep) and loss.limit_pa == 200
    assert expansion.warnings == []
    wrong = _write(tmp_path, G4, 'designation = "G4"', 'designation = "G6"')
    warned = expand_plan(load_plan(PLANS / "jjg577-gas.toml"), load_meter_type(wrong))
    assert any("G6" in w for w in warned.warnings)


def test_heat_nameplate_outside_the_profile_is_warned(tmp_path):
    path = _write(tmp_path, HEAT, "delta_theta_min_k = 3", "delta_theta_min_k = 4")
    expansion = expand_plan(load_plan(PLANS / "jjg225-heat.toml"), load_meter_type(path))
    assert any("Δθmin = 4 K" in w for w in expansion.warnings)


def test_a_coarse_reference_sets_a_larger_volume():
    bench = BenchContext(reference_resolution_l=D(1))
    heat = expand_plan(load_plan(PLANS / "jjg225-heat.toml"), load_meter_type(HEAT), bench=bench)
    flow = next(s for s in heat.steps if isinstance(s, HeatFlowStep))
    qp = flow.points[0]
    assert qp.volume_l == D(495) and "reference" in qp.why.notes[-1]  # 1 L/(0.1·2.021 %)
    gas = expand_plan(load_plan(PLANS / "jjg577-gas.toml"), load_meter_type(G25), bench=bench)
    error = next(s for s in gas.steps if isinstance(s, GasErrorStep))
    assert error.points[0].volume_l == D("667.2")  # 666.7 L -> 556 cycles of 1.2 L
