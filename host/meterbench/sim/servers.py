"""Put a simulated line on a TCP socket (raw bytes, as a serial server does) or on a pty.

Both servers feed what the master sends into a ``SimLine`` session and send back what it
schedules, optionally pacing the bytes at the wire rate (11 bits per byte at the line's rate) so
a client sees the timing of a real 2400-baud bus. The pty server reads the master's port rate
from the pty itself, so a client at the wrong rate is not understood, as on a real
line; it can also vanish and come back under the same path (a symlink), as a USB adapter
does when its cable moves. The TCP server can stop and restart on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import os
import termios
import tty
from collections.abc import Callable

from meterbench.sim.line import LineFormat, LineSession, Scheduled, SimLine, char_time
from meterbench.waits import stop_task, within

_SPEEDS = {
    getattr(termios, f"B{rate}"): rate
    for rate in (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
    if hasattr(termios, f"B{rate}")
}


class Transmitter:
    """Sends scheduled pieces in time order; with ``pace``, one byte per character time."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        *,
        pace: bool,
        char_bits: float,
        latency_s: float = 0.0,
        gap_s: float = 0.0,
    ) -> None:
        self._write = write
        self.pace = pace
        self.char_bits = char_bits
        self.latency_s = latency_s
        self.gap_s = gap_s
        self._heap: list[tuple[float, int, Scheduled]] = []
        self._count = itertools.count()
        self._wake = asyncio.Event()
        self._free = 0.0
        self._task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self._run())

    def push(self, items: list[Scheduled]) -> None:
        for item in items:
            heapq.heappush(self._heap, (item.at, next(self._count), item))
        if items:
            self._wake.set()

    async def close(self) -> None:
        # bounded even if a cancellation is swallowed (3.11's wait_for), see meterbench.waits
        await stop_task(self._task)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._heap:
                await self._wake.wait()
                self._wake.clear()
                continue
            delay = self._heap[0][0] - loop.time()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await within(self._wake.wait(), delay)
                continue
            _, _, item = heapq.heappop(self._heap)
            if self.pace:
                await self._paced(item)
            else:
                self._send(item.data)

    def _delivered(self, arrived: float) -> float:
        """When the host sees a byte that has arrived: at once, or at the adapter's next
        latency-timer tick."""
        if self.latency_s <= 0:
            return arrived
        return math.ceil(arrived / self.latency_s - 1e-9) * self.latency_s

    async def _paced(self, item: Scheduled) -> None:
        loop = asyncio.get_running_loop()
        per_byte = char_time(item.baudrate, self.char_bits) + self.gap_s
        start = max(item.at, self._free)
        data, sent = item.data, 0
        while sent < len(data):
            # byte k has fully arrived at start + (k + 1) * per_byte (the gap after it
            # included, which only delays the next), and is seen at its delivery time
            now = loop.time()
            due = sent
            while due < len(data) and self._delivered(start + (due + 1) * per_byte) <= now + 1e-9:
                due += 1
            if due > sent:
                self._send(data[sent:due])
                sent = due
            if sent < len(data):
                wake = self._delivered(start + (sent + 1) * per_byte)
                await asyncio.sleep(max(0.0, wake - loop.time()))
        self._free = start + len(data) * per_byte

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # a line with nobody listening loses the bytes
            self._write(data)


class TcpMeterServer:
    """A line on ``socket://host:port``: raw bytes both ways, one session per connection."""

    def __init__(self, line: SimLine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.line = line
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        """Stop listening and drop every connection (the serial server goes away)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        await self.drop_connections()

    async def drop_connections(self) -> None:
        for task in list(self._connections):
            await stop_task(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        loop = asyncio.get_running_loop()
        session = self.line.session()
        tx = Transmitter(
            writer.write,
            pace=self.line.pace,
            char_bits=self.line.char_bits,
            latency_s=self.line.latency_s,
            gap_s=self.line.gap_s,
        )
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                tx.push(session.feed(data, loop.time()))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            await tx.close()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._connections.discard(task)


class PtyMeterServer:
    """A line on a pseudo-terminal; clients open ``path`` like a serial port.

    With ``link`` the path is a symlink to the current pty, so ``vanish``/``reappear`` can
    model an adapter that disappears and comes back under the same name.
    """

    def __init__(
        self, line: SimLine, *, link: str | None = None, check_line_format: bool = True
    ) -> None:
        self.line = line
        self.link = link
        self.check_line_format = check_line_format
        self.pty_path: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._session: LineSession | None = None
        self._tx: Transmitter | None = None

    @property
    def path(self) -> str:
        if self.link is not None:
            return self.link
        if self.pty_path is None:
            raise RuntimeError("the pty server is not running")
        return self.pty_path

    url = path

    async def start(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.pty_path = os.ttyname(slave)
        self._session = self.line.session()
        self._tx = Transmitter(
            self._write,
            pace=self.line.pace,
            char_bits=self.line.char_bits,
            latency_s=self.line.latency_s,
            gap_s=self.line.gap_s,
        )
        asyncio.get_running_loop().add_reader(master, self._readable)
        if self.link is not None:
            temp = f"{self.link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            os.symlink(self.pty_path, temp)
            os.replace(temp, self.link)
        return self.path

    async def stop(self) -> None:
        if self._tx is not None:
            await self._tx.close()
            self._tx = None
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            self._master = None
        if self._slave is not None:
            os.close(self._slave)
            self._slave = None
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)

    async def vanish(self) -> None:
        """The adapter is unplugged: the pty closes and its name disappears."""
        await self.stop()

    async def reappear(self) -> str:
        """The adapter is plugged back in: a new pty under the same name."""
        return await self.start()

    def _line_format(self) -> LineFormat | None:
        if not self.check_line_format or self._slave is None:
            return None
        try:
            attrs = termios.tcgetattr(self._slave)
        except termios.error:
            return None
        rate = _SPEEDS.get(attrs[5])
        return None if rate is None else LineFormat(rate)

    def _readable(self) -> None:
        assert self._master is not None and self._session is not None
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError:  # the pty broke: stop watching it rather than spin on the error
            asyncio.get_running_loop().remove_reader(self._master)
            return
        if data and self._tx is not None:
            now = asyncio.get_running_loop().time()
            self._tx.push(self._session.feed(data, now, self._line_format()))

    def _write(self, data: bytes) -> None:
        if self._master is not None:
            os.write(self._master, data)


__all__ = ["PtyMeterServer", "TcpMeterServer", "Transmitter"]
