"""Endpoints that live in this process: ``mem://name``, for a simulated bench run in-process.

A simulated bench on virtual time (``meterbench.sim.virtual_loop``) cannot put its devices on
ptys: bytes in a pty travel through the kernel and a reader thread, so the event loop could
not tell "everybody waits" from "bytes are on their way" and would jump time too early. Its
devices register here instead, and the drivers open ``mem://`` URLs exactly as they open a
device path: bytes are handed over on the event loop and wake the receiver in the same loop
turn, so idle means idle.

``BytePipe`` is the two-way byte stream of a device that is not a bus (a controller's link, a
source's SCPI line); a bus registers a factory that opens its own port (the line model decides
when replies arrive). Nothing here knows the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from meterbench.transport.errors import PortLostError, PortOpenError
from meterbench.transport.settings import SerialSettings

SCHEME = "mem://"

_factories: dict[str, Callable[[SerialSettings], Any]] = {}


def is_memory(url: str) -> bool:
    return url.startswith(SCHEME)


def register(name: str, factory: Callable[[SerialSettings], Any]) -> str:
    """Make ``mem://name`` openable; ``factory`` returns the host's end (a ``Port``)."""
    url = SCHEME + name
    _factories[url] = factory
    return url


def unregister(url: str) -> None:
    _factories.pop(url, None)


def connect(url: str, settings: SerialSettings) -> Any:
    """The host's end of ``url``; PortOpenError if nothing is registered (or it vanished)."""
    factory = _factories.get(url)
    if factory is None:
        raise PortOpenError(f"cannot open {url}: no such simulated device in this process")
    return factory(settings)


class _Inbox:
    """Bytes for one side and the event that wakes it."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.event = asyncio.Event()

    def put(self, data: bytes) -> None:
        if data:
            self.data += data
            self.event.set()

    def take(self) -> bytes:
        data = bytes(self.data)
        self.data.clear()
        self.event.clear()
        return data

    async def wait(self, timeout: float | None) -> None:
        """Until bytes are there, at most ``timeout`` loop seconds (None: no limit)."""
        if self.data:
            return
        self.event.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.event.wait()


class BytePipe:
    """A device's two-way byte stream; the host opens it with ``host_end`` (one at a time,
    like a serial port). ``close`` is an unplugged cable: the host's end breaks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.to_device = _Inbox()
        self.to_host = _Inbox()
        self.generation = 0  # bumped when the device goes away, which breaks open host ends

    def host_end(self, settings: SerialSettings) -> PipePort:
        self.to_device.take()
        self.to_host.take()
        return PipePort(self, settings)

    def vanish(self) -> None:
        self.generation += 1
        self.to_host.event.set()  # wake a waiting reader, which then finds its end broken


class PipePort:
    """The host's end of a ``BytePipe``: the transport's ``Port`` (``read(timeout)``) plus
    ``receive()``, which waits without a deadline, for link clients with a reader task."""

    def __init__(self, pipe: BytePipe, settings: SerialSettings) -> None:
        self._pipe = pipe
        self.url = pipe.url
        self._generation = pipe.generation
        self.settings = settings
        self._closed = False

    @property
    def error(self) -> BaseException | None:
        if self._closed or self._generation != self._pipe.generation:
            return PortLostError("simulated device gone")
        return None

    @property
    def lost(self) -> bool:
        return self.error is not None

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    async def read(self, timeout: float) -> bytes:
        """Whatever arrived, waiting up to ``timeout`` loop seconds for the first byte."""
        self._check()
        if timeout > 0:
            await self._pipe.to_host.wait(timeout)
            self._check()
        return self._pipe.to_host.take()

    async def receive(self) -> bytes:
        """The next bytes, however long they take; PortLostError once the device is gone."""
        while True:
            self._check()
            await self._pipe.to_host.wait(None)
            self._check()
            data = self._pipe.to_host.take()
            if data:
                return data

    async def write(self, data: bytes) -> None:
        self.send(data)

    def send(self, data: bytes) -> None:
        self._check()
        self._pipe.to_device.put(bytes(data))

    def reset_input(self) -> None:
        self._pipe.to_host.take()

    def set_baudrate(self, baudrate: int) -> None:
        self.settings = self.settings.with_baudrate(baudrate)

    async def close(self) -> None:
        self._closed = True
        self._pipe.to_host.event.set()


__all__ = [
    "SCHEME",
    "BytePipe",
    "PipePort",
    "connect",
    "is_memory",
    "register",
    "unregister",
]
