"""Wrap-safe clocks. MicroPython-safe.

``ticks_*`` wrap at TICKS_PERIOD (2**30 on 32-bit boards, 2**62 on the 64-bit unix port) and a
``ticks_diff`` is only valid for stamps less than half a period apart. Everything long-running
here sums per-step differences into Python ints instead (Uptime), and every consumer gets its
clock injected, so tests can use a ManualClock with a small period and step over the wrap.
"""

try:
    from time import ticks_add, ticks_diff, ticks_ms, ticks_us  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython (tests, host tools): MicroPython's ticks with a 2**30 period
    # The pyright ignores: the board stubs type these names from MicroPython's time module.
    import time as _time

    _PERIOD = 1 << 30

    def ticks_us():  # pyright: ignore[reportRedeclaration]
        return (_time.monotonic_ns() // 1000) & (_PERIOD - 1)  # pyright: ignore

    def ticks_ms():  # pyright: ignore[reportRedeclaration]
        return (_time.monotonic_ns() // 1000000) & (_PERIOD - 1)  # pyright: ignore

    def ticks_add(t, delta):  # pyright: ignore
        return (t + delta) & (_PERIOD - 1)

    def ticks_diff(a, b):  # pyright: ignore
        half = _PERIOD >> 1
        return ((a - b + half) & (_PERIOD - 1)) - half


try:
    from time import sleep_us  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython

    def sleep_us(us):  # pyright: ignore[reportRedeclaration]
        import time

        time.sleep(us / 1000000)


class SystemClock:
    """The board's ticks, with the period learned at run time."""

    def __init__(self):
        self.period = ticks_add(0, -1) + 1
        self.ticks_us = ticks_us
        self.ticks_ms = ticks_ms

    def diff(self, a, b):
        return ticks_diff(a, b)

    def add(self, t, delta):
        return ticks_add(t, delta)


class ManualClock:
    """A clock that moves only when told to (tests and the simulated bench).

    ``period`` sets where the ticks wrap, so wrap handling can be tested on the unix port.
    """

    def __init__(self, period=1 << 30, start_us=0):
        self.period = period
        self.now_us = start_us

    def advance_us(self, us):
        self.now_us += us

    def set_us(self, t_us):
        if t_us < self.now_us:
            raise ValueError("time cannot run backwards")
        self.now_us = t_us

    def ticks_us(self):
        return self.now_us % self.period

    def ticks_ms(self):
        return (self.now_us // 1000) % self.period

    def diff(self, a, b):
        half = self.period >> 1
        return ((a - b + half) % self.period) - half

    def add(self, t, delta):
        return (t + delta) % self.period


class Uptime:
    """Milliseconds since start as an unbounded int, from a wrapping ticks_ms.

    Call ``now()`` at least once per half period (6 days on boards); each call adds the step
    since the last one, so the wrap never shows.
    """

    def __init__(self, clock):
        self._clock = clock
        self._last = clock.ticks_ms()
        self.ms = 0

    def now(self):
        t = self._clock.ticks_ms()
        self.ms += self._clock.diff(t, self._last)
        self._last = t
        return self.ms


def unwrap(diff_mod, modulus, coarse):
    """The value congruent to diff_mod (mod modulus) closest to a coarse estimate.

    Used for 32-bit hardware counters that wrap within a long gate: the coarse estimate (from
    the millisecond uptime) only has to be right to within half a modulus.
    """
    k = (coarse - diff_mod + modulus // 2) // modulus
    if k < 0:
        k = 0
    return diff_mod + k * modulus


async def sleep_ms(ms):
    """asyncio.sleep_ms where it exists (MicroPython), else asyncio.sleep (CPython)."""
    import asyncio

    if hasattr(asyncio, "sleep_ms"):
        await asyncio.sleep_ms(ms)
    else:
        await asyncio.sleep(ms / 1000)
