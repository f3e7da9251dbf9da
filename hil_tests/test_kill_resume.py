"""The host process killed mid-run (SIGKILL: no clean-up at all) and resumed.

``meterbench run`` runs the fault plan on the fault-free bench in its own process and is
killed as soon as the first reading of the 0.1 Ib point is stored, half-way through that
point; ``meterbench resume`` then finishes the run. Nothing stored before the kill is lost or
changed, no reading is taken twice, and the results are those of an uninterrupted run.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hil_support import BENCHES, METERS, PLAN, RUN_TIMEOUT_S, Record, meterbench, read_record

LOW = "basic_error/P+/all/0.1Ib/1.0"


def _readings_stored(db: Path, step_key: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            (count,) = con.execute(
                "SELECT COUNT(*) FROM reading WHERE step_key = ?", [step_key]
            ).fetchone()
    except sqlite3.OperationalError:  # the store is still creating its tables
        return 0
    return int(count)


def _kill_after_first_reading(db: Path, step_key: str) -> None:
    command = [sys.executable, "-m", "meterbench", "run", "--plain", "--db", str(db)]
    command += ["--bench", str(BENCHES / "hil-1p-4.toml"), "--plan", str(PLAN)]
    command += ["--meters", str(METERS)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S  # a safety net, not a measured time
        while _readings_stored(db, step_key) == 0:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no reading of the point was ever stored"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_a_killed_run_resumes_without_losing_or_repeating_a_reading(
    tmp_path: Path, fault_free: Record
) -> None:
    db = tmp_path / "results.db"
    _kill_after_first_reading(db, LOW)
    killed = read_record(db)
    assert killed.status == "running"  # nobody could record the end
    assert killed.chain_ok
    assert any(r.step_key == LOW for r in killed.readings)

    result = meterbench("resume", killed.run_id, "--db", db)
    assert result.returncode == 0, result.stderr
    resumed = read_record(db)
    assert resumed.statuses == [
        ("running", None),
        ("interrupted", "process ended mid-run"),
        ("running", "resumed"),
        ("completed", None),
    ]
    assert resumed.chain_ok
    assert resumed.conclusions == fault_free.conclusions
    assert resumed.usable() == fault_free.usable()  # the missing readings only were taken
    stored = {(r.position, r.step_key, r.index, r.attempt): r for r in killed.readings}
    again = {(r.position, r.step_key, r.index, r.attempt): r for r in resumed.readings}
    assert {k: again[k] for k in stored} == stored  # kept, unchanged
