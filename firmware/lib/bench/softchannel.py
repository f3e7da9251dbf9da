"""Software-gated channel: gate boundaries made from edge stamps. MicroPython-safe.

Used by boards without hardware gating (esp32) and by the sim HAL. The gate input's IRQ stores
(ticks_us, counter value) per edge (bench.edges); poll() turns them into boundary snapshots.
Precision is set by the IRQ latency between the edge and the counter read (zero in the sim),
which is why such boards do not advertise CAP_HW_GATE.
"""

from bench.gate import SoftGate


class SoftChannel:
    """``counter``: the WideCount behind the snapshots, if any; its suspect passes (a stall
    that may have hidden a counter wrap) count as overruns, so the reading is flagged.
    ``count_mod`` None: the snapshots never wrap. ``min_pulse_us``: edges closer than that
    to the last accepted one are contact bounce (stamps are ticks_us, so µs are ticks)."""

    def __init__(self, capture, clock, count_mod, counter=None):
        self.capture = capture
        self.clock = clock
        self.count_mod = count_mod
        self.tick_mod = clock.period
        self.counter = counter
        self.overruns = 0
        self._gate = None
        self._ring_overruns = capture.ring.overruns
        self._suspect = counter.suspect if counter is not None else 0

    def start(self, skip, pulses, min_pulse_us=0):
        self.capture.ring.clear()
        self._ring_overruns = self.capture.ring.overruns
        if self.counter is not None:
            self._suspect = self.counter.suspect
        self._gate = SoftGate(pulses, skip, min_pulse_us, self.clock.diff)
        self.capture.enabled = True

    def poll(self, coarse_ms):
        """Boundary snapshots ``(count, ticks, coarse_ms)`` since the last poll."""
        out = []
        gate = self._gate
        if gate is None:
            return out
        ring = self.capture.ring
        if ring.overruns != self._ring_overruns:
            self.overruns += ring.overruns - self._ring_overruns
            self._ring_overruns = ring.overruns
        counter = self.counter
        if counter is not None and counter.suspect != self._suspect:
            self.overruns += counter.suspect - self._suspect
            self._suspect = counter.suspect
        mod = self.count_mod
        while True:
            edge = ring.pop()
            if edge is None:
                break
            b = gate.feed(edge[0], edge[1])
            if b is not None:
                out.append((b[0] if mod is None else b[0] % mod, b[1], coarse_ms))
        return out

    def stop(self):
        self.capture.enabled = False
        self._gate = None
