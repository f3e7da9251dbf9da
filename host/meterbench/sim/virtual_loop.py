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
import selectors
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Selector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The OS selector, polled; a wait for a timer moves the virtual clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.pace: float | None = None
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
        if self.pace is not None:
            due = self._wall0 + (self.now + timeout - self._virtual0) / self.pace
            wait = due - time.monotonic()
            if wait > 0:
                ready = super().select(wait)
                if ready:
                    return ready
        self.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop on virtual time, starting at 0 (the same for every run, so the same
    floating-point sums happen in every run)."""

    def __init__(self) -> None:
        self._jumping = _Selector()
        super().__init__(self._jumping)

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
