"""Keep a running hardware watchdog fed while the board is in maintenance or safe mode.

Why: the rp2 and ESP32 watchdogs can be neither stopped nor slowed once started, and a soft
reset leaves them running. A board handed to mpremote (flashing, ``RESET_REPL``) or booted into
safe mode would otherwise reset in the middle of an upload or an engineer's session. A
``machine.Timer`` feeds it here, independent of whatever the REPL is doing. Timers do not
survive a soft reset (mpremote soft-resets before every command), so boot.py restarts the timer
while the ``MAINT`` marker file exists; the app's own start-up removes the marker and stops the
timer, after which only its supervisor feeds (a wedged app must still end in a reset).
Maintenance ends by itself after ``limit_ms`` so a board forgotten at the REPL returns to
measuring; safe mode has no limit. Touches machine: boards (and the fake board) only.
"""

import os
import sys

MARKER = "MAINT"
RP2040_WDT_MAX_MS = 8388  # rp2 port limit (RP2350 from v1.29: 16777)

_timer = None


def wdt_timeout(ms):
    return min(ms, RP2040_WDT_MAX_MS) if sys.platform == "rp2" else ms


def start(wdt_ms, limit_ms=0):
    """Feed the watchdog from a timer; returns whether a timer now runs. A watchdog cannot be
    asked whether it runs, so this starts one if none does (harmless: the timer feeds it)."""
    global _timer
    stop()
    if not wdt_ms:
        return False
    try:
        import machine
    except ImportError:
        return False
    if not hasattr(machine, "WDT") or not hasattr(machine, "Timer"):
        return False
    wdt = machine.WDT(timeout=wdt_timeout(wdt_ms))
    period = max(10, wdt_ms // 4)
    left = [limit_ms // period if limit_ms else -1]  # feeds left; -1: no limit

    def feed(_t):
        if left[0] == 0:
            return
        if left[0] > 0:
            left[0] -= 1
        wdt.feed()

    timer_id = 0 if sys.platform == "esp32" else -1  # esp32: hardware timer 0; rp2: virtual
    _timer = machine.Timer(timer_id, mode=machine.Timer.PERIODIC, period=period, callback=feed)
    return True


def stop():
    global _timer
    if _timer is not None:
        _timer.deinit()
        _timer = None


def enter(wdt_ms, limit_ms=0):
    """Maintenance or safe mode: leave the marker for boot.py, then start the timer."""
    tmp = MARKER + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d" % (wdt_ms, limit_ms))
    os.rename(tmp, MARKER)
    return start(wdt_ms, limit_ms)


def leave():
    """The app takes over: stop the timer and remove the marker."""
    stop()
    try:
        os.remove(MARKER)
    except OSError:
        pass


def boot():
    """Called by boot.py after every reset: restart the timer while the marker exists."""
    try:
        with open(MARKER) as f:
            parts = f.read().split()
        wdt_ms, limit_ms = int(parts[0]), int(parts[1])
    except (OSError, ValueError, IndexError):
        return False
    return start(wdt_ms, limit_ms)
