"""Helpers of the bench test suite: the bench under test on a background event loop, and the
``meterbench`` command run as an operator runs it, with its stored record read back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from meterbench.bench_open import open_bench
from meterbench.clock import Clock
from meterbench.config.bench import BenchConfig, load_bench
from meterbench.results import ReadingStatus, ResultsStore
from meterbench.selftest import MeterInfo, listed_meters, simulated_meters

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
BENCHES = HERE / "benches"
PLAN = BENCHES / "plan-faults.toml"
METERS = BENCHES / "meters-4.csv"
RUN_TIMEOUT_S = 120  # a safety net for a hung subprocess, not a measured time


class LoopThread:
    """An asyncio loop in a thread, so session fixtures keep devices alive between tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hil", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


@dataclass
class BenchUnderTest:
    """The bench of the session: its (resolved) config, clock and meters."""

    path: Path
    config: BenchConfig
    clock: Clock
    meters: dict[int, MeterInfo]
    loop: LoopThread
    simulator: Any = None  # the SimulatedBench, when simulated

    @property
    def simulated(self) -> bool:
        return self.simulator is not None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        return self.loop.run(coro, timeout)

    def expected_silent(self) -> set[int]:
        """Positions whose meter is configured not to answer (none on a real bench)."""
        if not self.simulated:
            return set()
        section = self.simulator.section
        return {
            p.number for p in self.config.positions if section.meter_for(p.number).never_answers
        }

    def expected_dead(self) -> set[int]:
        """Positions whose meter is configured to give no pulses (none on a real bench)."""
        if not self.simulated:
            return set()
        section = self.simulator.section
        return {p.number for p in self.config.positions if section.meter_for(p.number).dead}

    opened: Any = None  # the open_bench context, left when the session ends

    async def stop(self) -> None:
        if self.opened is not None:
            await self.opened.__aexit__(None, None, None)


async def start_bench(path: Path, meters: Path | None, loop: LoopThread) -> BenchUnderTest:
    """The bench of the session, opened as every command opens it (``open_bench``)."""
    config = load_bench(path)
    listed = listed_meters(meters) if meters else {}
    opened = open_bench(config, path)
    bench = await opened.__aenter__()
    known = listed or (simulated_meters(bench.simulator) if bench.simulator is not None else {})
    return BenchUnderTest(path, bench.config, bench.clock, known, loop, bench.simulator, opened)


# -- the command, as an operator runs it -----------------------------------------------------------


def meterbench(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``meterbench ARGS`` in a new process and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "meterbench", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, **(env or {})},
        check=False,
    )


def run_scenario(bench: str | Path, db: Path) -> subprocess.CompletedProcess[str]:
    """``meterbench run`` of the fault plan on a bench file of hil_tests/benches."""
    path = bench if isinstance(bench, Path) else BENCHES / f"{bench}.toml"
    return meterbench(
        "run", "--bench", path, "--plan", PLAN, "--meters", METERS, "--db", db, "--plain"
    )


ConclusionKey = tuple[int, str, str]  # position, step, limit kind


@dataclass
class Record:
    """What one run stored, in the forms the scenarios compare."""

    run_id: str
    status: str
    statuses: list[tuple[str, str | None]]
    conclusions: dict[ConclusionKey, tuple[str, str | None, str | None, str | None]]
    reasons: dict[ConclusionKey, str | None]
    readings: list[Any]
    events: list[Any]
    chain_ok: bool = field(default=False)

    def usable(self) -> dict[tuple[int, str], int]:
        """How many readings of each position and step count towards its result."""
        counts: dict[tuple[int, str], int] = {}
        for r in self.readings:
            if r.status in (ReadingStatus.OK, ReadingStatus.RETRIED, ReadingStatus.MARKED):
                key = (r.position, r.step_key)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def with_status(self, status: ReadingStatus) -> set[tuple[int, str, int]]:
        return {(r.position, r.step_key, r.index) for r in self.readings if r.status == status}

    def events_of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.kind == kind]


def read_record(db: Path) -> Record:
    """The only run in ``db``, read back through the results store."""
    store = ResultsStore.open(db)
    try:
        (summary,) = store.list_runs()
        run_id = summary.run_id
        conclusions = {}
        reasons = {}
        for c in store.conclusions(run_id):
            key = (c.position, c.step_key, c.limit_kind.value)
            assert key not in conclusions, f"{key} concluded twice"
            conclusions[key] = (c.outcome.value, _s(c.rounded), _s(c.lower), _s(c.upper))
            reasons[key] = c.reason
        readings = store.readings(run_id)
        keys = [(r.position, r.step_key, r.index, r.attempt) for r in readings]
        assert len(keys) == len(set(keys)), "a reading was stored twice"
        return Record(
            run_id,
            store.status(run_id).value,  # type: ignore[union-attr]
            [(s.status.value, s.reason) for s in store.statuses(run_id)],
            conclusions,
            reasons,
            readings,
            store.events(run_id),
            store.verify_chain(run_id).ok,
        )
    finally:
        store.close()


def run_ids(db: Path) -> list[str]:
    """Runs stored in ``db`` (none when the file does not exist)."""
    if not db.exists():
        return []
    store = ResultsStore.open(db)
    try:
        return [r.run_id for r in store.list_runs()]
    finally:
        store.close()


def _s(value: Any) -> str | None:
    return None if value is None else str(value)
