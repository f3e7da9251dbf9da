"""Pulse window: count an input's pulses over a time window, stamping the first ones.

MicroPython-safe. For creep and starting tests: the host wants to know whether and when pulses
arrive. Offsets are measured from the window start by summing tick differences (each poll adds
the step since the previous one), so windows may last far longer than half a ticks period.
"""

from meterproto.link.messages import WF_OVERRUN, WF_STOPPED, WF_TRUNCATED


class PulseWindow:
    def __init__(self, clock, ring, duration_ms, max_events, min_gap_us=0):
        self._clock = clock
        self._ring = ring
        self.duration_us = duration_ms * 1000
        self.max_events = max_events
        self.min_gap_us = min_gap_us
        self.count = 0
        self.done = False
        self._flags = 0
        self._ref = clock.ticks_us()
        self._elapsed = 0
        self._last_pulse = None
        self._overruns = ring.overruns
        ring.clear()

    def _offset(self, stamp):
        return self._elapsed + self._clock.diff(stamp, self._ref)

    def poll(self, stopped=False):
        """Drain edges; returns events ``("pulse", n, t_us)`` and finally ``("end", ...)``."""
        out = []
        if self.done:
            return out
        now = self._clock.ticks_us()
        while True:
            edge = self._ring.pop()
            if edge is None:
                break
            t = self._offset(edge[0])
            if self.duration_us and t > self.duration_us:
                continue  # after the window closed: not ours
            if self._last_pulse is not None and t - self._last_pulse < self.min_gap_us:
                continue  # contact bounce
            self._last_pulse = t
            self.count += 1
            if self.count <= self.max_events:
                out.append(("pulse", self.count, t))
            else:
                self._flags |= WF_TRUNCATED
        if self._ring.overruns != self._overruns:
            self._overruns = self._ring.overruns
            self._flags |= WF_OVERRUN
        self._elapsed += self._clock.diff(now, self._ref)
        self._ref = now
        expired = self.duration_us and self._elapsed >= self.duration_us
        if expired or stopped:
            duration = self.duration_us if expired else self._elapsed
            flags = self._flags | (0 if expired else WF_STOPPED)
            out.append(("end", self.count, duration, flags))
            self.done = True
        return out
