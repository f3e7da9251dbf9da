"""Compare two stored runs of the same seeded simulated bench: are they the same run?

A simulated bench on virtual time decides every count from the seed and the program alone, so
a change that only makes the simulator cheaper must leave the record as it was. This compares
every conclusion (outcome, values, limits, reason, details), every reading (raw counts, value,
unit, status, and the order it was stored in) and every run event (kind, severity, message),
and the simulated instant of each (offset from the run's first stored row: the runs start at
different wall times). Prints what differs; exit status 0 if nothing does, 1 otherwise.

What a meter reads out (its clock, the time it was set to) follows the simulated date and
time, which starts at the wall time the run began. ``run`` makes the demo-sized run
(``meterbench run`` of the demo bench, plan and meter list) with the simulated time line
starting at a fixed instant instead, so that two runs of it can be compared value for value;
run it with the interpreter of each version of the code to compare; it prints the CPU
seconds the run took.

    python benchmarks/compare_runs.py run BEFORE.db        # with the code before a change
    python benchmarks/compare_runs.py run AFTER.db         # and after it
    python benchmarks/compare_runs.py BEFORE.db AFTER.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import time
from pathlib import Path

from soak_demo import CONFIGS, conclusions, readings

Rows = dict[tuple[object, ...], tuple[object, ...]]

TABLES = {
    "conclusion": (
        ("position_no", "step_key", "limit_kind"),
        (
            "outcome",
            "mean_value",
            "rounded_value",
            "lower_limit",
            "upper_limit",
            "unit",
            "reason",
            "details",
        ),
    ),
    "reading": (
        ("position_no", "step_key", "reading_index", "attempt"),
        ("raw_counts", "result_value", "unit", "status", "seq"),
    ),
    # the event key is a digest that includes the run id: events by their order instead
    "run_event": (("seq",), ("severity", "kind", "message", "position_no", "step_key")),
}
FIXED_START = "2026-03-02T08:30:00.250000+08:00"  # a fixed start of the simulated time line
TIMED = ("conclusion", "reading", "run_event")
TIME_TOLERANCE_S = 1e-3  # both offsets are rounded to the microsecond from different origins


def _open(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def rows(db: Path, table: str) -> Rows:
    """Every row of ``table`` by its key, with the columns a same run repeats exactly."""
    key, values = TABLES[table]
    with _open(db) as con:
        query = f"SELECT {', '.join(key + values)} FROM {table}"
        return {tuple(r[: len(key)]): tuple(r[len(key) :]) for r in con.execute(query)}


def offsets(db: Path, table: str) -> dict[tuple[object, ...], float]:
    """Simulated seconds from the run's first stored row to each row of ``table``."""
    key, _ = TABLES[table]
    with _open(db) as con:
        first = min(
            dt.datetime.fromisoformat(r[0])
            for t in TIMED
            for r in con.execute(f"SELECT recorded_at FROM {t}")
        )
        query = f"SELECT {', '.join(key)}, recorded_at FROM {table}"
        return {
            tuple(r[:-1]): (dt.datetime.fromisoformat(r[-1]) - first).total_seconds()
            for r in con.execute(query)
        }


def differences(before: Rows, after: Rows) -> list[str]:
    keys = sorted(set(before) | set(after), key=repr)
    moved = [k for k in keys if before.get(k) != after.get(k)]
    return [f"{k}: {before.get(k)} -> {after.get(k)}" for k in moved]


def compare(a: Path, b: Path) -> int:
    """Prints a line per table (and the first differences); returns how many rows differ."""
    total = 0
    summary = {
        "conclusions (soak_demo)": (conclusions(a), conclusions(b)),
        "readings (soak_demo)": (readings(a), readings(b)),
    }
    for name, (x, y) in summary.items():
        moved = differences(dict(x), dict(y))  # type: ignore[arg-type]
        total += len(moved)
        print(f"{name}: {len(x)} vs {len(y)}, {len(moved)} differ")
        for line in moved[:5]:
            print(f"  {line}")
    for table in TABLES:
        x, y = rows(a, table), rows(b, table)
        moved = differences(x, y)
        total += len(moved)
        print(f"{table}: {len(x)} vs {len(y)} rows, {len(moved)} differ")
        for line in moved[:5]:
            print(f"  {line}")
    for table in TIMED:
        x, y = offsets(a, table), offsets(b, table)
        late = [
            f"{k}: {x.get(k)} -> {y.get(k)} s"
            for k in sorted(set(x) | set(y), key=repr)
            if k not in x or k not in y or abs(x[k] - y[k]) > TIME_TOLERANCE_S
        ]
        total += len(late)
        print(f"{table} simulated instants: {len(late)} differ by more than {TIME_TOLERANCE_S} s")
        for line in late[:5]:
            print(f"  {line}")
    return total


def run_demo(db: Path) -> None:
    """The demo-sized run into ``db``, its simulated time line starting at ``FIXED_START``."""
    import meterbench.sim.clock as sim_clock
    from meterbench.cli import main as meterbench

    start = dt.datetime.fromisoformat(FIXED_START)
    sim_clock.local_now = lambda: start  # type: ignore[attr-defined]
    sys.argv = ["meterbench", "run", "--plain", "--db", str(db)]
    sys.argv += ["--bench", str(CONFIGS / "sim-1p-24.toml")]
    sys.argv += ["--plan", str(CONFIGS / "plans" / "jjg596-2012-initial.toml")]
    sys.argv += ["--meters", str(CONFIGS / "meters" / "sim-1p-24.csv")]
    try:
        meterbench()
    finally:
        print(f"CPU seconds of this process: {time.process_time():.1f}")


def main() -> None:
    if sys.argv[1:2] == ["run"] and len(sys.argv) == 3:
        run_demo(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    options = parser.parse_args()
    total = compare(options.before, options.after)
    print("identical" if total == 0 else f"{total} differences")
    sys.exit(0 if total == 0 else 1)


if __name__ == "__main__":
    main()
