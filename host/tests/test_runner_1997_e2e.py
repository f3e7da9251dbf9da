"""The initial-verification plan end to end on simulated benches of DL/T 645-1997 meters and of
2007 and 1997 meters sharing one bus: every item reaches each meter with its own edition's
identifiers, and each defective meter fails its own item and only that one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop

HERE = Path(__file__).resolve().parent
BENCHES = HERE / "benches"
PLAN = HERE.parents[1] / "bench_configs" / "plans" / "jjg596-2012-initial.toml"
BENCH_FILES = {
    "1997": (BENCHES / "runner-1997-4.toml", BENCHES / "meters-1997-4.csv"),
    "mixed": (BENCHES / "runner-mixed-4.toml", BENCHES / "meters-mixed-4.csv"),
}
ITEMS = {
    "communication",
    "creep",
    "starting",
    "basic_error",
    "register",
    "clock",
    "time_setting",
}


@pytest.fixture(scope="module", params=sorted(BENCH_FILES))
def finished(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    bench, meters = BENCH_FILES[request.param]
    db = tmp_path_factory.mktemp(f"run-{request.param}") / "results.db"
    run_id = virtual_loop.run(run_batch(RunOptions(bench, PLAN, meters, db=db)))
    store = ResultsStore.open(db)
    return request.param, store.load_run(run_id)


def _verdicts(record: Any) -> dict[int, dict[str, set[Outcome]]]:
    """position -> item -> the outcomes of its steps (regulatory limits)."""
    out: dict[int, dict[str, set[Outcome]]] = {}
    for c in record.conclusions:
        if c.limit_kind.value != "mpe":
            continue
        item = c.step_key.split("/")[0]
        out.setdefault(c.position, {}).setdefault(item, set()).add(c.outcome)
    return out


def test_every_position_gets_the_verdicts_its_meter_deserves(finished: Any) -> None:
    name, record = finished
    assert record.status == RunStatus.COMPLETED
    verdicts = _verdicts(record)
    for position in range(1, 5):
        assert set(verdicts[position]) == ITEMS, (name, position)
    passed = {Outcome.PASS}
    # 1: a sound meter passes everything
    assert all(v == passed for v in verdicts[1].values()), (name, verdicts[1])
    # 2: +2.6 % fails every basic-error point (class 2), and its register runs as fast as its
    # pulses, so the register item fails too; the items it should pass, it passes
    assert verdicts[2]["basic_error"] == {Outcome.FAIL}, name
    assert verdicts[2]["register"] == {Outcome.FAIL}, name
    for item in ("communication", "creep", "starting", "clock", "time_setting"):
        assert verdicts[2][item] == passed, (name, item, verdicts[2][item])
    # 3: a clock 1.3 s/d fast fails the clock item only
    assert verdicts[3]["clock"] == {Outcome.FAIL}, name
    assert all(v == passed for k, v in verdicts[3].items() if k != "clock"), (name, verdicts[3])
    # 4: a silent meter fails communication; what needs the port has no result, with a reason
    assert verdicts[4]["communication"] == {Outcome.FAIL}, name
    for item in ("register", "time_setting"):
        assert verdicts[4][item] <= {Outcome.ERROR, Outcome.NO_RESULT}, (name, item)
    for item in ("creep", "starting", "basic_error"):
        assert verdicts[4][item] == passed, (name, item)


def test_the_1997_meters_were_read_with_1997_identifiers(finished: Any) -> None:
    """No position's error log mentions a failed read of a working 1997 meter."""
    name, record = finished
    for event in record.events:
        if event.position in (1, 2, 3):
            assert "unreadable" not in event.message and "too big" not in event.message, (
                name,
                event.message,
            )
