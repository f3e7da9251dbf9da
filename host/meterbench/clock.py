"""The clock every layer reads: the engine, the items, the self-test and the simulated bench.

A real bench runs on the wall clock. A simulated bench may run faster than real time; then the
engine and the simulator share its clock (``meterbench.sim.clock.ScaledClock``), so a 2-hour
creep test takes seconds of wall time while every pulse count stays physically consistent with
the simulated seconds that passed. Budgets are always in the clock's seconds; ``wall_seconds``
says how long they last on the wall, for the few waits that must be given in wall time (a
driver's own timeout, a poll interval).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since an arbitrary origin, the date and time they stand for, and waiting."""

    @property
    def time_scale(self) -> float:
        """Clock seconds per wall second (1 for real time, inf for a manual clock)."""
        ...

    def now(self) -> float: ...

    def datetime(self) -> dt.datetime:
        """The date and time on this clock's time line (timezone-aware)."""
        ...

    def wall_seconds(self, seconds: float) -> float:
        """Wall seconds that ``seconds`` of this clock last at full speed."""
        ...

    async def sleep(self, seconds: float) -> None: ...


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


class WallClock:
    """Real time (monotonic)."""

    time_scale = 1.0

    def now(self) -> float:
        return time.monotonic()

    def datetime(self) -> dt.datetime:
        """The wall-clock date and time (timezone-aware)."""
        return local_now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def wall_seconds(self, seconds: float) -> float:
        return seconds


class ManualClock:
    """A clock that moves only when told to (or slept on): deterministic tests of time-based
    logic. Sleeping advances it at once, so a test of a 15-minute item takes no wall time."""

    time_scale = float("inf")

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._origin = float(start)
        self._origin_datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def now(self) -> float:
        return self._now

    def datetime(self) -> dt.datetime:
        return self._origin_datetime + dt.timedelta(seconds=self._now - self._origin)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds

    def wall_seconds(self, seconds: float) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


__all__ = ["Clock", "ManualClock", "WallClock", "local_now"]
