"""Crash safety: a writer killed with SIGKILL at random moments loses at most its last append.

After every kill the file passes SQLite's integrity check, the chain verifies, the stored
readings are an exact prefix (each batch of two complete, nothing half-written), and a new
writer continues from there without duplicating anything.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal

from meterbench.results import ResultsStore, RunStatus

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal
    from meterbench.results import Position, Reading, ResultsStore, Run, Step

    path, run_id, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def reading(position, i):
        return Reading(
            run_id=run_id, position=position, step_key="be", index=i,
            at=t0 + timedelta(milliseconds=i), raw={"m": 100000 + i, "N": i % 7, "p": position},
            value=Decimal(i) / Decimal(1000) * position, unit="%",
        )

    store = ResultsStore.open(path)
    run = Run(run_id=run_id, started_at=t0, bench="b", plan="p", regulation="r",
              software_version="0")
    store.create_run(run, {"plan": {"points": ["Ib"]}})
    store.append(
        Position(run_id=run_id, position=1, meter_type="T"),
        Position(run_id=run_id, position=2, meter_type="T"),
        Step(run_id=run_id, step_key="be", ordinal=0, item="basic_error", point="Ib"),
    )
    start = store.next_reading_index(run_id, 1, "be")
    if start:  # a resumed writer may replay what it last sent: that must change nothing
        assert store.append(reading(1, start - 1), reading(2, start - 1)) == 0
    i = start
    while limit < 0 or i < limit:
        store.append(reading(1, i), reading(2, i))  # one transaction for both positions
        print(i, flush=True)
        i += 1
    """
)


def _spawn(path, run_id: str, limit: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), run_id, str(limit)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check(path, run_id: str) -> int:
    """Everything a crash must not break; returns how many readings per position are stored."""
    with ResultsStore.open(path, create=False) as store:
        assert store.integrity_check() == ["ok"]
        report = store.verify_chain(run_id)
        assert report.ok, report.summary()
        readings = store.readings(run_id)
        assert store.status(run_id) is RunStatus.RUNNING
    by_position = {p: [r for r in readings if r.position == p] for p in (1, 2)}
    count = len(by_position[1])
    for position, stored in by_position.items():
        assert [r.index for r in stored] == list(range(count)), "not a prefix, or duplicated"
        for r in stored:
            assert r.raw == {"m": 100000 + r.index, "N": r.index % 7, "p": position}
            assert r.value == Decimal(r.index) / Decimal(1000) * position
    return count


def test_sigkill_at_random_moments_loses_only_the_append_in_flight(tmp_path):
    path, run_id = tmp_path / "results.db", "CRASH-1"
    rng = random.Random(20260302)
    stored = in_flight = 0
    for _ in range(8):
        writer = _spawn(path, run_id, -1)
        assert writer.stdout is not None and writer.stderr is not None  # spawned with pipes
        target = stored + rng.randint(1, 25)
        last = -1
        while last < target:
            line = writer.stdout.readline()
            assert line, f"writer stopped: {writer.stderr.read()}"
            last = int(line)
        time.sleep(rng.uniform(0, 0.001))  # vary where in the next append the kill lands
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        reported = [int(line) for line in writer.stdout.read().split()]  # still in the pipe
        last = max([last, *reported])
        writer.stdout.close()
        writer.stderr.close()
        assert writer.returncode == -signal.SIGKILL
        count = _check(path, run_id)
        # every append the writer reported is there; at most the one in flight beyond it
        assert last + 1 <= count <= last + 2
        in_flight += count - (last + 1)
        stored = count

    final = _spawn(path, run_id, stored + 10)
    out, err = final.communicate()
    assert final.returncode == 0, err
    assert _check(path, run_id) == stored + 10
    print(f"kills that landed after a commit but before its report: {in_flight} of 8")
