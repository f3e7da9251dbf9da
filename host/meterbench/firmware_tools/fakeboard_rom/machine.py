"""The fake board's peripherals, for the MicroPython unix port (imported before boot.py).

Why: a board's watchdog, timers and flash size shape how firmware and tools behave (an upload
that outlasts the watchdog fails; a full filesystem fails a write half-way). This module
shadows the unix port's ``machine`` with those peripherals; the wrapper process
(meterbench.firmware_tools.fakeboard) does what the chip would:

* ``WDT(timeout=ms)``, ``feed()``: told to the wrapper over the FIFO named by $FAKEBOARD_HW;
  if no feed arrives within the timeout the wrapper kills this process and boots the board
  afresh (a hard reset: RAM lost). The watchdog survives soft resets, as on rp2 and ESP32.
* ``Timer(..., period=ms, callback=f)``: a periodic callback on a thread (ends with the
  process, as a board's timers end at a soft reset).
* ``soft_reset()`` asks the wrapper to end this process (it prints ``soft reboot`` and starts
  a new one); ``reset()`` asks for a hard reset.
* $FAKEBOARD_FLASH_BYTES: once the files in the flash directory hold that many bytes,
  opening a file for writing raises OSError(ENOSPC) as a full LittleFS would.
"""

import _thread
import builtins
import os
import time

_HW = os.getenv("FAKEBOARD_HW")
_open = builtins.open  # the wrapper's FIFO is no file on the flash
_fifo = None
_lock = _thread.allocate_lock()
ENOSPC = 28


def _tell(msg):
    global _fifo
    if not _HW:
        return
    with _lock:
        if _fifo is None:
            _fifo = _open(_HW, "wb")
        _fifo.write(msg)  # unbuffered on the unix port (and fsync on a FIFO fails)


class WDT:
    def __init__(self, id=0, timeout=5000):
        self._every = max(1, timeout // 10)
        self._last = time.ticks_ms()
        _tell(("S%d\n" % timeout).encode())

    def feed(self):
        now = time.ticks_ms()
        if time.ticks_diff(now, self._last) >= self._every:
            self._last = now
            _tell(b"F\n")


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, mode=PERIODIC, period=1000, callback=None, **_kw):
        self._on = True
        _thread.start_new_thread(self._run, (mode, period, callback))

    def _run(self, mode, period, callback):
        while self._on:
            time.sleep_ms(period)
            if not self._on:
                break
            if callback is not None:
                callback(self)
            if mode == Timer.ONE_SHOT:
                break

    def deinit(self):
        self._on = False


def _await_reset(msg):
    if not _HW:
        raise SystemExit
    _tell(msg)
    while True:
        time.sleep_ms(1000)


def soft_reset():
    _await_reset(b"X\n")


def reset():
    _await_reset(b"R\n")


def freq():
    return 125000000


def _used(path="."):
    total = 0
    for entry in os.ilistdir(path):
        name, kind = entry[0], entry[1]
        full = path + "/" + name
        if kind == 0x4000:
            total += _used(full)
        else:
            total += os.stat(full)[6]
    return total


def _limit_flash(limit):
    """Opening a file for writing fails with ENOSPC once the files hold ``limit`` bytes (the
    fake's granularity is a file: a real stream is returned, which json.dump and friends need)."""
    real_open = builtins.open

    def open_limited(name, mode="r", *args, **kwargs):
        if ("w" in mode or "a" in mode or "+" in mode) and _used() >= limit:
            raise OSError(ENOSPC)
        return real_open(name, mode, *args, **kwargs)

    builtins.open = open_limited


if os.getenv("FAKEBOARD_FLASH_BYTES"):
    _limit_flash(int(os.getenv("FAKEBOARD_FLASH_BYTES")))
