"""A pyserial port driven from asyncio.

Where the port has a file descriptor (a POSIX serial port, a pty, ``socket://``) the event loop
watches it and reads each chunk as it arrives: an idle bus costs the host nothing. pyserial's
other URL handlers have none (``loop://``, ``rfc2217://``), so there one reader thread per port
blocks in ``read`` and hands every chunk to the event loop. Either way latency is that of the
OS, and a failure (device unplugged, socket closed) is kept and raised by the next ``read`` as
PortLostError. Writes and closes run in worker threads so a stuck adapter never blocks the loop
(closing a serial port can take seconds on some drivers).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

import serial

from meterbench.transport import memory
from meterbench.transport.endpoint import open_serial, release
from meterbench.transport.errors import PortLostError
from meterbench.transport.readiness import readable_fd, write_now
from meterbench.transport.settings import SerialSettings
from meterbench.waits import within

_READ_POLL = 0.1  # how long a reader thread blocks before it looks at the stop flag


class AsyncPort:
    """One open endpoint: ``read``/``write`` from coroutines, bytes gathered by a thread."""

    def __init__(
        self, ser: serial.Serial, url: str, settings: SerialSettings, key: str | None
    ) -> None:
        self._ser = ser
        self.url = url
        self.settings = settings
        self._key = key
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._error: BaseException | None = None
        self._event = asyncio.Event()
        self._stop = threading.Event()
        self._closed = False
        self._fd = readable_fd(ser)
        self._thread: threading.Thread | None = None
        if self._fd is not None:
            self._loop.add_reader(self._fd, self._readable)
        else:
            self._thread = threading.Thread(target=self._reader, name=f"port {url}", daemon=True)
            self._thread.start()

    @classmethod
    async def open(cls, url: str, settings: SerialSettings, *, exclusive: bool = True) -> AsyncPort:
        """Open ``url``; raises PortOpenError / PortInUseError. A ``mem://`` endpoint (a
        simulated device in this process) answers with its own port of the same shape."""
        if memory.is_memory(url):
            return memory.connect(url, settings)
        ser, key = await asyncio.to_thread(
            open_serial, url, settings, exclusive=exclusive, read_timeout=_READ_POLL
        )
        return cls(ser, url, settings, key)

    # -- input on the loop (ports with a file descriptor) -----------------------------------
    def _readable(self) -> None:
        """The loop saw input (or a hang-up): take what is there without blocking."""
        ser = self._ser
        try:
            data = ser.read(max(1, ser.in_waiting))
        except Exception as exc:  # any failure means the port is gone
            self._unwatch()
            self._deliver(b"", exc)
            return
        if data:
            self._deliver(data, None)

    def _unwatch(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None

    # -- reader thread (ports without one) --------------------------------------------------
    def _reader(self) -> None:
        ser = self._ser
        while not self._stop.is_set():
            try:
                data = ser.read(1)
                if data:
                    waiting = ser.in_waiting
                    if waiting:
                        data += ser.read(waiting)
            except Exception as exc:  # any failure means the port is gone
                if not self._stop.is_set():
                    self._post(b"", exc)
                return
            if data:
                self._post(data, None)

    def _post(self, data: bytes, error: BaseException | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._deliver, data, error)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stop.set()

    def _deliver(self, data: bytes, error: BaseException | None) -> None:
        if data:
            self._buffer += data
        if error is not None and self._error is None:
            self._error = error
        self._event.set()

    # -- coroutine side ---------------------------------------------------------------------
    @property
    def lost(self) -> bool:
        return self._error is not None

    @property
    def error(self) -> BaseException | None:
        """Why the port is gone (None while it works)."""
        return self._error

    def _lost_error(self) -> PortLostError:
        return PortLostError(f"{self.url} vanished: {self._error}")

    async def read(self, timeout: float) -> bytes:
        """Whatever arrived, waiting up to ``timeout`` s for the first byte (b"" if none)."""
        if not self._buffer and self._error is None and timeout > 0:
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await within(self._event.wait(), timeout)
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if self._error is not None:
            raise self._lost_error()
        return b""

    async def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._lost_error()
        try:
            sent = write_now(self._ser, data)
            if sent < len(data):  # the port is not taking it now: a thread waits for it
                await asyncio.to_thread(self._ser.write, data[sent:])
        except Exception as exc:  # a failed write means the port is gone
            if self._error is None:
                self._error = exc
            raise self._lost_error() from None

    def reset_input(self) -> None:
        """Drop everything received so far (OS buffer and ours)."""
        if self._error is None:
            try:
                self._ser.reset_input_buffer()
            except Exception as exc:
                self._error = exc
        self._buffer.clear()

    def set_baudrate(self, baudrate: int) -> None:
        self._ser.baudrate = baudrate
        self.settings = self.settings.with_baudrate(baudrate)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._unwatch()
        if self._thread is not None:
            cancel = getattr(self._ser, "cancel_read", None)
            if cancel is not None:
                with contextlib.suppress(Exception):  # closing anyway
                    cancel()
            await asyncio.to_thread(self._thread.join, 2 * _READ_POLL + 1.0)
        if self.url.lower().startswith("socket://"):
            # pyserial's socket close shuts the socket at once, then sleeps 0.3 s "to give the
            # server time": let that sleep run out in the background.
            threading.Thread(target=self._close_quietly, daemon=True).start()
        else:
            await asyncio.to_thread(self._close_quietly)
        release(self._key)
        self._key = None

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # a vanished port may fail to close
            self._ser.close()
