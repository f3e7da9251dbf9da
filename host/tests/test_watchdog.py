"""A run in which nothing is stored any more is stopped and says so, never hangs silently.

An item that never returns (the hang of the field reports: every await waiting on something
that never comes) is simulated by replacing the communication item with one that waits for
ever; whatever the machine's speed, nothing is ever stored after it started, so the watchdog
must stop the run: an event in the record, the outputs safe, the run interrupted and
resumable.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meterbench.kinds.electricity.items import EXECUTORS
from meterbench.results import ResultsStore, RunStatus
from meterbench.runner.engine import RunError, Runner, RunOptions
from meterbench.runner.supervise import Stopped, Supervisor, watchdog

BENCHES = Path(__file__).resolve().parent / "benches"


async def _forever(*_: object) -> None:
    await asyncio.Event().wait()


def test_the_watchdog_stops_work_that_stores_nothing() -> None:
    async def main() -> None:
        sup = Supervisor()

        async def guard() -> None:
            await watchdog(lambda: 0, lambda: 0.05, lambda s: sup.stop("stall", f"{s:.2f}"))

        with pytest.raises(Stopped) as stopped:
            await sup.run(_forever(), guard)
        assert stopped.value.how == "stall"

    asyncio.run(main())


def test_a_hung_item_stops_the_run_with_an_event_and_safe_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EXECUTORS, "communication", _forever)
    db = tmp_path / "results.db"
    options = RunOptions(
        BENCHES / "runner-1p-8.toml", BENCHES / "plan-short.toml", BENCHES / "meters-8.csv", db
    )
    with ResultsStore.open(db) as store:
        with pytest.raises(RunError, match="nothing stored for") as stopped:
            asyncio.run(Runner(store, stall_s=1.0).start(options))
        (summary,) = store.list_runs()
        run_id = summary.run_id
        assert f"meterbench resume {run_id}" in str(stopped.value)
        assert store.status(run_id) == RunStatus.INTERRUPTED
        (event,) = [e for e in store.events(run_id) if e.kind == "no_progress"]
        assert "source output: off" in event.message


def test_a_result_wait_ends_in_wall_time_when_the_clock_stands_still(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from meterbench.clock import ManualClock
    from meterbench.runner import context

    class Silent:
        async def next_result(self) -> None:
            await asyncio.Event().wait()

    monkeypatch.setattr(context, "WALL_FLOOR_S", 0.05)

    async def main() -> None:
        router = context.ResultRouter(Silent())  # type: ignore[arg-type]
        try:
            with pytest.raises(TimeoutError):
                await router.get(1, 60.0, ManualClock())  # the clock never moves
        finally:
            await router.close()

    asyncio.run(main())
