"""A run killed with SIGKILL at random moments and resumed each time ends with the same
conclusions as an uninterrupted run, no reading lost or stored twice, and a sound database."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
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


def _clear_bench(tmp_path: Path) -> Path:
    """The test bench with position 3 clearly beyond class 2: at +2.25 % its register error
    (0.01 kWh digits over about 3 kWh) rounds either side of 2 % from run to run, which made
    this test fail now and then under load although nothing was lost or repeated."""
    target = tmp_path / "benches"
    shutil.copytree(BENCHES, target)
    bench = target / BENCH.name
    text = bench.read_text(encoding="utf-8")
    assert "error_pct = 2.25" in text
    bench.write_text(text.replace("error_pct = 2.25", "error_pct = 2.8"), encoding="utf-8")
    return bench


def test_sigkill_and_resume_lose_and_repeat_nothing(tmp_path: Path) -> None:
    bench = _clear_bench(tmp_path)
    baseline_db = tmp_path / "baseline.db"
    baseline_id = asyncio.run(run_batch(RunOptions(bench, PLAN, METERS, db=baseline_db)))
    baseline_store = ResultsStore.open(baseline_db)
    baseline = _conclusions(baseline_store, baseline_id)
    baseline_ok = Counter(
        (r.position, r.step_key)
        for r in baseline_store.readings(baseline_id)
        if r.step_key.startswith("basic_error") and r.status == ReadingStatus.OK
    )

    db = tmp_path / "killed.db"
    rng = random.Random(20261126)
    run = ["run", "--bench", str(bench), "--plan", str(PLAN), "--meters", str(METERS), "--plain"]
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
            assert attempt == 0 and len(ok) == baseline_ok[(position, step)]
    assert any(e.kind == "resumed" for e in store.events(run_id))
