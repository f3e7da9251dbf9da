"""The run's work under supervision: signals, operator aborts and the progress watchdog.

The steps run as one task. SIGINT/SIGTERM, an abort in the record (``runner.control``) or the
watchdog ask it to stop; the task is cancelled with ``stop_task`` (bounded in wall time, so a
swallowed cancellation cannot hang the stop), and ``Stopped`` tells the engine why, so it can
switch everything off, record it and print what to do next. The signal handlers stay in place
until the engine has finished stopping: a second Ctrl-C cannot cut the safe stop short.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from meterbench.sim.virtual_loop import running_virtual_loop
from meterbench.waits import stop_task

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """The work was stopped on purpose: ``how`` is signal, abort or stall; ``why`` says more."""

    def __init__(self, how: str, why: str) -> None:
        super().__init__(f"{how}: {why}")
        self.how = how
        self.why = why


class Supervisor:
    """Holds the stop request of one run and the signal handlers that make it."""

    def __init__(self) -> None:
        self.reason: tuple[str, str] | None = None
        self._stopped = asyncio.Event()
        self._installed: list[signal.Signals] = []

    def stop(self, how: str, why: str) -> None:
        """Ask the work to stop; the first reason is the one recorded."""
        if self.reason is None:
            self.reason = (how, why)
        self._stopped.set()

    def install(self) -> None:
        """SIGINT/SIGTERM become stop requests (main thread only; elsewhere a no-op)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            try:
                loop.add_signal_handler(sig, self.stop, "signal", sig.name)
            except (ValueError, RuntimeError, NotImplementedError):
                continue
            self._installed.append(sig)

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    async def run(self, work: Awaitable[T], *watchers: Callable[[], Awaitable[Any]]) -> T:
        """``work``'s result, or Stopped once a stop was asked (the work then ended)."""
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        helpers = [asyncio.ensure_future(w()) for w in watchers]
        waiter = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if self.reason is None:
                return task.result()
            with contextlib.suppress(Exception):
                await stop_task(task)
            raise Stopped(*self.reason)
        finally:
            for helper in (*helpers, waiter, task):
                if not helper.done():
                    with contextlib.suppress(Exception):
                        await stop_task(helper)


VIRTUAL_SPAN = 100.0  # on virtual time: simulated seconds per wall second of the stall limit


async def watchdog(
    progress: Callable[[], int], limit_s: Callable[[], float], on_stall: Callable[[float], None]
) -> None:
    """Call ``on_stall(seconds)`` once nothing was stored for ``limit_s()`` wall seconds
    (and, on a virtual-time loop, ``VIRTUAL_SPAN`` times that in simulated seconds).

    ``progress()`` counts what the run stored; ``limit_s()`` may change from step to step (a
    long creep test stores nothing for its whole duration). On an ordinary loop both clocks
    are wall time, so a stopped simulated clock cannot hold the watchdog back. On a
    virtual-time loop (a simulated bench in this process) a step may store nothing for an
    hour of simulated time (a water or gas point at its lowest flow) and take minutes of a
    loaded machine's time to compute: no stall. A real hang there leaves only this
    watchdog's timers, which run the loop's clock ahead thousands of simulated seconds per
    wall second, so the wall limit decides."""
    loop = asyncio.get_running_loop()
    span = VIRTUAL_SPAN if running_virtual_loop() is not None else 1.0
    seen, since, since_wall = progress(), loop.time(), time.monotonic()
    while True:
        limit = limit_s()
        await asyncio.sleep(max(0.01, min(limit / 4, 5.0)))
        now = progress()
        if now != seen:
            seen, since, since_wall = now, loop.time(), time.monotonic()
            continue
        idle = time.monotonic() - since_wall
        if idle >= limit and loop.time() - since >= span * limit:
            on_stall(idle)
            return


__all__ = ["SIGNALS", "Stopped", "Supervisor", "watchdog"]
