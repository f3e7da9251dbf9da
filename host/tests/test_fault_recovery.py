"""The runner's fault handling in isolation: positions of a step stop together, a controller
restart is recognised once per position, a lost controller is named, the source watch marks
exactly the readings that saw it unstable, link counters become error-log entries, and a
retried reading counts when a point resumes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from meterbench.clock import ManualClock
from meterbench.devices.controller import ControllerError, LinkStats, LinkTimeout
from meterbench.devices.source import SourceError
from meterbench.kinds.electricity.items.gated import stored_values as _stored_values
from meterbench.kinds.electricity.source_watch import SourceWatch
from meterbench.results import Reading, ReadingStatus, ResultsStore
from meterbench.results.sample import BASIC, START, store_sample_run
from meterbench.runner.context import RunContext
from meterbench.runner.health import LinkHealth
from meterbench.runner.recovery import restarted, together
from meterbench.transport.bus import BusStats
from meterproto.link import messages as m


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_when_one_position_fails_the_step_the_others_are_stopped_first() -> None:
    stopped: list[str] = []

    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise SourceError("the source is gone")

    async def measures() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            stopped.append("stopped")

    async def main() -> None:
        with pytest.raises(SourceError):
            await together([fails(), measures()])
        assert stopped == ["stopped"]  # before the error reaches the runner

    run(main())


@dataclass
class FakeController:
    restarts: int = 0
    boot_id: int = 1
    reachable: bool = True
    restart_on_check: bool = False
    stats: LinkStats = field(default_factory=LinkStats)
    damaged_frames: int = 0

    async def check_boot(self) -> bool:
        if not self.reachable:
            raise LinkTimeout("HELLO: no reply after 5 tries")
        if self.restart_on_check:
            self.restart_on_check = False
            self.restarts += 1
            self.boot_id += 1
            return True
        return False

    async def request(self, msg_type: int, **fields: Any) -> Any:
        raise LinkTimeout("STATUS_GET: no reply after 5 tries")


class LoggingContext:
    """Just what recovery and health use of a RunContext."""

    def __init__(self, controller: FakeController) -> None:
        self.session = SimpleNamespace(controllers={"C1": controller}, buses={})
        self.logged: list[tuple[str, str, int | None]] = []

    def channel(self, position: int) -> tuple[str, int]:
        return "C1", position - 1

    def log(
        self, severity: Any, kind: str, message: str, position: int | None = None, *a: Any, **k: Any
    ) -> None:
        self.logged.append((kind, message, position))


def test_a_restart_is_told_to_every_position_that_started_before_it() -> None:
    controller = FakeController(restart_on_check=True)
    ctx = LoggingContext(controller)

    async def main() -> None:
        assert await restarted(ctx, 1, 0, "step") is True  # type: ignore[arg-type]
        assert await restarted(ctx, 2, 0, "step") is True  # type: ignore[arg-type]
        assert await restarted(ctx, 1, 1, "step") is False  # type: ignore[arg-type]

    run(main())
    assert [(k, p) for k, _, p in ctx.logged] == [("controller_reset", 1), ("controller_reset", 2)]
    assert "controller C1 restarted (boot id 2)" in ctx.logged[0][1]


def test_an_unreachable_controller_is_named() -> None:
    ctx = LoggingContext(FakeController(reachable=False))
    with pytest.raises(ControllerError, match="controller C1 does not answer: HELLO"):
        run(restarted(ctx, 1, 0, "step"))  # type: ignore[arg-type]


def test_a_request_that_gets_no_reply_names_its_controller() -> None:
    session = SimpleNamespace(
        positions={3: SimpleNamespace(controller="C2", channel=2)},
        controllers={"C2": FakeController()},
    )
    ctx = RunContext("run", None, session, ManualClock(), {})  # type: ignore[arg-type]
    with pytest.raises(LinkTimeout, match="controller C2: STATUS_GET: no reply"):
        run(ctx.request(3, m.STATUS_GET))


class ScriptedSource:
    """Stable before t = 10 s, unstable from then on; every poll moves the clock 1 s on."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    async def is_stable(self) -> bool:
        t = self.clock.now()
        self.clock.advance(1.0)
        return t < 10


def test_the_source_watch_marks_exactly_the_readings_that_saw_it_unstable() -> None:
    async def main() -> None:
        clock = ManualClock()
        watch = await SourceWatch(ScriptedSource(clock), clock, 0.001).join()
        try:
            assert await watch.unstable_between(0, 5) is False
            assert await watch.unstable_between(3, 8) is False
            # a reading that ends at 9.5 is judged by the first poll after it (t = 10)
            assert await watch.unstable_between(5, 9.5) is True
            assert await watch.unstable_between(12, 20) is True
            watch.check_endurance(12, 5.0)  # unstable for 2 s: readings are taken again
            with pytest.raises(SourceError, match="unstable for 10 s"):
                watch.check_endurance(20, 5.0)
        finally:
            await watch.leave()

    run(main())


def test_link_counters_that_moved_during_a_step_become_one_event_per_link() -> None:
    controller = FakeController()
    bus = SimpleNamespace(stats=BusStats())
    ctx = LoggingContext(controller)
    ctx.session.buses = {"M1": bus}
    health = LinkHealth(ctx.session)  # type: ignore[arg-type]
    controller.stats.resends += 2
    controller.damaged_frames += 1
    bus.stats.transactions += 3
    bus.stats.attempts += 4
    bus.stats.timeouts += 1
    run(health.report(ctx, "step"))  # type: ignore[arg-type]
    run(health.report(ctx, "next"))  # type: ignore[arg-type]  # nothing moved since
    assert [m for _, m, _ in ctx.logged] == [
        "controller C1: requests sent again 2x, damaged frames dropped 1x",
        "bus M1: requests sent again 1x, replies missing 1x",
    ]


def test_a_retried_reading_counts_when_a_point_resumes(tmp_path: Path) -> None:
    with ResultsStore.open(tmp_path / "results.db") as store:
        run_id = store_sample_run(store, close=False).run_id
        ctx = SimpleNamespace(store=store, run_id=run_id)
        before = _stored_values(ctx, 1, BASIC)  # type: ignore[arg-type]
        index = store.next_reading_index(run_id, 1, BASIC)
        store.append(
            Reading(
                run_id=run_id,
                position=1,
                step_key=BASIC,
                index=index,
                at=START + timedelta(hours=1),
                raw={"pulses": 10},
                value=Decimal("0.25"),
                unit="%",
                status=ReadingStatus.RETRIED,
            )
        )
        assert _stored_values(ctx, 1, BASIC) == [*before, Decimal("0.25")]  # type: ignore[arg-type]
