"""A seeded simulated run is reproducible reading for reading, on any machine and under any
load: the simulated bench of every kind (electricity, water, heat, gas) runs in-process on
virtual time (``sim.virtual_loop``), which advances only when host and devices all wait. And
a 192-position bench with 16 controllers runs a plan to completion."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from meterbench.results import ResultsStore, RunStatus
from meterbench.runner.context import Observer
from meterbench.runner.engine import Runner, RunOptions
from meterbench.runner.progress import LiveProgress, PlainProgress
from meterbench.sim import virtual_loop
from meterbench.sim.repeatable import FROM_START, times_from

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "sim_benches"
BENCH = REPO / "bench_configs" / "sim-1p-24.toml"
METERS = REPO / "bench_configs" / "meters" / "sim-1p-24.csv"
PLAN = HERE / "short-plan.toml"
TESTS = Path(__file__).resolve().parent
# A short seeded run of every other kind: bench, meter list, plan.
KINDS = {
    "water": (
        TESTS / "water_benches" / "standing-master.toml",
        TESTS / "water_benches" / "meters-standing.csv",
        HERE / "water-short-plan.toml",
    ),
    "heat": (
        REPO / "hil_tests" / "benches" / "heat-4.toml",
        HERE / "meters-heat-3.csv",
        HERE / "heat-short-plan.toml",
    ),
    "gas": (
        TESTS / "gas_benches" / "master-meter.toml",
        TESTS / "gas_benches" / "meters-3.csv",
        HERE / "gas-short-plan.toml",
    ),
}


def _run(
    db: Path,
    bench: Path = BENCH,
    meters: Path = METERS,
    plan: Path = PLAN,
    observer: Observer | None = None,
) -> str:
    store = ResultsStore.open(db)
    try:
        runner = Runner(store, observer or PlainProgress(Console(file=io.StringIO())))
        options = RunOptions(
            bench,
            plan,
            meters,
            db,
            verifier="t",
            checker="t",
            task="T",
            temperature_c=Decimal("23"),
            humidity_pct=Decimal("45"),
        )
        return virtual_loop.run(runner.start(options))
    finally:
        store.close()


def _canonical(db: Path, run_id: str) -> dict[str, Any]:
    """What the run stored, with times as offsets from its start (the start itself is the
    wall time the run began, so it differs)."""
    store = ResultsStore.open(db)
    try:
        start = store.get_run(run_id).started_at

        def rel(at: dt.datetime) -> float:
            return (at - start).total_seconds()

        readings = [
            (
                r.position,
                r.step_key,
                r.index,
                r.attempt,
                rel(r.at),
                times_from(r.raw, start),
                r.value,
                r.status,
            )
            for r in store.readings(run_id)
        ]
        conclusions = [
            (c.position, c.step_key, c.limit_kind, c.outcome, c.mean, c.rounded, rel(c.at))
            for c in store.conclusions(run_id)
        ]

        def frames(trace: Any) -> list[Any]:
            base = start.timestamp()
            return [
                {
                    **f,
                    "time": round(f["time"] - base, 6),
                    "monotonic": round(f["monotonic"] - base, 6),
                }
                for f in trace
            ]

        events = [
            (e.severity, e.kind, e.message, frames(e.trace), rel(e.at))
            for e in store.events(run_id)
        ]
        return {"readings": readings, "conclusions": conclusions, "events": events}
    finally:
        store.close()


@contextmanager
def _loaded() -> Iterator[None]:
    """Another thread keeps the CPU (and the interpreter lock) busy meanwhile."""
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            x = (x * 1103515245 + 12345) & 0xFFFFFFFF

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        yield
    finally:
        stop.set()
        spinner.join()


def test_a_seeded_simulated_run_stores_the_same_values_every_time(tmp_path: Path) -> None:
    first = _canonical(tmp_path / "a.db", _run(tmp_path / "a.db"))
    with _loaded():
        loaded = _canonical(tmp_path / "b.db", _run(tmp_path / "b.db"))
    again = _canonical(tmp_path / "c.db", _run(tmp_path / "c.db"))
    assert first["readings"] and first["conclusions"]
    meter_times = [r[5] for r in first["readings"] if r[5].get("check") == "read_datetime"]
    assert meter_times and all(t["value"][0] == FROM_START for t in meter_times)
    assert loaded == first
    assert again == first


def test_the_live_display_changes_nothing_a_run_stores(tmp_path: Path) -> None:
    """Its redraws are timers of their own, extra stops of the virtual clock: what the run
    measures must not depend on where else the clock stopped."""
    plain = _canonical(tmp_path / "a.db", _run(tmp_path / "a.db"))
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with LiveProgress(list(range(1, 25)), console) as live:
        shown = _canonical(tmp_path / "b.db", _run(tmp_path / "b.db", observer=live))
    assert live.drawn > 2
    assert shown == plain


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_seeded_run_of_every_kind_repeats_reading_for_reading(tmp_path: Path, kind: str) -> None:
    """Water, heat and gas benches run on virtual time too: the same readings, conclusions
    and events (with their frames) whether the machine is idle or loaded."""
    bench, meters, plan = KINDS[kind]

    def run(name: str) -> dict[str, Any]:
        db = tmp_path / f"{name}.db"
        return _canonical(db, _run(db, bench, meters, plan))

    first = run("a")
    with _loaded():
        loaded = run("b")
    assert first["readings"] and first["conclusions"]
    assert loaded == first


def test_192_positions_on_16_controllers_run_to_completion(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _run(db, HERE / "sim-1p-192.toml", HERE / "meters-192.csv")
    store = ResultsStore.open(db)
    try:
        assert store.status(run_id) == RunStatus.COMPLETED
        measured = {c.position for c in store.conclusions(run_id) if "basic_error" in c.step_key}
        assert measured == set(range(1, 193))
        failed = {
            c.position
            for c in store.conclusions(run_id)
            if "basic_error" in c.step_key and c.outcome == "fail"
        }
        assert failed == {3, 99, 190}  # the three configured 2.6 % fast
    finally:
        store.close()


def test_a_resumed_simulated_run_goes_on_from_its_last_stored_time(tmp_path: Path) -> None:
    from meterbench.bench_open import open_bench
    from meterbench.config.bench import load_bench
    from meterbench.runner.recorded import last_stored_time

    db = tmp_path / "r.db"
    run_id = _run(db)
    store = ResultsStore.open(db)
    try:
        last = last_stored_time(store, run_id)
        started = store.get_run(run_id).started_at
    finally:
        store.close()
    assert last is not None and last > started

    async def opened_at() -> tuple[dt.datetime, float]:
        async with open_bench(load_bench(BENCH), BENCH, None, last) as bench:
            return bench.clock.datetime(), bench.clock.now()

    at, now = virtual_loop.run(opened_at())
    assert at == last and now == 0.0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kinds_simulated_clock_goes_on_from_the_time_it_is_given(kind: str) -> None:
    """What a resumed run relies on (``start_datetime`` from its record) for every kind."""
    from meterbench.bench_open import open_bench
    from meterbench.config.bench import load_bench

    bench = KINDS[kind][0]
    last = dt.datetime(2026, 3, 1, 8, 30, 15, tzinfo=dt.UTC)

    async def opened_at() -> tuple[dt.datetime, float, str]:
        async with open_bench(load_bench(bench), bench, None, last) as opened:
            return opened.clock.datetime(), opened.clock.now(), type(opened.clock).__name__

    assert virtual_loop.run(opened_at()) == (last, 0.0, "VirtualClock")
