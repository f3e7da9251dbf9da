"""Stopping a run safely and steering it from a second process, end to end.

``meterbench run`` runs in its own process on the simulated 8-position bench. SIGINT and
SIGTERM are sent by the process to itself right after a chosen reading committed (the store's
test hook), so they land at the same point on any machine. abort, pause/continue and take-out
come from a second ``meterbench`` process once the record shows the run got that far.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.control import PAUSE, TAKE_OUT

BENCHES = Path(__file__).resolve().parent / "benches"
METERBENCH = str(Path(sys.executable).with_name("meterbench"))
RUN = [
    "run",
    "--plain",
    "--bench",
    str(BENCHES / "runner-1p-8.toml"),
    "--plan",
    str(BENCHES / "plan-short.toml"),
    "--meters",
    str(BENCHES / "meters-8.csv"),
]
TIMEOUT_S = 900  # a safety net for a hung subprocess, not a measured time


def _start(args: list[str], db: Path, hook: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "METERBENCH_TEST_KILL_AFTER"}
    if hook:
        env["METERBENCH_TEST_KILL_AFTER"] = hook
    return subprocess.Popen(
        [METERBENCH, *args, "--db", str(db)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _meterbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [METERBENCH, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _wait_for(db: Path, process: subprocess.Popen[str], ready) -> str:  # type: ignore[no-untyped-def]
    """Poll the record until ``ready(store, run_id)``; returns the run id. The poll only
    looks: what triggers the next action is the stored event, never elapsed time."""
    deadline = time.monotonic() + TIMEOUT_S  # safety net only
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never got there"
        if db.exists():
            with ResultsStore.open(db) as store:
                runs = store.list_runs()
                if runs and ready(store, runs[0].run_id):
                    return runs[0].run_id
        time.sleep(0.1)


def _held_after(db: Path, readings: int) -> tuple[subprocess.Popen[str], str]:
    """A run that stops itself (SIGSTOP) right after its n-th reading, so the second
    terminal's request reaches it at that point however long that command takes to start;
    SIGCONT lets it go on."""
    process = _start(RUN, db, f"reading:{readings}:SIGSTOP")
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status
    with ResultsStore.open(db) as store:
        (summary,) = store.list_runs()
    return process, summary.run_id


@pytest.mark.parametrize(("name", "code", "at"), [("SIGINT", 130, 45), ("SIGTERM", 143, 76)])
def test_a_signal_switches_everything_off_and_the_run_resumes(
    tmp_path: Path, name: str, code: int, at: int
) -> None:
    db = tmp_path / "results.db"
    process = _start(RUN, db, f"reading:{at}:{name}")
    out, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == code, err
    assert err.startswith("meterbench: ")
    with ResultsStore.open(db) as store:
        (summary,) = store.list_runs()
        run_id = summary.run_id
        assert store.status(run_id) == RunStatus.INTERRUPTED
        assert store.statuses(run_id)[-1].reason == f"interrupted by {name}"
        (event,) = [e for e in store.events(run_id) if e.kind == "interrupted"]
    # asked back over the source's SCPI and the controllers' link after switching off
    assert "source output: off" in event.message
    assert "controller C1: stopped on 8 positions" in event.message
    assert f"meterbench resume {run_id}" in err

    resumed = _start(["resume", run_id], db)
    _, err = resumed.communicate(timeout=TIMEOUT_S)
    assert resumed.returncode == 0, err
    with ResultsStore.open(db) as store:
        assert store.status(run_id) == RunStatus.COMPLETED
        assert store.verify_chain(run_id).ok


def test_abort_from_another_terminal_ends_the_run_for_good(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    process, run_id = _held_after(db, 5)
    asked = _meterbench("abort", run_id, "--reason", "meter smoking", "--db", str(db))
    assert asked.returncode == 0, asked.stderr
    os.kill(process.pid, signal.SIGCONT)
    _, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 3, err
    with ResultsStore.open(db) as store:
        assert store.status(run_id) == RunStatus.ABORTED
        assert store.statuses(run_id)[-1].reason == "meter smoking"
        (event,) = [e for e in store.events(run_id) if e.kind == "aborted"]
        assert "source output: off" in event.message
    again = _meterbench("resume", run_id, "--db", str(db))
    assert again.returncode == 2 and "aborted" in again.stderr
    refused = _meterbench("certificate", run_id, "--db", str(db), "--out", str(tmp_path / "c"))
    assert refused.returncode == 2 and "aborted" in refused.stderr


def test_pause_continue_and_take_out_from_another_terminal(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    process, run_id = _held_after(db, 30)
    assert _meterbench("pause", run_id, "--db", str(db)).returncode == 0
    os.kill(process.pid, signal.SIGCONT)
    _wait_for(db, process, lambda s, r: any(e.kind == "paused" for e in s.events(r)))
    taken = _meterbench(
        "take-out", run_id, "--position", "5", "--reason", "terminal cover open", "--db", str(db)
    )
    assert taken.returncode == 0, taken.stderr
    assert _meterbench("continue", run_id, "--db", str(db)).returncode == 0
    _, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, err

    with ResultsStore.open(db) as store:
        assert store.status(run_id) == RunStatus.COMPLETED
        rows = store.chain_rows(run_id)
        events = store.events(run_id)
        paused = next(e for e in events if e.kind == "paused")
        assert "source output: off" in paused.message
        conclusions = store.conclusions(run_id)
        steps = store.steps(run_id)
    # nothing was measured between "paused" and "continued": the chain's order says so
    marks = {
        r.content.get("kind"): r.seq
        for r in rows
        if r.table == "run_event" and r.content.get("kind") in ("paused", "continued")
    }
    assert set(marks) == {"paused", "continued"}
    measured = [
        r.seq
        for r in rows
        if r.table in ("reading", "conclusion") and marks["paused"] < r.seq < marks["continued"]
    ]
    assert measured == []
    taken_at = next(i for i, e in enumerate(events) if e.kind == TAKE_OUT)
    assert events[taken_at].position == 5
    later = [s.step_key for s in steps if s.step_key not in ("communication", "creep")]
    out = {c.step_key: c for c in conclusions if c.position == 5}
    after = [k for k in later if (out[k].reason or "").startswith("taken out")]
    assert after, "no step after the take-out gave position 5 'taken out'"
    for key in after:
        assert out[key].outcome is Outcome.NO_RESULT
        assert out[key].reason == "taken out: terminal cover open"
    # the batch went on: every other position has its conclusions for every step
    for position in (1, 2, 3, 4, 6, 7):
        assert {c.step_key for c in conclusions if c.position == position} >= set(after)
    assert any(e.kind == PAUSE for e in events)
