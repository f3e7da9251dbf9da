"""Each electricity item on its own, on a manual clock with fake devices (``item_fakes``): a
sound meter passes, the meter with the item's defect fails it with the reason, and what the
item stores is the measurement the regulation asks for. The end-to-end runs on the simulated
bench (``test_runner_e2e``) check the same items through the real wire protocols."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from item_fakes import HERE, REPO, Behaviour, FakeBench  # noqa: E402

from meterbench.kinds.electricity.items.basic_error import basic_error  # noqa: E402
from meterbench.kinds.electricity.items.clock import clock  # noqa: E402
from meterbench.kinds.electricity.items.communication import communication  # noqa: E402
from meterbench.kinds.electricity.items.creep import creep  # noqa: E402
from meterbench.kinds.electricity.items.register import register  # noqa: E402
from meterbench.kinds.electricity.items.starting import starting  # noqa: E402
from meterbench.kinds.electricity.items.std_dev import std_dev  # noqa: E402
from meterbench.kinds.electricity.items.time_setting import time_setting  # noqa: E402
from meterbench.results import Outcome  # noqa: E402
from meterproto.link import messages as m  # noqa: E402

SHORT = HERE / "benches" / "plan-short.toml"
CLASS_05S = REPO / "bench_configs" / "meter_types" / "3p4w-class0.5s-ct-1.5-6a.toml"
INITIAL = REPO / "bench_configs" / "plans" / "jjg596-2012-initial.toml"


def _outcomes(conclusions: dict[tuple[int, str], object]) -> dict[int, Outcome]:
    return {p: c.outcome for (p, kind), c in conclusions.items() if kind == "mpe"}  # type: ignore[attr-defined]


def test_communication_passes_a_meter_that_answers_and_fails_one_that_does_not() -> None:
    bench = FakeBench({1: Behaviour(), 2: Behaviour(answers=False)}, SHORT)
    done = bench.run(communication, bench.step("communication"))
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    assert done[1, "mpe"].details["checks"]["read_address"] == "000000000001"
    assert "no reply" in done[2, "mpe"].reason
    assert bench.source.applied[-1].phases[0].current_a == 0.0  # voltage only


def test_time_setting_sets_the_clock_and_judges_the_deviation() -> None:
    bench = FakeBench({1: Behaviour(), 2: Behaviour(answers=False)}, SHORT)
    done = bench.run(time_setting, bench.step("time_setting"))
    assert done[1, "mpe"].outcome is Outcome.PASS
    assert done[1, "mpe"].rounded == Decimal("0.0") and done[1, "mpe"].unit == "s"
    assert done[2, "mpe"].outcome is Outcome.ERROR


def test_creep_fails_a_meter_that_pulses_without_current() -> None:
    bench = FakeBench({1: Behaviour(), 2: Behaviour(creep_pulses=3)}, SHORT)
    done = bench.run(creep, bench.step("creep"))
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    assert done[2, "mpe"].rounded == 3 and done[2, "mpe"].unit == "pulses"
    assert bench.source.applied[-1].phases[0].current_a == 0.0


def test_starting_fails_a_meter_that_never_pulses() -> None:
    bench = FakeBench({1: Behaviour(start_after_s=5.0), 2: Behaviour(start_after_s=None)}, SHORT)
    done = bench.run(starting, bench.step("starting"))
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    assert done[1, "mpe"].rounded == Decimal("5.0")
    assert done[2, "mpe"].reason == "no pulse within t0"


def test_basic_error_rounds_the_mean_and_judges_it_against_the_mpe() -> None:
    bench = FakeBench({1: Behaviour(error_pct=0.6), 2: Behaviour(error_pct=3.1)}, SHORT)
    step = bench.steps[[s.item for s in bench.steps].index("basic_error")]
    done = bench.run(basic_error, step)
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    # class 2: the mean is rounded to the 0.2 % interval and compared with ±2.0 %
    assert done[1, "mpe"].rounded == Decimal("0.6") and done[1, "mpe"].upper == Decimal("2.0")
    assert "beyond ±2 %" in done[2, "mpe"].reason
    readings = bench.store.readings("run", step.key, 1)
    assert readings and all(abs(r.value - Decimal("0.6")) < Decimal("0.01") for r in readings)
    assert (m.STOP, 0) in bench.controller.requests  # every position's gate stopped


def test_std_dev_of_steady_readings_is_zero_and_passes() -> None:
    bench = FakeBench({1: Behaviour(error_pct=0.5)}, INITIAL, CLASS_05S)
    done = bench.run(std_dev, bench.step("std_dev"))
    assert done[1, "mpe"].outcome is Outcome.PASS
    assert done[1, "mpe"].mean == 0 and done[1, "mpe"].lower == 0


def test_register_fails_tariff_registers_that_do_not_add_up_to_the_total() -> None:
    """Time-of-use: the tariff registers are read with the total and judged by the
    combination rule; an honest meter's tariffs add up."""
    bench = FakeBench({1: Behaviour(), 2: Behaviour(tariff_lag_pct=10.0)}, SHORT)
    done = bench.run(register, bench.step("register"))
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    assert done[1, "mpe"].details["tariffs_combine"] is True
    assert len(done[1, "mpe"].details["tariff_advances_kwh"]) == 4
    assert done[2, "mpe"].reason.startswith("total register advanced")


def test_register_fails_a_register_that_runs_ahead_of_its_pulses() -> None:
    bench = FakeBench({1: Behaviour(), 2: Behaviour(register_ahead_pct=2.0)}, SHORT)
    done = bench.run(register, bench.step("register"))
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    assert done[1, "mpe"].details["ahead_of_pulses"] is False
    assert done[2, "mpe"].details["ahead_of_pulses"] is True
    assert "runs ahead of its pulses" in done[2, "mpe"].reason
    assert bench.clock.now() > 60  # the load ran on the clock, not on the wall


def test_clock_judges_the_daily_error_of_the_second_pulse() -> None:
    bench = FakeBench(
        {1: Behaviour(clock_error_s_per_day=0.2), 2: Behaviour(clock_error_s_per_day=1.3)}, SHORT
    )
    done = bench.run(clock, bench.step("clock"))
    assert _outcomes(done) == {1: Outcome.PASS, 2: Outcome.FAIL}
    assert done[1, "mpe"].rounded == Decimal("0.20") or done[1, "mpe"].rounded == Decimal("0.2")
    assert done[2, "mpe"].unit == "s/d" and "daily error" in done[2, "mpe"].reason
    assert all(c.output_mode is not None for c in bench.session.meters.values())
