"""An asyncio event loop whose time can stop following the wall clock: virtual time.

A simulated bench run in one process (host run and simulated devices on one loop, bytes moved
in memory, ``transport.memory``) runs on this loop. Its time starts at 0 and advances only
when nothing is ready to run (every task waits for a timer) and then jumps
straight to the next timer. What happens, and at which simulated instant, is then decided by
the program alone, never by the speed or load of the machine: a seeded simulated run stores
the same values on any machine, as fast as the CPU allows.

``pace`` keeps a virtual loop from running ahead of the wall clock by more than that factor
(simulated seconds per wall second), to watch a demo live; it only delays the jumps, so the
run stays the same. Readiness of file descriptors (signals, a control socket) is still
polled at every turn, so Ctrl-C and other processes are heard, and with no timer pending the
loop blocks in the OS as any loop does.

The one rule for code on a virtual loop: no work in other threads (``to_thread``, reader
threads). The loop cannot see a thread working and would jump time while it does.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import selectors
import time
from asyncio import base_events
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
# asyncio waits at most this long in one turn of its loop, whatever the next timer
MAXIMUM_SELECT_TIMEOUT: float = getattr(base_events, "MAXIMUM_SELECT_TIMEOUT", 24 * 3600)


class _Selector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The OS selector, polled; a wait for a timer moves the virtual clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.pace: float | None = None
        self.next_due: Callable[[], float | None] = lambda: None
        self._wall0 = time.monotonic()
        self._virtual0 = 0.0

    def set_pace(self, pace: float | None) -> None:
        self.pace = pace
        self._wall0, self._virtual0 = time.monotonic(), self.now

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only the outside world can wake us
            return super().select(None)
        target = self._target(timeout)
        if self.pace is not None:
            due = self._wall0 + (target - self._virtual0) / self.pace
            wait = due - time.monotonic()
            if wait > 0:
                ready = super().select(wait)
                if ready:
                    return ready
        self.now = target
        return []

    def _target(self, timeout: float) -> float:
        """Where the clock jumps: exactly to the instant of the timer the loop waits for.
        ``now + timeout`` can miss it by a rounding, and which sums are made depends on every
        other timer (a live display's redraws): time would then differ in the last bit from
        run to run, and a simulated counter tick with it."""
        due = self.next_due()
        if due is not None and timeout < MAXIMUM_SELECT_TIMEOUT:
            return max(self.now, due)
        return self.now + timeout  # the loop waits at most a day per turn


class _FifoTimer(asyncio.TimerHandle):
    """A timer that, due at the same instant as another, runs in the order both were set.
    asyncio's timers compare by instant alone, so which of two runs first depends on how
    the heap holds every other timer: one more timer elsewhere (a live display) would
    reorder two meters' requests on a bus."""

    __slots__ = ("_order",)

    def __init__(self, order: int, *args: Any) -> None:
        super().__init__(*args)
        self._order = order

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _FifoTimer):
            return (self._when, self._order) < (other._when, other._order)
        return super().__lt__(other)  # type: ignore[operator]


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop on virtual time, starting at 0 (the same for every run, so the same
    floating-point sums happen in every run)."""

    def __init__(self) -> None:
        self._jumping = _Selector()
        super().__init__(self._jumping)
        self._jumping.next_due = self._next_due
        self._timers_set = itertools.count()

    def call_at(
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        """As asyncio's, with timers due at one instant run in the order they were set."""
        self._check_closed()  # type: ignore[attr-defined]
        timer = _FifoTimer(next(self._timers_set), when, callback, args, self, context)
        if timer._source_traceback:  # type: ignore[attr-defined]
            del timer._source_traceback[-1]  # type: ignore[attr-defined]
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    @property
    def _clock_resolution(self) -> float:
        """The loop runs the timers due before ``time() + resolution`` together, at
        ``time()``: with the wall clock's resolution a timer a rounding later than another
        would run at the other's instant, so again times would depend on other timers. One
        step of the float is the finest there is (``when <= time()``)."""
        return math.ulp(self.time())

    @_clock_resolution.setter
    def _clock_resolution(self, wall_resolution: float) -> None:
        """Set by the base loop to the wall clock's; virtual time has its own."""

    def _next_due(self) -> float | None:
        """The instant of the earliest timer (the loop drops cancelled ones from the head of
        its queue before it computes how long to wait)."""
        scheduled = self._scheduled  # type: ignore[attr-defined]
        return scheduled[0].when() if scheduled else None

    def time(self) -> float:
        return self._jumping.now

    def set_pace(self, pace: float | None) -> None:
        """Run at most ``pace`` virtual seconds per wall second (None: as fast as possible)."""
        self._jumping.set_pace(pace)


def running_virtual_loop() -> VirtualTimeLoop | None:
    """The running loop, if it runs on virtual time."""
    loop = asyncio.get_running_loop()
    return loop if isinstance(loop, VirtualTimeLoop) else None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a virtual-time loop: for a simulated bench run in this process."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


__all__ = ["VirtualTimeLoop", "run", "running_virtual_loop"]
