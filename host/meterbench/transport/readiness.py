"""Waiting for a port's bytes on the event loop itself, where the OS can say when they come.

A POSIX serial port, a pty and a ``socket://`` line each have a file descriptor that the
event loop watches with the OS (epoll, kqueue, select): the host then sleeps until a byte
arrives, instead of a thread waking every few tens of milliseconds to look. URL handlers
without one (``rfc2217://``, ``loop://``, Windows ports, whose loop cannot watch one) keep
a reader thread.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def readable_fd(port: Any) -> int | None:
    """The descriptor the loop can watch for ``port``'s input, or None if it has none."""
    fileno = getattr(port, "fileno", None)
    if fileno is None or sys.platform == "win32":
        return None
    try:
        fd = fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation, a port not open
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


async def wait_readable(fd: int) -> None:
    """Return once ``fd`` has input (or an error or hang-up, which its next read raises)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
