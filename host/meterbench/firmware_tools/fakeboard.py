"""A MicroPython "board" on a pty: the real unix port, with a board's reset behaviour.

Why: stock mpremote, the flash tool and the link client should be testable end to end without
hardware, including what breaks them on real boards: a watchdog that cannot be stopped, slow
round trips, a filesystem that fills up. This wrapper gives the host a stable pty and relays
bytes to a child unix port running on a second pty with cwd = a "flash" directory:

* boot.py and main.py run first (like a board after power-up); when main.py ends, the same
  process goes on to the friendly REPL (``-i``), so bytes the program left unread are still
  there for the REPL, as in a board's USB buffer.
* a child exit (Ctrl-D at the REPL) or machine.soft_reset() (a link RESET) -> print
  ``soft reboot`` and start a new child that runs boot.py (as every reset does); if the host
  was in the raw REPL, re-enter it silently and show only the raw banner (what mpremote expects
  after a soft reset); otherwise run boot.py and main.py again.
* peripherals (``fakeboard_rom/machine.py``, imported before boot.py in every child): a
  watchdog that really resets the board (if not fed within its timeout the child is killed and
  the board boots afresh, RAM lost; soft resets leave it running, as on rp2/ESP32), timers,
  and an optional flash size (writes beyond it fail with ENOSPC).
* ``port`` is a stable symlink to the pty. A hard reset (watchdog, machine.reset()) drops
  the "USB device" like a board does: the old pty is closed (the host's open port fails) and a
  new one appears under the same path.
* ``write_latency``: seconds added to every chunk the host sends, like a real board's USB
  round trip and flash write (an upload of ~350 raw-REPL round trips then takes seconds).
* ``MICROPYPATH`` is ``<rom>:<flash>/lib:<flash>:.frozen`` (absolute), so imports and ``mip``
  stay inside the fake flash.

"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from meterbench.firmware_tools.unixport import find_micropython

ROM = Path(__file__).resolve().parent / "fakeboard_rom"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
ROM_INIT = "import machine\n"  # the board's peripherals come up before any user code
RUN_FILE = (
    "def _run(_f):\n"
    "    import os, sys\n"
    "    try:\n"
    "        os.stat(_f)\n"
    "    except OSError:\n"
    "        return\n"
    "    try:\n"
    "        exec(open(_f).read(), {'__name__': '__main__'})\n"
    "    except Exception as e:\n"
    "        sys.print_exception(e)\n"
)
BOOT_CODE = ROM_INIT + RUN_FILE + "_run('boot.py')\n_run('main.py')\ndel _run\n"
BOOT_PY_ONLY = ROM_INIT + RUN_FILE + "_run('boot.py')\ndel _run\n"


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 60) -> None:
    """Wait until ``predicate()`` holds: an event of the board, as tests see it (the deadline
    only keeps a test from hanging for ever; a slow machine just waits longer)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class FakeBoard:
    """Start with ``start()``; ``port`` is the device path to give mpremote or pyserial."""

    def __init__(
        self,
        flash: str | os.PathLike[str],
        micropython: str | None = None,
        *,
        write_latency: float = 0.0,
        flash_bytes: int | None = None,
    ) -> None:
        self.flash = Path(flash).resolve()
        self.flash.mkdir(parents=True, exist_ok=True)
        self.micropython = micropython or find_micropython()
        self.write_latency = write_latency
        self.flash_bytes = flash_bytes
        self.port = ""
        self.boots = 0
        self.soft_resets = 0
        self.wdt_resets = 0
        self.wdt_feeds = 0
        self.wdt_timeout_ms: int | None = None  # armed watchdog, None when not running
        self._wdt_deadline = 0.0
        self._hw_dir = Path(tempfile.mkdtemp(prefix="fakeboard-hw-"))
        self._hw_path = self._hw_dir / "hw"
        self._hw = -1
        self._hw_buf = b""
        self._master = -1
        self._slave = -1
        self._child_fd = -1
        self._proc: subprocess.Popen[bytes] | None = None
        self._raw = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.events: list[str] = []  # "boot", "soft reboot", "watchdog reset", "hard reset"

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> str:
        os.mkfifo(self._hw_path)
        # Read-write: the FIFO always has a reader, so children never block opening it.
        self._hw = os.open(self._hw_path, os.O_RDWR | os.O_NONBLOCK)
        self.port = str(self._hw_dir / "tty")
        self._plug_usb()
        self._spawn(raw=False)
        self._thread = threading.Thread(target=self._relay, name="fakeboard", daemon=True)
        self._thread.start()
        return self.port

    def _plug_usb(self) -> None:
        """A fresh pty under the stable port path (at start, and after a hard reset)."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        link = self._hw_dir / "tty.new"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(os.ttyname(self._slave))
        os.replace(link, self.port)

    def _unplug_usb(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._kill_child()
        for fd in (self._master, self._slave, self._hw):
            with contextlib.suppress(OSError):
                os.close(fd)
        for path in (self._hw_path, Path(self.port)):
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            self._hw_dir.rmdir()

    def __enter__(self) -> FakeBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- child ---------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MICROPYPATH"] = f"{ROM}:{self.flash / 'lib'}:{self.flash}:.frozen"
        env["FAKEBOARD_HW"] = str(self._hw_path)
        env.pop("FAKEBOARD_FLASH_BYTES", None)
        if self.flash_bytes is not None:
            env["FAKEBOARD_FLASH_BYTES"] = str(self.flash_bytes)
        return env

    def _spawn(self, raw: bool) -> None:
        args = [self.micropython, "-i", "-c", BOOT_PY_ONLY if raw else BOOT_CODE]
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
            env=self._env(),
            start_new_session=True,
        )
        os.close(slave)
        self._child_fd = master
        self.boots += 1
        if raw:
            self._enter_raw_silently()

    def _read_child_until(self, ending: bytes, timeout: float = 10) -> bytes:
        seen = b""
        deadline = time.monotonic() + timeout
        while not seen.endswith(ending) and time.monotonic() < deadline:
            r, _, _ = select.select([self._child_fd, self._hw], [], [], 0.1)
            if self._hw in r:
                self._read_hw()
            if self._child_fd in r:
                chunk = os.read(self._child_fd, 1024)
                if not chunk:
                    break
                seen += chunk
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
        self._kill_child()
        self.soft_resets += 1
        self.events.append("soft reboot")
        os.write(self._master, b"soft reboot\r\n")
        self._spawn(raw=self._raw)

    def _hard_reset(self, why: str) -> None:
        """Watchdog or machine.reset(): everything restarts, the watchdog stops, the host's
        raw REPL session is gone; boot.py and main.py run as after power-up."""
        self._kill_child()
        self.wdt_timeout_ms = None
        self._raw = False
        self._unplug_usb()
        self._plug_usb()
        self._spawn(raw=False)
        # Recorded last: tests wait for the event and then open the port, which must by then
        # name the new pty, not the one just closed.
        self.events.append(why)

    # -- peripherals ---------------------------------------------------------------------------
    def _read_hw(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._hw_buf += os.read(self._hw, 4096)
        *lines, self._hw_buf = self._hw_buf.split(b"\n")
        now = time.monotonic()
        for line in lines:
            if line.startswith(b"S") and line[1:].isdigit():
                self.wdt_timeout_ms = int(line[1:])
                self._wdt_deadline = now + self.wdt_timeout_ms / 1000
            elif line == b"F" and self.wdt_timeout_ms is not None:
                self.wdt_feeds += 1
                self._wdt_deadline = now + self.wdt_timeout_ms / 1000
            elif line == b"R":
                self._hard_reset("hard reset")
            elif line == b"X":
                self._drain_child()
                self._child_ended()

    def _drain_child(self) -> None:
        """What the program wrote before asking for a reset still reaches the host."""
        while select.select([self._child_fd], [], [], 0)[0]:
            try:
                data = os.read(self._child_fd, 4096)
            except OSError:
                return
            if not data:
                return
            os.write(self._master, data)

    def _check_watchdog(self) -> bool:
        """Reset the board if its watchdog ran out; True if it did."""
        if self.wdt_timeout_ms is not None and time.monotonic() > self._wdt_deadline:
            self.wdt_resets += 1
            self._hard_reset("watchdog reset")
            return True
        return False

    # -- relay ---------------------------------------------------------------------------------
    def _relay(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self._master, self._child_fd, self._hw], [], [], 0.05)
            if self._master in r:
                data = os.read(self._master, 4096)
                if self._raw and b"\x02" in data:
                    self._raw = False
                if self.write_latency:
                    time.sleep(self.write_latency)
                os.write(self._child_fd, data)
            if self._hw in r:
                self._read_hw()  # after the host's bytes went in: a reset may replace the child
                self._check_watchdog()
                continue
            if self._check_watchdog():
                # The new board's descriptors may reuse the old one's numbers: what select
                # said of those was about the old board (a read could wait for ever).
                continue
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
