"""Load-dependent error curves of simulated meters, pulses and register apart, so that every
cheat of the acceptance list can be staged on the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.electrical import Setpoint, pf_to_angle
from meterbench.kinds.electricity.simulator import SimulatedBench
from meterbench.sim.error_curves import CurvePoint, ErrorCurve
from meterbench.sim.physics import (
    ElectricityWorld,
    ErrorModel,
    ErrorPoint,
    MeterBehaviour,
    MeterPhysics,
    ReferenceStandard,
)
from meterbench.sim.water import TRUE, Hydraulics, WaterMeterBehaviour, WaterMeterModel, WaterWorld

BENCH = Path(__file__).resolve().parents[2] / "bench_configs" / "sim-1p-24.toml"
IB = 5.0


def _meter(**behaviour: object) -> tuple[ElectricityWorld, MeterPhysics]:
    meter = MeterPhysics(MeterBehaviour(1200, IB, **behaviour))  # type: ignore[arg-type]
    return ElectricityWorld(ReferenceStandard(2e6), {1: meter}), meter


def _errors(meter_world: tuple[ElectricityWorld, MeterPhysics], current: float, pf: object):
    """(pulse error %, register error %) over one hour at a load, against true energy."""
    world, meter = meter_world
    t0 = world.setpoint_since + 10_000.0
    setpoint = Setpoint.balanced("1p", 220.0, current, pf)  # type: ignore[arg-type]
    world.apply(t0, setpoint)
    true = setpoint.active_power_w * 3600 / 3.6e6
    pulses = meter.measured_energy_kwh(t0 + 3600) - meter.measured_energy_kwh(t0)
    register = meter.register_kwh(t0 + 3600) - meter.register_kwh(t0)
    world.apply(t0 + 3600, Setpoint.balanced("1p", 220.0, 0.0, 1.0))
    return (pulses / true - 1) * 100, (register / true - 1) * 100


def test_curve_interpolates_in_current_and_prefers_the_most_specific_group() -> None:
    curve = ErrorCurve(
        (
            CurvePoint(0.1, 1.0),
            CurvePoint(1.0, 0.0),
            CurvePoint(1.0, 2.0, pf="0.5L"),
            CurvePoint(1.0, -1.0, direction="P-"),
        )
    )
    assert curve.error_pct(0.55, 0.0, "P+") == pytest.approx(0.5)
    assert curve.error_pct(0.01, 0.0, "P+") == pytest.approx(1.0)  # flat beyond the ends
    assert curve.error_pct(20.0, 0.0, "P+") == pytest.approx(0.0)
    assert curve.error_pct(3.0, pf_to_angle("0.5L"), "P+") == pytest.approx(2.0)
    assert curve.error_pct(3.0, pf_to_angle("0.5L"), "P-") == pytest.approx(2.0)
    assert curve.error_pct(3.0, 0.0, "P-") == pytest.approx(-1.0)
    assert not ErrorCurve() and ErrorCurve().error_pct(1.0, 0.0, "P+") == 0.0
    with pytest.raises(ValueError):
        CurvePoint(1.0, 0.0, pf="1.7")


def test_register_fast_only_up_to_ib() -> None:
    staged = _meter(register_curve=ErrorCurve((CurvePoint(1.0, 3.0), CurvePoint(1.001, 0.0))))
    for current in (0.25, 0.5, 5.0):
        pulses, register = _errors(staged, current, 1.0)
        assert pulses == pytest.approx(0.0, abs=1e-9)
        assert register == pytest.approx(3.0, abs=1e-6)
    pulses, register = _errors(staged, 60.0, 1.0)  # the plan's register point: Imax
    assert register == pytest.approx(0.0, abs=1e-9)


def test_register_fast_only_at_pf_half_lagging() -> None:
    staged = _meter(register_curve=ErrorCurve((CurvePoint(0.0, 3.0, pf="0.5L"),)))
    assert _errors(staged, 5.0, "0.5L")[1] == pytest.approx(3.0, abs=1e-6)
    assert _errors(staged, 5.0, 1.0)[1] == pytest.approx(0.0, abs=1e-9)
    assert _errors(staged, 5.0, "0.8C")[1] == pytest.approx(0.0, abs=1e-9)


def test_pulses_honest_register_half_a_percent_fast() -> None:
    staged = _meter(register_curve=ErrorCurve((CurvePoint(1.0, 0.5),)))
    for current, pf in ((0.25, 1.0), (5.0, "0.5L"), (60.0, 1.0)):
        pulses, register = _errors(staged, current, pf)
        assert pulses == pytest.approx(0.0, abs=1e-9)
        assert register == pytest.approx(0.5, abs=1e-6)


def test_exact_at_the_plan_points_and_three_percent_fast_between() -> None:
    plan_points = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 12.0)  # multiples of Ib
    model = ErrorModel(
        constant_pct=3.0, table=tuple(ErrorPoint(x, "1.0", -3.0) for x in plan_points)
    )
    staged = _meter(error=model)
    for x in plan_points:
        assert _errors(staged, x * IB, 1.0)[0] == pytest.approx(0.0, abs=1e-9)
    for x in (0.07, 0.3, 0.75, 1.5, 5.0):
        pulses, register = _errors(staged, x * IB, 1.0)
        assert pulses == pytest.approx(3.0, abs=1e-6)
        assert register == pytest.approx(3.0, abs=1e-6)


def test_pulse_curve_adds_to_the_pulses_and_the_registers_follow() -> None:
    staged = _meter(pulse_curve=ErrorCurve((CurvePoint(0.1, 1.0), CurvePoint(1.0, 0.0))))
    pulses, register = _errors(staged, 0.1 * IB, 1.0)
    assert pulses == pytest.approx(1.0, abs=1e-6)
    assert register == pytest.approx(1.0, abs=1e-6)


def test_water_register_eight_tenths_fast_with_honest_pulses() -> None:
    behaviour = WaterMeterBehaviour(pulse_value_l=0.1, register_bias_pct=0.8)
    world = WaterWorld(Hydraulics(time_constant_s=1.0), {1: behaviour}, reference_pulses_per_l=1000)
    world.set_drive(0.0, running=True, demand=0.5)
    world.set_valve(0.0, "start", True)
    world.set_valve(600.0, "start", False)
    meter = world.meters[1]
    assert isinstance(meter, WaterMeterModel)
    true = world.volume(TRUE, 700.0)
    assert true > 100.0
    pulses = len(meter.pulse_times(0.0, 700.0)) * 0.1
    assert pulses == pytest.approx(true, abs=0.11)  # the pulse output is honest
    registered = meter.register_l(700.0) - meter.register_origin_l
    assert registered == pytest.approx(true * 1.008, rel=1e-9)


def test_curves_from_the_bench_file_and_bad_points_name_the_field(tmp_path: Path) -> None:
    (tmp_path / "meter_types").symlink_to(BENCH.parent / "meter_types")
    good = tmp_path / "good.toml"
    good.write_text(
        BENCH.read_text()
        + '\n[[sim.meters]]\npositions = "4"\nregister_curve = [\n'
        + "  { current_ib = 1.0, error_pct = 3.0 },\n"
        + "  { current_ib = 1.001, error_pct = 0.0 },\n"
        + '  { current_ib = 1.0, pf = "0.5L", direction = "P-", error_pct = 1.0 },\n]\n'
        + "pulse_curve = [{ current_ib = 0.1, error_pct = 0.2 }]\nreverse_error_pct = -1.5\n"
    )
    behaviour = SimulatedBench(load_bench(good), good).world.meters[4].behaviour
    assert behaviour.register_curve.error_pct(0.5, 0.0, "P+") == pytest.approx(3.0)
    assert behaviour.register_curve.error_pct(0.5, pf_to_angle("0.5L"), "P-") == 1.0
    assert behaviour.pulse_curve.error_pct(1.0, 0.0, "P+") == pytest.approx(0.2)
    assert behaviour.reverse_error_pct == -1.5
    bad = tmp_path / "bad.toml"
    bad.write_text(
        BENCH.read_text()
        + '\n[[sim.meters]]\npositions = "4"\nregister_curve = [{ current_ib = 1.0, '
        + 'error_pct = 3.0, pf = "1.7" }]\n'
    )
    with pytest.raises(ConfigError, match=r"sim\.meters\.\d+\.register_curve|register_curve"):
        SimulatedBench(load_bench(bad), bad)
