"""Reverse energy end to end on the simulated bench: P- points and P- starting of bidirectional
meters run on reverse energy, so a meter whose error only shows in reverse fails only its P-
points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH = BENCHES / "runner-1p-3-bidirectional.toml"
PLAN = BENCHES / "plan-reverse.toml"
METERS = BENCHES / "meters-3-bidirectional.csv"

FORWARD = "basic_error/P+/all/Ib/1.0"
REVERSE = ("basic_error/P-/all/Ib/1.0", "basic_error/P-/all/Imax/0.5L")


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("reverse") / "results.db"
    run_id = virtual_loop.run(run_batch(RunOptions(BENCH, PLAN, METERS, db=db)))
    store = ResultsStore.open(db)
    return store.load_run(run_id)


def _mpe(record: Any) -> dict[tuple[int, str], Any]:
    return {(c.position, c.step_key): c for c in record.conclusions if c.limit_kind.value == "mpe"}


def test_a_meter_wrong_only_in_reverse_fails_only_the_reverse_points(record: Any) -> None:
    assert record.status == RunStatus.COMPLETED
    done = _mpe(record)
    assert {k for _, k in done} == {"starting", FORWARD, *REVERSE}
    for (position, key), conclusion in done.items():
        wrong = position == 2 and key in REVERSE
        assert conclusion.outcome == (Outcome.FAIL if wrong else Outcome.PASS), (position, key)
    assert done[2, FORWARD].rounded == 0
    assert done[2, REVERSE[0]].rounded == 3


def test_bidirectional_starting_runs_both_directions(record: Any) -> None:
    readings = [r for r in record.readings if r.step_key == "starting"]
    for position in (1, 2, 3):
        directions = [r.raw["direction"] for r in readings if r.position == position]
        assert directions == ["P+", "P-"]
    details = _mpe(record)[1, "starting"].details
    assert set(details["directions"]) == {"P+", "P-"}
