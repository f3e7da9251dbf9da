"""The simulated bench's clocks. ``VirtualClock``: simulated time that advances only when
everything waits (a bench in one process on a virtual-time loop: reproducible on any machine).
``ScaledClock``: simulated time running a fixed factor faster than the wall, held back by the
slowest simulated controller (a bench on ptys that other processes open, ``sim serve``). Both
implement ``meterbench.clock.Clock``, so the engine reads them like the wall clock of a real
bench.
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
        self,
        time_scale: float = 1.0,
        start: float = 0.0,
        slack: float | None = None,
        start_datetime: dt.datetime | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.time_scale = float(time_scale)
        self.slack = slack if slack is not None else max(1.0, 0.05 * self.time_scale)
        self._wall = time.monotonic()
        self._now = float(start)
        self._origin_sim = float(start)
        self._origin_datetime = start_datetime or local_now()
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


class VirtualClock:
    """Simulated time read from a virtual-time event loop (``sim.virtual_loop``): it advances
    only when every task, host and devices, waits, so what a seeded run does at which instant
    never depends on the machine. Loop seconds are simulated seconds, so ``wall_seconds`` (the
    loop waits of drivers and runner) is the identity and ``time_scale`` is 1; ``pace`` is how
    much faster than the wall the loop may run (None: as fast as it can).

    ``start`` and ``start_datetime`` place the time line: a resumed run continues from the
    last time its record holds, so its timestamps never go backwards. A new time line starts
    on a whole second, so the meters' clocks (which show whole seconds) read the same offsets
    from the start in every seeded run, whenever it is started.
    """

    time_scale = 1.0

    def __init__(
        self,
        start: float = 0.0,
        start_datetime: dt.datetime | None = None,
        pace: float | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._loop_origin = loop.time()
        self._start = float(start)
        self._origin_datetime = start_datetime or local_now().replace(microsecond=0)
        self.pace = pace

    def now(self) -> float:
        return self._start + (self._loop.time() - self._loop_origin)

    def datetime(self) -> dt.datetime:
        return self._origin_datetime + dt.timedelta(seconds=self.now() - self._start)

    def wall_seconds(self, seconds: float) -> float:
        return max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


__all__ = [
    "Clock",
    "ManualClock",
    "ScaledClock",
    "VirtualClock",
    "WallClock",
]  # the first three moved; kept
