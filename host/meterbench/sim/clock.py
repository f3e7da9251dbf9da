"""The simulated bench's clock: simulated time, faster than real time and held back by the
slowest simulated controller. It implements ``meterbench.clock.Clock``, so the engine reads it
like the wall clock of a real bench.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

from meterbench.clock import Clock, ManualClock, WallClock, local_now


class ScaledClock:
    """Simulated time running up to ``time_scale`` times faster than the monotonic wall clock.

    Governors (the simulated controllers) report how far they have computed; the clock never
    runs more than ``slack`` simulated seconds ahead of the slowest one. On a loaded machine
    simulated time therefore slows down instead of leaving the simulation behind, so every
    device and the runner keep seeing one consistent time line.
    """

    def __init__(
        self, time_scale: float = 1.0, start: float = 0.0, slack: float | None = None
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.time_scale = float(time_scale)
        self.slack = slack if slack is not None else max(1.0, 0.05 * self.time_scale)
        self._wall = time.monotonic()
        self._now = float(start)
        self._origin_sim = float(start)
        self._origin_datetime = local_now()
        self._governors: list[Callable[[], float]] = []

    def govern(self, processed_until: Callable[[], float]) -> None:
        """Hold the clock within ``slack`` of what ``processed_until()`` reports."""
        self._governors.append(processed_until)

    def now(self) -> float:
        wall = time.monotonic()
        target = self._now + (wall - self._wall) * self.time_scale
        if self._governors:
            limit = min(governor() for governor in self._governors) + self.slack
            target = min(target, max(self._now, limit))
        self._now, self._wall = max(self._now, target), wall
        return self._now

    def datetime(self) -> dt.datetime:
        """Date and time on the simulated time line (starts at the wall time of creation)."""
        return self._origin_datetime + dt.timedelta(seconds=self.now() - self._origin_sim)

    def wall_seconds(self, seconds: float) -> float:
        """How long ``seconds`` of simulated time last on the wall clock at full speed."""
        return max(0.0, seconds) / self.time_scale

    async def sleep(self, seconds: float) -> None:
        target = self.now() + max(0.0, seconds)
        while (left := target - self.now()) > 0:
            await asyncio.sleep(min(0.05, self.wall_seconds(left)))


__all__ = ["Clock", "ManualClock", "ScaledClock", "WallClock"]  # the first three moved; kept
