"""Watching the source while readings are taken.

The source is set and found stable once per load point, but it can wander later (a range
change, a mains dip, a failing amplifier). A reading gated over such a moment measured the
meter at the wrong load, so it is stored as invalid and taken again. One watcher per source
polls its stability while any position takes readings; a reading asks whether any poll from
its start up to the first poll after its arrival found the source unstable. A source that
stays unstable longer than the bench's settling timeout stops the point with SourceError, as
an unstable source at a new setpoint does.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from meterbench.clock import Clock
from meterbench.devices.source import SourceError
from meterbench.runner.context import RunContext
from meterbench.waits import stop_task, within

_KEEP = 4096  # polls remembered (a few hours at one per second)
_POLL_GRACE_S = 5.0  # how late a poll may be (a slow source) before a reader looks again


class SourceWatch:
    """Polls ``is_stable()`` every ``poll_s`` wall seconds while anybody has joined."""

    def __init__(self, source: Any, clock: Clock, poll_s: float) -> None:
        self._source = source
        self._clock = clock
        self._poll_s = poll_s
        self._users = 0
        self._task: asyncio.Task[None] | None = None
        self._polls: list[tuple[float, bool]] = []  # (clock time, stable)
        self._polled = asyncio.Event()  # set after each poll (and when the watcher ends)
        self.unstable_since: float | None = None
        self.problem = ""

    async def join(self) -> SourceWatch:
        self._users += 1
        if self._task is None:
            # The last watcher set its event on leaving; a reader waiting on that one would
            # find it set at once, every time, and never let the new watcher poll.
            self._polled = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def leave(self) -> None:
        self._users -= 1
        if self._users == 0 and self._task is not None:
            task, self._task = self._task, None
            await stop_task(task)

    async def _run(self) -> None:
        try:
            await self._poll_forever()
        finally:
            self._polled.set()  # whoever waits for a poll learns there will be none

    async def _poll_forever(self) -> None:
        while True:
            t = self._clock.now()
            try:
                stable = await self._source.is_stable()
                problem = "" if stable else "the source reports its output unstable"
            except Exception as exc:  # noqa: BLE001 - not knowing counts as unstable
                stable, problem = False, f"the source does not answer: {exc}"
            if stable:
                self.unstable_since = None
            else:
                self.problem = problem
                if self.unstable_since is None:
                    self.unstable_since = t
            self._polls.append((t, stable))
            del self._polls[:-_KEEP]
            polled, self._polled = self._polled, asyncio.Event()
            polled.set()
            await asyncio.sleep(self._poll_s)

    async def unstable_between(self, start: float, end: float) -> bool:
        """Was the source found unstable after ``start``, up to the first poll at or after
        ``end`` (waits for that poll: woken by each poll, not on a timer of its own)?"""
        while not self._polls or self._polls[-1][0] < end:
            if self._task is None or self._task.done():
                raise SourceError("the source is not being watched")
            with contextlib.suppress(TimeoutError):  # a poll is due within poll_s: look again
                await within(self._polled.wait(), 2 * self._poll_s + _POLL_GRACE_S)
        first_after = next(t for t, _ in self._polls if t >= end)
        return any(start < t <= first_after and not ok for t, ok in self._polls)

    def check_endurance(self, now: float, limit_s: float) -> None:
        """SourceError once the source has been unstable for longer than ``limit_s``."""
        if self.unstable_since is not None and now - self.unstable_since > limit_s:
            raise SourceError(
                f"source unstable for {now - self.unstable_since:.0f} s while readings were "
                f"taken ({self.problem})"
            )


_WATCHES: weakref.WeakKeyDictionary[Any, SourceWatch] = weakref.WeakKeyDictionary()


def source_watch(ctx: RunContext) -> SourceWatch:
    """The one watcher of this run's source (polling once per clock second, or less often)."""
    from meterbench.kinds.electricity.source import source as source_of

    source = source_of(ctx)
    watch = _WATCHES.get(source)
    if watch is None:
        watch = _WATCHES[source] = SourceWatch(source, ctx.clock, ctx.wall(1.0))
    return watch
