"""A run killed with SIGKILL at random moments and resumed each time ends with the same
conclusions as an uninterrupted run, no reading lost or stored twice, and a sound database."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from meterbench.results import ReadingStatus, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH, PLAN, METERS = (
    BENCHES / "runner-1p-8.toml",
    BENCHES / "plan-short.toml",
    BENCHES / "meters-8.csv",
)
METERBENCH = str(Path(sys.executable).with_name("meterbench"))


def _conclusions(store: ResultsStore, run_id: str) -> dict[tuple[int, str, str], tuple]:
    out = {}
    for c in store.conclusions(run_id):
        rounded = c.rounded if c.step_key.startswith("basic_error") else None
        out[(c.position, c.step_key, c.limit_kind.value)] = (c.outcome.value, rounded)
    return out


def _start(args: list[str], db: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, METERBENCH_DB=str(db))
    return subprocess.Popen(
        [METERBENCH, *args, "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_sigkill_and_resume_lose_and_repeat_nothing(tmp_path: Path) -> None:
    baseline_db = tmp_path / "baseline.db"
    baseline_id = asyncio.run(run_batch(RunOptions(BENCH, PLAN, METERS, db=baseline_db)))
    baseline_store = ResultsStore.open(baseline_db)
    baseline = _conclusions(baseline_store, baseline_id)

    db = tmp_path / "killed.db"
    rng = random.Random(20261126)
    run = ["run", "--bench", str(BENCH), "--plan", str(PLAN), "--meters", str(METERS), "--plain"]
    process = _start(run, db)
    kills = 0
    run_id = None
    while kills < 3:
        time.sleep(rng.uniform(2.0, 9.0))
        if process.poll() is not None:
            break  # it finished before this kill
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        kills += 1
        with ResultsStore.open(db) as store:
            runs = store.list_runs()
        if runs:
            run_id = runs[0].run_id
            process = _start(["resume", run_id], db)
        else:
            process = _start(run, db)
    assert kills >= 2, "the run should have been interrupted"
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()

    store = ResultsStore.open(db)
    run_id = run_id or store.list_runs()[0].run_id
    assert store.status(run_id) == RunStatus.COMPLETED
    assert store.integrity_check() == ["ok"]
    assert store.verify_chain(run_id).ok
    assert [s.status.value for s in store.statuses(run_id)].count("interrupted") >= 2
    assert _conclusions(store, run_id) == baseline

    # every reading stored once; within each attempt the indices run 0, 1, 2 ... with no gap;
    # a gated point continues its readings across a kill, so it has exactly the readings
    # an uninterrupted run takes
    readings = store.readings(run_id)
    keys = Counter((r.position, r.step_key, r.index, r.attempt) for r in readings)
    assert max(keys.values()) == 1
    for position, step, attempt in {(r.position, r.step_key, r.attempt) for r in readings}:
        indices = sorted(
            r.index
            for r in readings
            if (r.position, r.step_key, r.attempt) == (position, step, attempt)
        )
        assert indices == list(range(len(indices))), (position, step, attempt, indices)
        if step.startswith("basic_error"):
            ok = [
                r
                for r in readings
                if (r.position, r.step_key) == (position, step) and r.status == ReadingStatus.OK
            ]
            assert attempt == 0 and len(ok) == (4 if position == 3 else 2)
    assert any(e.kind == "resumed" for e in store.events(run_id))
