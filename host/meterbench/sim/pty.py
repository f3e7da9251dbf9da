"""A pseudo-terminal that a simulated device serves and host drivers open like a serial port.

The path handed to drivers can be a stable symlink, so the device can vanish (the pty closes
and the name disappears, as when a USB cable is pulled) and come back under the same name.
Noise on demand corrupts or drops bytes in both directions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tty
from dataclasses import dataclass


@dataclass
class LineNoise:
    """Per-byte probabilities of corruption and loss, while active."""

    corrupt: float = 0.0
    drop: float = 0.0
    seed: int = 5

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def apply(self, data: bytes) -> bytes:
        if not (self.corrupt or self.drop):
            return data
        out = bytearray()
        for b in data:
            r = self._rng.random()
            if r < self.drop:
                continue
            if r < self.drop + self.corrupt:
                b ^= 1 << self._rng.randrange(8)
            out.append(b)
        return bytes(out)


class PtyDevice:
    """The device end of a pty; ``path`` is what a host driver opens."""

    def __init__(self, link: str | None = None, poll_s: float = 0.004) -> None:
        self.link = link
        self.poll_s = poll_s  # a pty cannot wake its device: it is polled this often
        self.master: int | None = None
        self._slave: int | None = None
        self.pty_path: str | None = None
        self.noise: LineNoise | None = None
        self._out = bytearray()

    @property
    def path(self) -> str:
        if self.link is not None:
            return self.link
        if self.pty_path is None:
            raise RuntimeError("the pty is not open")
        return self.pty_path

    @property
    def present(self) -> bool:
        return self.master is not None

    def open(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        self.pty_path = os.ttyname(slave)
        if self.link is not None:
            temp = f"{self.link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            os.symlink(self.pty_path, temp)
            os.replace(temp, self.link)
        return self.path

    def close(self) -> None:
        for fd in (self.master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave = None
        self._out.clear()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)

    def read(self) -> bytes:
        """Whatever the host wrote (b"" if nothing, or while vanished)."""
        if self.master is None:
            return b""
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return b""
        return self.noise.apply(data) if self.noise else data

    def send(self, data: bytes) -> None:
        """Queue bytes for the host (noise applied once, here) and write what fits now."""
        if self.master is None:
            return
        self._out += self.noise.apply(data) if self.noise else data
        self.flush()

    async def wait(self, timeout: float) -> None:
        """Until the next poll (a pty gives no wake-up), at most ``timeout`` wall seconds."""
        await asyncio.sleep(max(0.0, min(timeout, self.poll_s)))

    def flush(self) -> None:
        if self.master is None or not self._out:
            return
        try:
            written = os.write(self.master, self._out)
        except BlockingIOError:
            return
        except OSError:
            written = len(self._out)
        del self._out[:written]
