"""The simulated bench's physics: pulses, registers, creep, starting and clock behave as
configured, exactly enough that a verification on the simulator means something."""

from __future__ import annotations

import math

import pytest

from meterbench.electrical import Setpoint, pf_to_angle
from meterbench.sim.physics import (
    ElectricityWorld,
    ErrorModel,
    ErrorPoint,
    MeterBehaviour,
    MeterPhysics,
    ReferenceStandard,
    TimeBase,
)

C0 = 2e6


def _world(**behaviour: object) -> tuple[ElectricityWorld, MeterPhysics]:
    meter = MeterPhysics(MeterBehaviour(1200, 5.0, **behaviour))  # type: ignore[arg-type]
    return ElectricityWorld(ReferenceStandard(C0), {1: meter}), meter


def _gated_error(world: ElectricityWorld, meter: MeterPhysics, pulses: int, t1: float) -> float:
    edges = meter.pulse_times(0.0, t1)
    counted = world.reference.count(edges[pulses]) - world.reference.count(edges[0])
    m0 = C0 * pulses / meter.behaviour.constant_imp_per_kwh
    return (m0 - counted) / counted * 100


def test_power_factor_angles_and_power() -> None:
    assert pf_to_angle(1.0) == 0.0
    assert pf_to_angle("0.5L") == pytest.approx(60.0)
    assert pf_to_angle("0.8C") == pytest.approx(-36.8699, abs=1e-4)
    assert Setpoint.balanced("1p", 220, 5, "0.5L").active_power_w == pytest.approx(550.0)
    assert Setpoint.balanced("3p4w", 57.7, 1.5, 1.0).active_power_w == pytest.approx(259.65)
    three_wire = Setpoint.balanced("3p3w", 100.0, 1.0, 1.0)
    assert three_wire.active_power_w == pytest.approx(math.sqrt(3) * 100.0)
    single = Setpoint.balanced("3p4w", 220, 5, 1.0, element="B")
    assert [p.current_a for p in single.phases] == [0.0, 5.0, 0.0]


@pytest.mark.parametrize("error", [0.37, -1.20, 0.0])
def test_gated_counting_reproduces_the_configured_error(error: float) -> None:
    world, meter = _world(error=ErrorModel(constant_pct=error))
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 5.0, 1.0))
    measured = _gated_error(world, meter, 20, 200.0)
    resolution = 100 / (C0 * 20 / 1200)  # one reference count, in %
    assert abs(measured - error) <= resolution


def test_error_table_over_load_points_and_curve() -> None:
    model = ErrorModel(
        constant_pct=0.1,
        table=(ErrorPoint(0.1, "0.5L", 0.8),),
        curve=((0.05, 1.0), (1.0, 0.0), (12.0, -0.5)),
    )
    assert model.systematic_pct(0.5, 5.0, pf_to_angle("0.5L")) == pytest.approx(0.9)
    assert model.systematic_pct(5.0, 5.0, 0.0) == pytest.approx(0.1)
    assert model.systematic_pct(2.75, 5.0, 0.0) == pytest.approx(0.1 + 1.0 - 0.5 / 0.95)
    assert model.systematic_pct(100.0, 5.0, 0.0) == pytest.approx(-0.4)


def test_noise_changes_readings_but_not_their_long_run_mean() -> None:
    world, meter = _world(
        error=ErrorModel(constant_pct=0.5, noise_pct=0.2, noise_interval_s=2.0), seed=11
    )
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 5.0, 1.0))
    edges = meter.pulse_times(0.0, 4000.0)
    readings = []
    for k in range(0, len(edges) - 5, 5):
        m = world.reference.count(edges[k + 5]) - world.reference.count(edges[k])
        readings.append((C0 * 5 / 1200 - m) / m * 100)
    assert max(readings) - min(readings) > 0.1
    assert sum(readings) / len(readings) == pytest.approx(0.5, abs=0.05)


def test_starting_current_threshold_and_creep() -> None:
    world, meter = _world(start_current_a=0.02)
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 0.019, 1.0))
    assert meter.pulse_times(0.0, 3600.0) == []
    world.apply(3600.0, Setpoint.balanced("1p", 220.0, 0.025, 1.0))
    first = meter.pulse_times(3600.0, 7200.0)[0] - 3600.0
    assert first <= 3600 * 1000 / (1200 * 220 * 0.025) * 1.0001  # within one pulse period
    creeper, meter2 = _world(creep_pulses_per_hour=3.0)
    creeper.apply(0.0, Setpoint.balanced("1p", 253.0, 0.0, 1.0))
    assert len(meter2.pulse_times(0.0, 3600.0)) in (2, 3)


def test_register_bias_runs_ahead_of_pulses() -> None:
    world, meter = _world(register_bias_pct=1.0)
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 10.0, 1.0))
    t = 3600.0
    assert meter.register_kwh(t) == pytest.approx(meter.measured_energy_kwh(t) * 1.01)
    assert meter.measured_energy_kwh(t) == pytest.approx(2.2)


def test_clock_second_pulses_follow_the_daily_error() -> None:
    _, meter = _world(clock_error_s_per_day=0.864)
    edges = meter.second_pulse_times(0.0, 61.0)
    period = (edges[-1] - edges[0]) / (len(edges) - 1)
    assert (1 - period) / period * 86400 == pytest.approx(0.864, abs=1e-6)
    tb = TimeBase(10e6, error_ppm=0.0)
    assert tb.count(1.0) == 10_000_000
