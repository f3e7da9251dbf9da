"""Soak: N consecutive demo-sized runs under full CPU load; counts hangs and verdict changes.

Each run is ``meterbench run`` of the demo bench, plan and meter list in its own process,
alternately with terminal output (on a pseudo-terminal, the live table) and plain output,
while one busy-looping process per core loads the machine. A run that stores nothing for
``--hang-s`` wall seconds (default 120) counts as a hang: it is killed (SIGKILL) and resumed.
Every run's conclusions (position, step, limit, outcome) and readings (raw counts and value)
are compared with the first run's: the simulated bench runs on virtual time, so a seeded run
must repeat them exactly, under any load.
Not a test: it takes minutes per run and measures the machine as much as the software.

    python benchmarks/soak_demo.py [--runs 30] [--hang-s 120] [--time-scale S] [--burners N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from meterbench.sim.repeatable import times_from

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "bench_configs"
METERBENCH = str(Path(sys.executable).with_name("meterbench"))


def burn() -> None:
    """One core busy until killed."""
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def stored(db: Path) -> int:
    """Rows stored so far (the run's progress as the record sees it)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return sum(
                con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("reading", "conclusion", "run_event", "run_status")
            )
    except sqlite3.Error:
        return 0


def conclusions(db: Path) -> dict[tuple[int, str, str], str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT position_no, step_key, limit_kind, outcome FROM conclusion")
        return {(p, s, k): o for p, s, k, o in rows}


def readings(db: Path) -> dict[tuple[int, str, int, int], tuple[object, str]]:
    """Every reading's raw counts (times relative to the run's start) and value: a seeded
    simulated run repeats them exactly."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        (started,) = con.execute("SELECT started_at FROM run").fetchone()
        start = dt.datetime.fromisoformat(started)
        rows = con.execute(
            "SELECT position_no, step_key, reading_index, attempt, raw_counts, result_value "
            "FROM reading"
        )
        return {
            (p, s, i, a): (times_from(json.loads(raw), start), value)
            for p, s, i, a, raw, value in rows
        }


def start(args: list[str], db: Path, terminal: bool) -> tuple[subprocess.Popen[bytes], int | None]:
    command = [METERBENCH, *args, "--db", str(db)]
    if terminal:
        leader, follower = os.openpty()
        process = subprocess.Popen(command, stdout=follower, stderr=follower, stdin=follower)
        os.close(follower)
        os.set_blocking(leader, False)
        return process, leader
    process = subprocess.Popen(
        [*command[:2], "--plain", *command[2:]] if args[0] == "run" else command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, None


def supervise(
    process: subprocess.Popen[bytes], leader: int | None, db: Path, hang_s: float
) -> bool:
    """Wait for the process; True if it hung (no stored progress for hang_s) and was killed."""
    last, since = stored(db), time.monotonic()
    while process.poll() is None:
        if leader is not None:
            try:
                while os.read(leader, 65536):  # keep the terminal drained
                    pass
            except (BlockingIOError, OSError):
                pass
        now = stored(db)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > hang_s:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(1.0)
    return False


def run_id_of(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute("SELECT run_id FROM run").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--hang-s", type=float, default=120.0)
    parser.add_argument("--time-scale", type=float, default=None)
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(options.burners)]
    for burner in burners:
        burner.start()
    run = ["run", "--bench", str(CONFIGS / "sim-1p-24.toml")]
    run += ["--plan", str(CONFIGS / "plans" / "jjg596-2012-initial.toml")]
    run += ["--meters", str(CONFIGS / "meters" / "sim-1p-24.csv")]
    if options.time_scale:
        run += ["--time-scale", str(options.time_scale)]
    hangs = differences = reading_differences = 0
    first: dict[tuple[int, str, str], str] | None = None
    first_readings: dict[tuple[int, str, int, int], tuple[object, str]] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            for index in range(options.runs):
                db = Path(folder) / f"run-{index}.db"
                terminal = index % 2 == 0
                began = time.monotonic()
                process, leader = start(run, db, terminal)
                hung = supervise(process, leader, db, options.hang_s)
                while hung:
                    hangs += 1
                    process, leader = start(["resume", run_id_of(db)], db, False)
                    hung = supervise(process, leader, db, options.hang_s)
                if leader is not None:
                    os.close(leader)
                got = conclusions(db)
                first = first if first is not None else got
                changed = sorted(k for k in set(first) | set(got) if first.get(k) != got.get(k))
                differences += bool(changed)
                values = readings(db)
                first_readings = first_readings if first_readings is not None else values
                moved = sum(
                    first_readings.get(k) != values.get(k)
                    for k in set(first_readings) | set(values)
                )
                reading_differences += bool(moved)
                print(
                    f"run {index + 1}/{options.runs}: exit {process.returncode}, "
                    f"{'terminal' if terminal else 'plain'}, "
                    f"{time.monotonic() - began:.0f} s, {len(changed)} verdicts differ, "
                    f"{moved} of {len(values)} readings differ"
                    + (f" {changed[:3]}" if changed else ""),
                    flush=True,
                )
    finally:
        for burner in burners:
            burner.kill()
    print(
        f"runs {options.runs}, hangs {hangs}, runs with verdict differences {differences}, "
        f"runs with reading differences {reading_differences}"
    )


if __name__ == "__main__":
    main()
