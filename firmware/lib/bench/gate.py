"""Gated counting: boundary snapshots -> back-to-back readings. MicroPython-safe.

A gated measurement (meter error, clock period) splits time at every N-th edge of a gate input
(meter pulses, second pulses) and reports, per reading, how many edges of a counted input
(reference pulses, time base) arrived and how long the gate lasted in timer ticks. Readings are
back to back: the edge that closes reading k opens reading k+1, so no counts fall in a gap and
the sum over readings telescopes to the total between the first and last boundary.

Both hardware paths produce the same *boundary snapshots* ``(count, ticks, coarse_ms)``: the
free-running counted-input value and tick counter at a boundary, plus the uptime in ms when the
snapshot was taken (only used to unwrap counters that wrap within a gate). On rp2 the PIO makes
the boundaries in hardware; elsewhere SoftGate makes them from edge stamps in software.
"""

from bench.clock import unwrap
from meterproto.link.messages import RF_INVALID, RF_LAST, RF_OVERRUN


def _plain_diff(a, b):
    return a - b


class SoftGate:
    """Boundaries from gate-input edge events: the (skip+1)-th edge, then every N-th edge.

    ``min_gap`` (in ticks) rejects an edge closer than that to the last accepted edge: a
    contact-bounce filter for reed switches, applied to stamps so the ISR stays minimal.
    """

    def __init__(self, pulses, skip=0, min_gap=0, diff=_plain_diff):
        if pulses < 1:
            raise ValueError("pulses must be >= 1")
        self.pulses = pulses
        self.min_gap = min_gap
        self._diff = diff
        self._countdown = skip + 1
        self._last = None
        self.edges = 0
        self.rejected = 0

    def feed(self, stamp, count):
        """One edge; returns a boundary (count, stamp) or None."""
        if self.min_gap and self._last is not None and self._diff(stamp, self._last) < self.min_gap:
            self.rejected += 1
            return None
        self._last = stamp
        self.edges += 1
        self._countdown -= 1
        if self._countdown:
            return None
        self._countdown = self.pulses
        return (count, stamp)


class Series:
    """Readings from consecutive boundary snapshots.

    ``count_mod`` / ``tick_mod``: where the counters wrap (2**32 for PIO counters, the ticks
    period for ticks_us stamps; count_mod None: the count never wraps). ``tick_hz`` converts the
    coarse ms uptime to ticks for unwrapping. ``readings`` = 0 means continuous until stopped.

    Counts are unwrapped beyond count_mod (a 32-bit counter at 10 MHz wraps every 429 s): a
    reading cannot have wrapped when the gate is shorter than count_mod at the counter's
    maximum rate ``max_count_per_tick`` = (num, den); otherwise the previous reading's rate
    gives the estimate to unwrap with. Without either the count is ambiguous and the reading
    is flagged RF_INVALID instead of reported short.
    """

    def __init__(self, pulses, readings, count_mod, tick_mod, tick_hz, max_count_per_tick=None):
        self.pulses = pulses
        self.readings = readings
        self.count_mod = count_mod
        self.tick_mod = tick_mod
        self.tick_hz = tick_hz
        self.max_count_per_tick = max_count_per_tick
        self.index = 0
        self._prev = None
        self._rate = None  # (count, gate_ticks) of the last valid reading
        self._overrun = False

    @property
    def done(self):
        return self.readings and self.index >= self.readings

    def mark_overrun(self):
        """Edges were lost somewhere in the current reading."""
        self._overrun = True

    def add(self, count, ticks, coarse_ms):
        """Feed one boundary; returns a reading dict (or None for the first boundary)."""
        prev = self._prev
        self._prev = (count, ticks, coarse_ms)
        if prev is None or self.done:
            self._overrun = False
            return None
        coarse_ticks = (coarse_ms - prev[2]) * self.tick_hz // 1000
        gate_ticks = unwrap((ticks - prev[1]) % self.tick_mod, self.tick_mod, coarse_ticks)
        flags = 0
        if self._overrun:
            flags |= RF_OVERRUN
            self._overrun = False
        count, ok = self._unwrap_count(count - prev[0], gate_ticks)
        if ok:
            self._rate = (count, gate_ticks)
        else:
            flags |= RF_INVALID
        return self._reading(count, gate_ticks, coarse_ms, flags)

    def _unwrap_count(self, diff, gate_ticks):
        mod = self.count_mod
        if mod is None:
            return diff, True
        diff %= mod
        limit = self.max_count_per_tick
        if limit is not None and gate_ticks * limit[0] // limit[1] < mod:
            return diff, True
        rate = self._rate
        if rate is not None and rate[1]:
            return unwrap(diff, mod, gate_ticks * rate[0] // rate[1]), True
        return diff, limit is None  # no bound known: as before, trust the modular count

    def _reading(self, count, gate_ticks, coarse_ms, flags):
        if self.readings and self.index == self.readings - 1:
            flags |= RF_LAST
        reading = {
            "index": self.index,
            "count": count,
            "gate_ticks": gate_ticks,
            "t_ms": coarse_ms,
            "flags": flags,
        }
        self.index += 1
        return reading

    def discontinuity(self, coarse_ms):
        """The channel lost step and restarted: the reading in flight (if one was open) is
        reported RF_INVALID with no count, and the next boundary opens a fresh reading."""
        prev = self._prev
        self._prev = None
        self._overrun = False
        if prev is None or self.done:
            return None
        return self._reading(0, 0, coarse_ms, RF_INVALID)
