"""A simulated device's end of an in-process byte stream (``transport.memory``): the same
interface as ``PtyDevice``, for a bench that runs on virtual time.

Unlike a pty, bytes written by the host wake the device in the same loop turn (``wait``), so
a device needs no polling tick: it sleeps until the host writes or its own next deadline.
"""

from __future__ import annotations

import asyncio

from meterbench.sim.pty import LineNoise
from meterbench.transport import memory


class MemoryDevice:
    """``open`` registers ``mem://name`` (what a host driver opens); ``close`` unplugs it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.noise: LineNoise | None = None
        self._pipe: memory.BytePipe | None = None
        self._url = memory.SCHEME + name

    @property
    def path(self) -> str:
        return self._url

    @property
    def present(self) -> bool:
        return self._pipe is not None

    def open(self) -> str:
        pipe = memory.BytePipe(self._url)
        self._pipe = pipe
        memory.register(self.name, pipe.host_end)
        return self._url

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.vanish()
            self._pipe = None
        memory.unregister(self._url)

    def read(self) -> bytes:
        """Whatever the host wrote (b"" if nothing, or while unplugged)."""
        if self._pipe is None:
            return b""
        data = self._pipe.to_device.take()
        return self.noise.apply(data) if self.noise and data else data

    def send(self, data: bytes) -> None:
        if self._pipe is not None and data:
            self._pipe.to_host.put(self.noise.apply(data) if self.noise else data)

    def flush(self) -> None:
        """Nothing waits: every byte was handed over in ``send``."""

    async def wait(self, timeout: float) -> None:
        """Until the host writes, at most ``timeout`` loop seconds."""
        if self._pipe is None:
            await asyncio.sleep(max(0.0, timeout))
            return
        await self._pipe.to_device.wait(timeout)


__all__ = ["MemoryDevice"]
