"""A bench worker stand-in for the concurrency test: appends readings to one run's chain.

    python pg_append_worker.py URL RUN_ID POSITION COUNT

Opens the store, prints ``ready``, waits for ``go`` on stdin, then appends COUNT readings of
its position (one transaction each) and prints ``done N`` with the number it stored.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from meterbench.results import Reading, ResultsStore


def main(url: str, run_id: str, position: int, count: int) -> int:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    stored = 0
    with ResultsStore.open(url) as store:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 1
        for index in range(count):
            reading = Reading(
                run_id=run_id,
                position=position,
                step_key="creep",
                index=1000 + index,
                at=start + timedelta(milliseconds=index),
                raw={"m": index, "worker": position},
                value=Decimal("0.01"),
                unit="%",
            )
            stored += store.append(reading)
    print(f"done {stored}", flush=True)
    return 0


if __name__ == "__main__":
    url, run_id, position, count = sys.argv[1:5]
    sys.exit(main(url, run_id, int(position), int(count)))
