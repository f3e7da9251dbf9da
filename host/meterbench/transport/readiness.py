"""A port's bytes moved on the event loop itself, where the OS can say when that is possible.

A POSIX serial port, a pty and a ``socket://`` line each have a file descriptor that the
event loop watches with the OS (epoll, kqueue, select): the host then sleeps until a byte
arrives, instead of a thread waking every few tens of milliseconds to look. URL handlers
without one (``rfc2217://``, ``loop://``, Windows ports, whose loop cannot watch one) keep
a reader thread.

A request frame fits the OS's output buffer, so it is written at once without blocking; only
what the port cannot take now (a stuck adapter) goes to a worker thread, which may block.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import serial
from serial.urlhandler import protocol_socket

# Classes whose write is a plain write(2) on their non-blocking descriptor (a subclass may
# do more around it, as pyserial's RS-485 class toggles RTS): only these are written directly.
_PLAIN_WRITERS = {serial.Serial, protocol_socket.Serial}


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


def write_now(port: Any, data: bytes) -> int:
    """Write what ``port`` takes without blocking; how many bytes that was (0 for a port
    that cannot be written so). An OSError means the port is gone."""
    if type(port) not in _PLAIN_WRITERS:
        return 0
    fd = readable_fd(port)
    if fd is None or os.get_blocking(fd):
        return 0
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0
