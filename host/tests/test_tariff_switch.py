"""Tariff switching near a period change: the simulated meter registers into the tariff its
period table names for its own time of day, the plan picks a boundary where the tariff
changes, and end to end a meter that switches late fails while the others pass (and their
tariff registers still add up to the total afterwards)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from meterbench.plan.expand import expand_files
from meterbench.plan.model import TariffSwitchStep
from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop
from meterbench.sim.meter_tariffs import TariffSplitter

BENCHES = Path(__file__).resolve().parent / "benches"
TOU = BENCHES / "meter_types" / "1p-class1-5-60a-tou.toml"
PLAIN = BENCHES / "meter_types" / "1p-class1-5-60a.toml"
PERIODS = [(0, 4), (8 * 60, 2), (11 * 60, 1)]


def test_energy_is_split_at_the_boundary_the_meter_clock_passes() -> None:
    splitter = TariffSplitter(PERIODS, 4, lambda t: t / 100)  # 0.01 kWh per second
    morning = dt.datetime(2026, 1, 5, 7, 59, 0)
    assert splitter.sync(0.0, morning)[1:] == [0.0, 0.0, 0.0, 0.0]
    after = splitter.sync(120.0, morning + dt.timedelta(seconds=120))  # 08:01
    assert after[4] == pytest.approx(0.6) and after[2] == pytest.approx(0.6)
    late = TariffSplitter(PERIODS, 4, lambda t: t / 100, delay_s=90.0)
    late.sync(0.0, morning)
    split = late.sync(180.0, morning + dt.timedelta(seconds=180))  # switches at 08:01:30
    assert split[4] == pytest.approx(1.5) and split[2] == pytest.approx(0.3)


def test_the_plan_tests_the_first_boundary_where_the_tariff_changes(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[plan]\nid = "p"\ntitle = "p"\nregulation = "jjg596-2012"\nverification = "initial"\n'
        'kind = "electricity"\n[[items]]\ntype = "tariff_switch"\n',
        encoding="utf-8",
    )
    step = expand_files(plan, TOU).steps[0]
    assert isinstance(step, TariffSwitchStep)
    assert (step.boundary, step.tariff_before, step.tariff_after) == ("08:00", 4, 2)
    assert step.window_s == 20 and step.tolerance_s == 60  # 5 digits take 14 s at Imax
    skipped = expand_files(plan, PLAIN)
    assert not skipped.steps and "no tariff_periods" in skipped.skipped[0].reason


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("tou") / "results.db"
    options = RunOptions(
        BENCHES / "runner-1p-3-tou.toml",
        BENCHES / "plan-tariff-switch.toml",
        BENCHES / "meters-3-tou.csv",
        db=db,
    )
    run_id = virtual_loop.run(run_batch(options))
    return ResultsStore.open(db).load_run(run_id)


def test_a_meter_that_switches_late_fails_and_only_it(record: Any) -> None:
    assert record.status == RunStatus.COMPLETED
    done = {(c.position, c.step_key): c for c in record.conclusions if c.limit_kind.value == "mpe"}
    for position in (1, 3):
        conclusion = done[position, "tariff_switch"]
        assert conclusion.outcome == Outcome.PASS, conclusion.reason
        details = conclusion.details
        assert [float(a) > 0 for a in details["advances_before_kwh"]] == [0, 0, 0, 1]
        assert [float(a) > 0 for a in details["advances_after_kwh"]] == [0, 1, 0, 0]
    late = done[2, "tariff_switch"]
    assert late.outcome == Outcome.FAIL
    assert "tariff 4 (valley) still registered" in late.reason and "08:00" in late.reason
    # the clocks are back on the bench's time and the tariffs still add up to the total
    for position in (1, 2, 3):
        assert done[position, "time_setting"].outcome == Outcome.PASS
        register = done[position, "register"]
        assert register.details["tariffs_combine"] is True
        assert len(register.details["tariff_advances_kwh"]) == 4
