"""A MicroPython "board" on a pty: the real unix port, with a board's reset behaviour.

Why: stock mpremote and the link client should be testable end to end without hardware. The
unix port alone is not a board: it exits on Ctrl-D where a board soft-resets, and it runs no
boot.py/main.py. This wrapper gives the host a stable pty and relays bytes to a child unix
port running on a second pty with cwd = a "flash" directory:

* boot.py and main.py run first (like a board after power-up); when main.py ends, the board
  is at the friendly REPL (a plain child is started, no reboot).
* any other child exit (Ctrl-D at the REPL, machine.soft_reset() from a link RESET) -> print
  ``soft reboot`` and start a new child; if the host was in the raw REPL, re-enter it silently
  and show only the raw banner (what mpremote expects after a soft reset); otherwise run
  boot.py and main.py again.
* ``MICROPYPATH`` is ``<flash>/lib:<flash>:.frozen`` (absolute), so imports and ``mip`` stay
  inside the fake flash.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
import time
import tty
from pathlib import Path

from meterbench.firmware_tools.unixport import find_micropython

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
# Exit status of the boot child when main.py ended (returned or raised): on a board that
# leaves you at the REPL, so the wrapper starts a REPL child without a "soft reboot".
TO_REPL = 100
BOOT_CODE = (
    "import os, sys\n"
    "for _f in ('boot.py', 'main.py'):\n"
    "    try:\n"
    "        os.stat(_f)\n"
    "    except OSError:\n"
    "        continue\n"
    "    try:\n"
    "        exec(open(_f).read(), {'__name__': '__main__'})\n"
    "    except Exception as e:\n"
    "        sys.print_exception(e)\n"
    f"sys.exit({TO_REPL})\n"
)


class FakeBoard:
    """Start with ``start()``; ``port`` is the device path to give mpremote or pyserial."""

    def __init__(self, flash: str | os.PathLike[str], micropython: str | None = None) -> None:
        self.flash = Path(flash).resolve()
        self.flash.mkdir(parents=True, exist_ok=True)
        self.micropython = micropython or find_micropython()
        self.port = ""
        self.boots = 0
        self._master = -1
        self._slave = -1
        self._child_fd = -1
        self._proc: subprocess.Popen[bytes] | None = None
        self._held: bytearray | None = None
        self._raw = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> str:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.port = os.ttyname(self._slave)
        self._spawn(raw=False)
        self._thread = threading.Thread(target=self._relay, name="fakeboard", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._kill_child()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> FakeBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- child ---------------------------------------------------------------------------------
    def _spawn(self, raw: bool, repl: bool = False) -> None:
        env = dict(os.environ)
        env["MICROPYPATH"] = f"{self.flash / 'lib'}:{self.flash}:.frozen"
        plain = raw or repl
        args = [self.micropython] if plain else [self.micropython, "-c", BOOT_CODE]
        # The child's tty is raw before it starts, so no byte the host sends early is eaten
        # by line editing or flushed by a mode change.
        master, slave = os.openpty()
        tty.setraw(slave)
        self._proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=self.flash,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self._child_fd = master
        self.boots += 1
        # A REPL child discards input until its prompt is up: hold host bytes until then.
        self._held = bytearray() if repl else None
        if raw:
            self._enter_raw_silently()

    def _read_child_until(self, ending: bytes, timeout: float = 10) -> bytes:
        seen = b""
        deadline = time.monotonic() + timeout
        while not seen.endswith(ending) and time.monotonic() < deadline:
            r, _, _ = select.select([self._child_fd], [], [], 0.1)
            if r:
                seen += os.read(self._child_fd, 1024)
        return seen

    def _enter_raw_silently(self) -> None:
        # Wait for the prompt first: bytes sent before the child has put its tty in raw mode
        # would be discarded.
        self._read_child_until(b">>> ")
        os.write(self._child_fd, b"\r\x01")
        self._read_child_until(RAW_BANNER)
        os.write(self._master, RAW_BANNER)

    def _kill_child(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            with contextlib.suppress(OSError):
                os.close(self._child_fd)

    def _child_ended(self) -> None:
        assert self._proc is not None
        try:
            status = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            status = -1
        self._kill_child()
        if status == TO_REPL and not self._raw:
            self._spawn(raw=False, repl=True)
            return
        os.write(self._master, b"soft reboot\r\n")
        self._spawn(raw=self._raw)

    # -- relay ---------------------------------------------------------------------------------
    def _relay(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self._master, self._child_fd], [], [], 0.1)
            if self._master in r:
                data = os.read(self._master, 4096)
                if self._raw and b"\x02" in data:
                    self._raw = False
                if self._held is not None:
                    self._held.extend(data)
                else:
                    os.write(self._child_fd, data)
            if self._child_fd in r:
                try:
                    data = os.read(self._child_fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    self._child_ended()
                    continue
                if RAW_BANNER[:-1] in data:
                    self._raw = True
                os.write(self._master, data)
                if self._held is not None and b">>> " in data:
                    held, self._held = self._held, None
                    os.write(self._child_fd, bytes(held))
