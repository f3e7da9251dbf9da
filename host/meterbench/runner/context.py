"""What every item of a run shares: the store it appends to, the clock, the devices, the
routing of controller results to the position waiting for them, and the error log.

Results stream from each controller on one queue; a router task per controller sorts them by
channel so every position's measurement waits only for its own readings. Time limits are in
the shared clock's seconds, so a simulated bench running faster than real time keeps the same
budgets as a real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from meterbench.clock import Clock
from meterbench.config.meter_types import MeterType
from meterbench.devices.controller import ControllerClient, LinkTimeout
from meterbench.results import Conclusion, Event, Reading, ResultsStore, Severity
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import BenchSession
from meterbench.waits import stop_task, within
from meterproto.link import messages as m


class Observer(Protocol):
    """Live progress for an operator (the CLI's table) or nobody (tests)."""

    def step(self, title: str, index: int, total: int) -> None: ...

    def position(self, position: int, text: str) -> None: ...

    def event(self, severity: str, message: str) -> None: ...

    def step_done(self, key: str, started: float, finished: float) -> None: ...


class NullObserver:
    def step(self, title: str, index: int, total: int) -> None:
        pass

    def position(self, position: int, text: str) -> None:
        pass

    def event(self, severity: str, message: str) -> None:
        pass

    def step_done(self, key: str, started: float, finished: float) -> None:
        pass


WALL_FLOOR_S = 60.0  # the least wall time a result wait lasts when the clock stands still
LOOK_AGAIN_S = 0.1  # wall seconds between looks at a clock whose seconds take no wall time


class ResultRouter:
    """One task per controller that hands result events to per-channel queues. A channel's
    period results (the clock's second pulse) have a queue of their own: the clock test may
    run alongside an error test on the same channel, and neither may eat the other's results."""

    def __init__(self, client: ControllerClient) -> None:
        self.client = client
        self._queues: dict[tuple[int, bool], asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            msg = await self.client.next_result()
            period = msg.msg_type == m.PERIOD_READING
            self._queues[(msg["position"], period)].put_nowait(msg)

    def drain(self, channel: int, period: bool = False) -> None:
        """Forget results of earlier functions on this channel (its period results if
        ``period``, else all others)."""
        queue = self._queues[(channel, period)]
        while not queue.empty():
            queue.get_nowait()

    async def get(self, channel: int, timeout_s: float, clock: Clock, period: bool = False) -> Any:
        """The next result of ``channel``; TimeoutError once ``timeout_s`` of the shared
        clock's seconds have passed (a simulated clock may run slower than its scale), or,
        should that clock stop altogether, once ten times their wall duration (at least
        WALL_FLOOR_S) have passed on the wall: the deadline holds in wall time too.

        The wait sleeps until the result comes or the clock should have reached the
        deadline, then looks again only if a slowed clock has not: a position waiting for
        its next reading costs nothing while it waits."""
        deadline = clock.now() + timeout_s
        loop = asyncio.get_running_loop()
        wall_deadline = loop.time() + max(WALL_FLOOR_S, 10 * clock.wall_seconds(timeout_s))
        queue = self._queues[(channel, period)]
        left = timeout_s
        while True:
            due = max(LOOK_AGAIN_S, clock.wall_seconds(left))
            try:
                return await within(queue.get(), min(due, wall_deadline - loop.time()))
            except TimeoutError:
                left = deadline - clock.now()
                if left <= 0 or loop.time() >= wall_deadline:
                    raise

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await stop_task(self._task)  # bounded even if a cancellation is swallowed


@dataclass
class RunContext:
    run_id: str
    store: ResultsStore
    session: BenchSession
    clock: Clock
    meters: dict[int, MeterEntry]
    observer: Observer = field(default_factory=NullObserver)
    routers: dict[str, ResultRouter] = field(default_factory=dict)
    # what the kind's items have set on the bench and may skip setting again (the source's
    # setpoint, ...); forgotten when a bench fault makes the engine take a step again
    settings: dict[str, Any] = field(default_factory=dict)
    _attempts: dict[tuple[int, str], int] = field(default_factory=dict)

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """Timestamps of records: the shared clock's date and time, in UTC."""
        return self.clock.datetime().astimezone(dt.UTC)

    def wall(self, sim_seconds: float) -> float:
        """Wall seconds a budget in the clock's seconds lasts at full speed."""
        return max(0.05, self.clock.wall_seconds(sim_seconds))

    async def result(self, position: int, timeout_s: float, period: bool = False) -> Any:
        """The next controller result for ``position`` (its period results if ``period``),
        within ``timeout_s`` clock seconds."""
        router, channel = self.router(position)
        return await router.get(channel, timeout_s, self.clock, period)

    # -- devices ---------------------------------------------------------------------------------
    def meter_type(self, position: int) -> MeterType:
        return self.meters[position].meter_type

    def channel(self, position: int) -> tuple[str, int]:
        p = self.session.positions[position]
        return p.controller, p.channel

    async def request(self, position: int, msg_type: int, **fields: Any) -> Any:
        controller_id, channel = self.channel(position)
        client = self.session.controllers[controller_id]
        try:
            return await client.request(msg_type, position=channel, **fields)
        except LinkTimeout as exc:
            raise LinkTimeout(f"controller {controller_id}: {exc}") from exc

    def router(self, position: int) -> tuple[ResultRouter, int]:
        controller_id, channel = self.channel(position)
        return self.router_of(controller_id), channel

    def router_of(self, controller_id: str) -> ResultRouter:
        """The one router of a controller's results, started when first needed."""
        if controller_id not in self.routers:
            self.routers[controller_id] = ResultRouter(self.session.controllers[controller_id])
        return self.routers[controller_id]

    async def stop_functions(self, position: int, functions: int = m.FN_ALL) -> None:
        """Stop ``functions`` of the position's channel (only its own, when another step
        runs alongside on the same channel)."""
        with contextlib.suppress(Exception):
            await self.request(position, m.STOP, functions=functions)

    def forget_settings(self) -> None:
        """Everything set on the bench must be set again (a bench fault may have lost it)."""
        self.settings.clear()

    def trace(self, position: int, count: int = 12) -> list[dict[str, Any]]:
        """The last raw frames on this position's meter bus, for the error log."""
        client = self.session.meters.get(position)
        if client is None:
            return []
        return [entry.to_dict() for entry in client.bus.trace.last(count)]

    # -- records ---------------------------------------------------------------------------------
    def append(self, *records: Any) -> None:
        self.store.append(*records)

    def log(
        self,
        severity: Severity,
        kind: str,
        message: str,
        position: int | None = None,
        step_key: str | None = None,
        trace: list[dict[str, Any]] | None = None,
    ) -> None:
        self.append(
            Event(
                run_id=self.run_id,
                at=self.now(),
                severity=severity,
                kind=kind,
                message=message,
                position=position,
                step_key=step_key,
                trace=tuple(trace or ()),
            )
        )
        self.observer.event(
            severity.value, message if position is None else f"position {position}: {message}"
        )

    def _attempt(self, position: int, step_key: str) -> int:
        key = (position, step_key)
        if key not in self._attempts:
            stored = self.store.readings(self.run_id, step_key=step_key, position=position)
            self._attempts[key] = max((r.attempt for r in stored), default=-1) + 1
        return self._attempts[key]

    def reading(
        self,
        position: int,
        step_key: str,
        index: int,
        raw: dict[str, Any],
        value: Any = None,
        unit: str = "",
        attempt: int | None = None,
        status: Any = None,
    ) -> Reading:
        """A reading record. ``attempt`` None means: this measurement started from scratch in
        this process, so it gets a fresh attempt number if an interrupted run already stored
        readings for the position and step (they are kept, under their own attempt)."""
        if attempt is None:
            attempt = self._attempt(position, step_key)
        kwargs: dict[str, Any] = {}
        if status is not None:
            kwargs["status"] = status
        return Reading(
            run_id=self.run_id,
            position=position,
            step_key=step_key,
            index=index,
            at=self.now(),
            raw=raw,
            value=value,
            unit=unit,
            attempt=attempt,
            **kwargs,
        )

    def conclusion(self, position: int, step_key: str, outcome: Any, **kwargs: Any) -> Conclusion:
        return Conclusion(
            run_id=self.run_id,
            position=position,
            step_key=step_key,
            at=self.now(),
            outcome=outcome,
            **kwargs,
        )
