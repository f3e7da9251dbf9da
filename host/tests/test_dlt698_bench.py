"""A simulated bench of DL/T 698.45 meters runs the short initial-verification plan through the
public runner entry point: the 698 meters sit on the same physics as the DL/T 645 ones, so the
pulse-based items give the verdicts their injected defects call for, and every item that asks
the meter something (communication, register, time setting) asks it in DL/T 698.45."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH = BENCHES / "runner-1p-4-dlt698.toml"
PLAN = BENCHES / "plan-short.toml"
METERS = BENCHES / "meters-4-dlt698.csv"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("runner698") / "results.db"
    run_id = virtual_loop.run(run_batch(RunOptions(BENCH, PLAN, METERS, db=db)))
    return ResultsStore.open(db).load_run(run_id)


def _outcomes(record: Any, step: str) -> dict[int, Outcome]:
    return {c.position: c.outcome for c in record.conclusions if c.step_key == step}


def test_pulse_based_items_on_698_meters(finished: Any) -> None:
    assert finished.status == RunStatus.COMPLETED
    assert set(_outcomes(finished, "creep").values()) == {Outcome.PASS}
    assert set(_outcomes(finished, "starting").values()) == {Outcome.PASS}
    assert _outcomes(finished, "clock") == {
        1: Outcome.PASS,
        2: Outcome.PASS,
        3: Outcome.FAIL,
        4: Outcome.PASS,
    }


def test_communication_register_and_time_setting_on_698_meters(finished: Any) -> None:
    assert set(_outcomes(finished, "communication").values()) == {Outcome.PASS}
    assert _outcomes(finished, "register") == {
        1: Outcome.PASS,
        2: Outcome.PASS,
        3: Outcome.PASS,
        4: Outcome.FAIL,
    }
    assert set(_outcomes(finished, "time_setting").values()) == {Outcome.PASS}
