"""A simulated device that answers on a line of its own (a source's SCPI line, a Modbus RTU
line, a balance): the task that serves it, the same on a pty and on an in-memory line.

Why one loop for all of them: a pty gives no wake-up, so ``PtyDevice.wait`` returns after its
poll interval, while an in-memory line (``MemoryDevice``) wakes the device when the host
writes and otherwise sleeps until the device's own next look. A device that only answers
thus costs nothing between requests on a virtual-time loop, which skips straight ahead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from meterbench.waits import stop_task

ONLY_ANSWERS_S = 3600.0  # loop seconds: a device with nothing of its own to do sleeps this long


class DeviceEndpoint:
    """Subclasses handle the host's bytes in ``serve`` and say in ``look_again_s`` when they
    must look again without any (a pending command with a deadline)."""

    def __init__(self, device: Any) -> None:
        self.device = device  # PtyDevice or MemoryDevice
        self._task: asyncio.Task[None] | None = None

    def start(self) -> str:
        path = self.device.open()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return path

    def serve(self, data: bytes) -> None:
        """Handle what the host wrote (b"" when woken by time alone)."""
        raise NotImplementedError

    def look_again_s(self) -> float:
        """Loop seconds until the device must look again if the host stays silent."""
        return ONLY_ANSWERS_S

    async def _run(self) -> None:
        while True:
            self.serve(self.device.read())
            self.device.flush()
            await self.device.wait(self.look_again_s())

    async def stop(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await stop_task(task)
        self.device.close()


__all__ = ["ONLY_ANSWERS_S", "DeviceEndpoint"]
