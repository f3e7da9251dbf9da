"""A simulated line reached in memory: the bus's port without a pty, socket or thread.

Every byte moves by the event loop's clock (``loop.call_at``), so a bus on this port runs
under a virtual-time event loop exactly as it would in real time: thousands of transactions
with meters that take seconds to answer cost no wall time, and nothing depends on the speed
of the machine. The devices and the line are the same ``SimLine`` the servers put on ptys.
"""

from __future__ import annotations

import asyncio
import contextlib

from meterbench.sim.line import LineFormat, Scheduled, SimLine
from meterbench.transport import memory
from meterbench.transport.errors import PortLostError
from meterbench.transport.settings import SerialSettings
from meterbench.waits import within


class MemoryPort:
    """One open connection to ``line``; what the devices answer arrives when the line says."""

    def __init__(self, line: SimLine, settings: SerialSettings) -> None:
        self._loop = asyncio.get_running_loop()
        self._session = line.session()
        self.settings = settings
        self._buffer = bytearray()
        self._event = asyncio.Event()
        self._pending: set[asyncio.TimerHandle] = set()
        self._closed = False

    @classmethod
    def opener(cls, line: SimLine):  # noqa: ANN206 - a PortOpener
        """A ``Bus`` opener that connects to ``line`` whatever the URL."""

        async def open_(url: str, settings: SerialSettings, exclusive: bool) -> MemoryPort:
            return cls(line, settings)

        return open_

    @property
    def lost(self) -> bool:
        return self._closed

    @property
    def error(self) -> BaseException | None:
        return PortLostError("closed") if self._closed else None

    async def read(self, timeout: float) -> bytes:
        if not self._buffer and timeout > 0 and not self._closed:
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await within(self._event.wait(), timeout)
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if self._closed:
            raise PortLostError("memory line closed")
        return b""

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise PortLostError("memory line closed")
        now = self._loop.time()
        for item in self._session.feed(bytes(data), now, LineFormat(self.settings.baudrate)):
            handle = self._loop.call_at(item.at, self._deliver, item)
            self._pending.add(handle)

    def _deliver(self, item: Scheduled) -> None:
        self._pending = {h for h in self._pending if not h.cancelled() and h.when() > item.at}
        if self._closed:
            return
        if item.baudrate != self.settings.baudrate:
            # Sent at another rate, the bytes reach the receiver as framing garbage.
            self._buffer += bytes(len(item.data))
        else:
            self._buffer += item.data
        self._event.set()

    def reset_input(self) -> None:
        self._buffer.clear()

    def set_baudrate(self, baudrate: int) -> None:
        self.settings = self.settings.with_baudrate(baudrate)

    async def close(self) -> None:
        self._closed = True
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        self._event.set()


class MemoryBusServer:
    """A simulated bus as ``mem://name`` for drivers in this process (a bench on virtual
    time); like ``PtyMeterServer`` it can vanish (open ports break) and come back."""

    def __init__(self, line: SimLine, name: str) -> None:
        self.line = line
        self.name = name
        self.url = memory.SCHEME + name
        self._ports: list[MemoryPort] = []

    def _open(self, settings: SerialSettings) -> MemoryPort:
        port = MemoryPort(self.line, settings)
        self._ports.append(port)
        return port

    async def start(self) -> str:
        return memory.register(self.name, self._open)

    async def stop(self) -> None:
        memory.unregister(self.url)
        ports, self._ports = self._ports, []
        for port in ports:
            await port.close()

    async def vanish(self) -> None:
        await self.stop()

    async def reappear(self) -> str:
        return await self.start()


__all__ = ["MemoryBusServer", "MemoryPort"]
