"""A small wrapping hardware counter extended to an unbounded count. MicroPython-safe.

Why: the ESP32's pulse counter (PCNT) is 16 bits wide. At 10 MHz it wraps every 3.2 ms, and
its overflow interrupt is delivered as a scheduled callback whose event flags are ORed: one
VM stall of that length (garbage collection, a flash write, the firmware's own RS-485 waits)
merges two wraps into one and silently loses 32 000 counts. No software can undo that, so the
limit is made explicit and enforced instead: counted inputs may run at most ``max_hz``; the
service loop folds the counter's progress into a Python int at every pass, and a pass that
comes later than ``modulus / max_hz`` after the previous one (a stall long enough to hide a
wrap at the limit), or that sees a rate above ``max_hz``, is counted in ``suspect``. The
channels turn that into a flagged reading (RF_OVERRUN), never a reading short by a wrap.
"""

# Counts tolerated above max_hz * elapsed before a pass is called suspect: edge granularity.
RATE_SLACK = 16


class WideCount:
    def __init__(self, read_raw, modulus, clock, max_hz):
        self._read = read_raw
        self.modulus = modulus
        self.max_hz = max_hz
        self._clock = clock
        # Longest safe gap between passes, with a quarter of margin.
        self.max_gap_us = modulus * 750000 // max_hz
        self.suspect = 0
        self.passes = 0
        # (total, raw at total, ticks_us): replaced as one object, so an interrupt handler
        # reading it between two bytecodes of update() sees either the old or the new state.
        self._state = (0, read_raw(), clock.ticks_us())

    def update(self):
        """Fold the counter's progress in; call from the service loop only (one writer)."""
        total, raw0, t0 = self._state
        raw = self._read()
        t = self._clock.ticks_us()
        gap = self._clock.diff(t, t0)
        delta = (raw - raw0) % self.modulus
        if gap >= self.max_gap_us or delta > self.max_hz * gap // 1000000 + RATE_SLACK:
            self.suspect += 1
        self.passes += 1
        total += delta
        self._state = (total, raw, t)
        return total

    def value(self):
        """The extended count now, without updating (safe from an interrupt handler)."""
        total, raw0, _t = self._state
        return total + (self._read() - raw0) % self.modulus
