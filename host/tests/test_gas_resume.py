"""A gas run killed in the middle of an error point resumes from its record to the verdicts an
uninterrupted run gives. The kill is triggered by an event (the store's test hook kills
``meterbench run`` right after its k-th reading committed), never by a timer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from meterbench.results import LimitKind, Outcome, ResultsStore, RunStatus

REPO = Path(__file__).resolve().parents[2]
METERBENCH = str(Path(sys.executable).with_name("meterbench"))
TIMEOUT_S = 900  # a safety net for a hung subprocess, not a measured time
FAILS = {
    (2, "gas_error/qmin"),
    (4, "gas_error/qmax"),
    (5, "gas_tightness"),
    (6, "gas_pressure_loss"),
}


def _start(args: list[str], db: Path, kill_after: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "METERBENCH_TEST_KILL_AFTER"}
    if kill_after:
        env["METERBENCH_TEST_KILL_AFTER"] = kill_after
    return subprocess.Popen(
        [METERBENCH, *args, "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_a_gas_run_killed_mid_point_resumes_to_the_same_verdicts(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    args = [
        "run",
        "--plain",
        "--bench", str(REPO / "bench_configs" / "sim-gas-6.toml"),
        "--plan", str(REPO / "bench_configs" / "plans" / "jjg577-gas.toml"),
        "--meters", str(REPO / "bench_configs" / "meters" / "sim-gas-6.csv"),
    ]  # fmt: skip
    # 6 tightness readings, then the qmax run: killed after its 3rd meter's reading
    first = _start(args, db, "reading:9")
    _, err = first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == -signal.SIGKILL, err.decode()
    with ResultsStore.open(db) as store:
        (summary,) = store.list_runs()
        run_id = summary.run_id
    resumed = _start(["resume", run_id], db)
    _, err = resumed.communicate(timeout=TIMEOUT_S)
    assert resumed.returncode == 0, err.decode()

    with ResultsStore.open(db) as store:
        record = store.load_run(run_id)
        readings = store.readings(run_id)
        statuses = [s.status for s in store.statuses(run_id)]
        assert store.verify_chain(run_id).ok
    assert record.status == RunStatus.COMPLETED
    assert statuses.count(RunStatus.INTERRUPTED) == 1
    keys = Counter((r.position, r.step_key, r.index, r.attempt) for r in readings)
    assert max(keys.values()) == 1, "a reading was stored twice"
    mpe = {(c.position, c.step_key): c for c in record.conclusions if c.limit_kind is LimitKind.MPE}
    assert len(mpe) == 6 * 5
    for key, conclusion in mpe.items():
        wanted = Outcome.FAIL if key in FAILS else Outcome.PASS
        assert conclusion.outcome is wanted, (key, conclusion.reason)
    # readings stored before the kill count; the meters without one got a run of their own
    qmax = Counter(r.position for r in readings if r.step_key == "gas_error/qmax")
    assert qmax == dict.fromkeys(range(1, 7), 1)
    assert {r.attempt for r in readings if r.step_key == "gas_error/qmax"} == {0}
