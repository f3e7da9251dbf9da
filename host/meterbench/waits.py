"""Waiting with a deadline without ever losing a cancellation.

CPython 3.11's ``asyncio.wait_for`` runs the awaited work as an inner task and, when the
outer task is cancelled in the loop turn after that inner task finished, returns the inner
result instead of raising (bpo-42130 / gh-86296; 3.12 rebuilt ``wait_for`` on
``asyncio.timeout``). The cancel is then gone: a watcher stopped with one ``cancel()`` polls
on for ever, and a Ctrl-C that arrives that turn is ignored. ``asyncio.timeout`` (3.11+) runs
the work in the caller's own task, so a cancellation is thrown into the very await that waits
and always propagates; when the deadline and a cancel meet, the cancel wins (3.11.7's
``Timeout`` compares ``uncancel()`` with the count it found on entry).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

STOP_WAIT_S = 5.0  # wall seconds a cancelled task gets to end, per cancel
STOP_CANCELS = 3


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """``awaitable``'s result, or TimeoutError after ``seconds`` (loop time, which is wall
    time; None waits without a deadline); cancelling the caller always cancels it and raises
    CancelledError."""
    async with asyncio.timeout(seconds):
        return await awaitable


class TaskWouldNotStop(RuntimeError):
    """A task went on running after being cancelled several times."""


async def stop_task(
    task: asyncio.Task[Any], wait_s: float = STOP_WAIT_S, cancels: int = STOP_CANCELS
) -> None:
    """Cancel ``task`` and wait until it has ended, each wait bounded by ``wait_s`` wall
    seconds; a task that swallowed a cancel is cancelled again, one that ignores ``cancels``
    of them raises TaskWouldNotStop instead of hanging the caller. The caller's own
    cancellation is never swallowed (``asyncio.wait`` neither raises the task's outcome nor
    catches the caller's CancelledError). An exception the task ended with is raised."""
    for _ in range(cancels):
        task.cancel()
        try:
            await asyncio.wait({task}, timeout=wait_s)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task.done():
            break
    else:
        raise TaskWouldNotStop(f"task {task.get_name()} ignored {cancels} cancellations")
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
