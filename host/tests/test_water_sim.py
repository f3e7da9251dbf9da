"""The water physics of the simulated bench, and the water bench configuration.

Physics: the pump curve and first-order flow changes (run-out volume Q·τ), error curves over
flow with a starting flow, pulse outputs consistent with the indicated volume, the master
meter's count, the weighing tank; changes never rewrite what was already observed.
Configuration: every rule a water bench has is reported with its file and field.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.runner.engine import RunOptions, prepare
from meterbench.sim.water import (
    TRUE,
    Hydraulics,
    ReferencePulseOutput,
    WaterMeterBehaviour,
    WaterMeterModel,
    WaterWorld,
)

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-water-10.toml"
CURVE = ((6.0, -6.0), (15.0, -2.2), (18.0, -2.2), (2000.0, 0.2))


def _world(**behaviours: WaterMeterBehaviour) -> WaterWorld:
    meters = {int(k[1:]): b for k, b in behaviours.items()}
    world = WaterWorld(
        Hydraulics(time_constant_s=1.0),
        meters,
        reference_pulses_per_l=1000,
        reference_error_pct=0.1,
    )
    world.set_drive(0.0, running=True, demand=0.5)
    return world


def _meter(world: WaterWorld, position: int) -> WaterMeterModel:
    """The meter model at a position (the world's map also holds reference pulse outputs)."""
    meter = world.meters[position]
    assert isinstance(meter, WaterMeterModel), meter
    return meter


def test_flow_follows_the_pump_curve_with_a_first_order_lag() -> None:
    world = _world()
    world.set_valve(10.0, "start", True)
    q = 3200 * 0.5**1.15
    assert world.flow_l_h(10.0) == 0
    assert world.flow_l_h(11.0) == pytest.approx(q * (1 - math.exp(-1)))
    assert world.flow_l_h(30.0) == pytest.approx(q)
    world.set_valve(100.0, "start", False)
    assert world.flow_l_h(200.0) == 0
    run_out = world.volume(TRUE, 200.0) - world.volume(TRUE, 100.0)
    assert run_out == pytest.approx(q / 3600 * 1.0, rel=1e-4)  # Q·τ after the valve closes
    # start-up misses the same Q·τ: valve-open time x flow is the run's volume
    assert world.volume(TRUE, 200.0) == pytest.approx(q / 3600 * 90, rel=1e-4)


def test_meters_integrate_with_their_error_curve_and_starting_flow() -> None:
    world = _world(m1=WaterMeterBehaviour(0.01, CURVE, start_flow_l_h=4, seed=1))
    behaviour = _meter(world, 1).behaviour
    assert behaviour.error_at(16) == pytest.approx(-2.2)
    assert behaviour.error_at(2) == pytest.approx(-6.0)  # constant beyond the ends
    assert behaviour.factor(3.9) == 0  # below its starting flow it does not turn
    # interpolation in log(flow): halfway between 18 and 2000 L/h in log terms
    middle = math.sqrt(18 * 2000)
    assert behaviour.error_at(middle) == pytest.approx((-2.2 + 0.2) / 2)
    world.set_valve(0.0, "start", True)
    t0, t1 = 50.0, 150.0
    true = world.volume(TRUE, t1) - world.volume(TRUE, t0)
    meter = _meter(world, 1)
    indicated = meter.indicated_l(t1) - meter.indicated_l(t0)
    assert indicated / true - 1 == pytest.approx(behaviour.error_at(world.flow_l_h(t0)) / 100)


def test_pulses_match_the_indicated_volume_and_a_dead_meter_is_silent() -> None:
    world = _world(
        m1=WaterMeterBehaviour(0.01, CURVE, seed=1), m2=WaterMeterBehaviour(0.01, dead=True)
    )
    world.set_valve(0.0, "start", True)
    world.set_valve(60.0, "start", False)
    meter = _meter(world, 1)
    pulses = meter.pulse_times(0.0, 30.0) + meter.pulse_times(30.0, 100.0)
    assert pulses == sorted(pulses) and len(set(pulses)) == len(pulses)
    phase = meter._phase
    assert len(pulses) == math.floor(meter.indicated_l(100.0) / 0.01 + phase) - math.floor(phase)
    assert world.meters[2].pulse_times(0.0, 100.0) == []


def test_master_meter_count_and_its_pulse_output_agree() -> None:
    world = _world()
    world.set_valve(0.0, "start", True)
    reference = world.reference
    assert reference.count(40.0) == math.floor(world.volume(TRUE, 40.0) * 1.001 * 1000 + 1e-9)
    edges = ReferencePulseOutput(reference).pulse_times(0.0, 40.0)
    assert abs(len(edges) - reference.count(40.0)) <= 1


def test_changes_never_rewrite_what_was_observed() -> None:
    world = _world()
    world.set_valve(0.0, "start", True)
    seen = world.volume(TRUE, 50.0)
    world.set_drive(20.0, demand=0.1)  # too late: time 50 was already observed
    assert world.volume(TRUE, 50.0) == seen


def test_tank_collects_and_drains() -> None:
    world = _world()
    world.set_valve(0.0, "start", True)
    world.set_valve(60.0, "start", False)
    collected = world.tank.content_l(100.0)
    assert collected == pytest.approx(world.volume(TRUE, 100.0))
    assert world.tank.mass_kg(100.0) == pytest.approx(collected * world.density_kg_m3(100.0) / 1000)
    world.set_valve(100.0, "drain", True)
    assert world.tank.content_l(105.0) == pytest.approx(max(0.0, collected - 36000 / 3600 * 5))
    world.set_valve(200.0, "drain", False)
    assert world.tank.content_l(300.0) == 0


# -- configuration ---------------------------------------------------------------------------


def _bench_text(tmp_path: Path, old: str, new: str) -> Path:
    text = BENCH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bench.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('method = "master_meter"', 'method = "gravimetric"', "water.start"),
        ('start = "flying"', 'start = "standing"\nmin_flow = 1', "water.min_flow"),
        ('channel = 10 }', 'channel = 3 }', "water.reference.count"),  # a meter's channel
        ('[water.start_valve]\ncontroller = "C1"', '[water.start_valve]\ncontroller = "C9"',
         "water.start_valve"),
        ('kind = "water"', 'kind = "electricity"', "source"),
        ("pulses_per_l = 1000", "pulses_per_l = 0", "water.reference.pulses_per_l"),
        ("max_flow_l_h = 3000", "max_flow_l_h = 4", "water.max_flow_l_h"),
    ],
)  # fmt: skip
def test_bench_problems_name_the_file_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    path = _bench_text(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_bench(path)
    assert str(path) in str(caught.value) and field in str(caught.value)


def test_standing_master_meter_needs_its_count_channel(tmp_path: Path) -> None:
    text = BENCH.read_text(encoding="utf-8")
    text = text.replace('start = "flying"', 'start = "standing"')
    text = text.replace('count = { controller = "C1", channel = 10 }\n', "")
    path = tmp_path / "bench.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="water.reference.count"):
        load_bench(path)


def test_electricity_meters_are_refused_on_a_water_bench() -> None:
    meters = REPO / "bench_configs" / "meters" / "sim-1p-24.csv"
    plan = REPO / "bench_configs" / "plans" / "jjg162-2019-water.toml"
    with pytest.raises(ConfigError, match="not a water meter; this bench is a water bench"):
        prepare(RunOptions(BENCH, plan, meters))


def test_the_documented_bench_has_what_a_water_bench_needs() -> None:
    bench = load_bench(BENCH)
    water = bench.section.water
    assert bench.kind.name == "water" and "source" not in bench.endpoints()
    assert water.scale is not None and water.scale.drain is not None
    assert set(bench.endpoints()) >= {"water.modbus.url", "water.scale.url"}
