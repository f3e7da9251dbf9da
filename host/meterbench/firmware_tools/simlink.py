"""Serve the firmware's link server in-process over a pty (CPython, for the simulated bench).

Why: the simulated bench runs the real firmware logic (bench.app.build with the sim HAL) in
its own process, drives time and edges from its physics model, and lets host drivers reach it
exactly like a real controller: through a serial device path. ``PtyLink.path`` is that path;
``serve()`` shuttles bytes between the pty and the server and calls ``service(now_ms)`` so
results and heartbeats flow. The firmware's ``lib`` must be importable (``firmware_path()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tty
from collections.abc import Callable
from typing import Any

from meterbench.shipped import firmware_dir

FIRMWARE_LIB = firmware_dir() / "lib"


def firmware_path() -> None:
    """Make ``import bench`` work in this process."""
    if str(FIRMWARE_LIB) not in sys.path:
        sys.path.insert(0, str(FIRMWARE_LIB))


class PtyLink:
    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)

    def close(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    async def serve(self, server: Any, now_ms: Callable[[], int], period_s: float = 0.002) -> None:
        """Run until cancelled: bytes in -> server.feed, server output -> pty."""
        while True:
            with contextlib.suppress(BlockingIOError):
                data = os.read(self._master, 4096)
                if data:
                    server.feed(data)
            server.service(now_ms())
            out = server.take_output()
            while out:
                try:
                    n = os.write(self._master, out)
                except BlockingIOError:
                    await asyncio.sleep(period_s)
                    continue
                out = out[n:]
            await asyncio.sleep(period_s)
