"""Edge capture from interrupt handlers into a preallocated ring. MicroPython-safe.

The handler path (EdgeCapture.handler -> EdgeRing.push) allocates nothing: it stores small
ints into preallocated arrays and bumps an index, through bound methods cached at set-up. A
full ring drops the edge and counts an overrun instead of blocking. The main loop drains the
ring; there is exactly one writer (the handler) and one reader (the main loop).
"""

from array import array


class EdgeRing:
    """Single-producer single-consumer ring of (stamp, aux) pairs; size is a power of two."""

    def __init__(self, size=64):
        if size & (size - 1):
            raise ValueError("ring size must be a power of two")
        self._stamp = array("q", [0] * size)
        self._aux = array("q", [0] * size)
        self._mask = size - 1
        self._head = 0
        self._tail = 0
        self.overruns = 0

    def push(self, stamp, aux):
        """Interrupt context: no allocation, never blocks."""
        h = self._head
        nxt = (h + 1) & self._mask
        if nxt == self._tail:
            self.overruns += 1
            return
        self._stamp[h] = stamp
        self._aux[h] = aux
        self._head = nxt

    def __len__(self):
        return (self._head - self._tail) & self._mask

    def pop(self):
        """Main loop: the oldest (stamp, aux), or None when empty."""
        t = self._tail
        if t == self._head:
            return None
        item = (self._stamp[t], self._aux[t])
        self._tail = (t + 1) & self._mask
        return item

    def clear(self):
        self._tail = self._head


def _no_count():
    return 0


class EdgeCapture:
    """Binds one input's interrupt to a ring: stamp = ticks_us(), aux = counter() at the edge.

    ``counter`` is the free-running reference (or time-base) counter that software gating
    snapshots at every gate edge; inputs without one store 0. Pass ``handler`` to Pin.irq.
    """

    def __init__(self, ring, ticks_us, counter=None):
        self.ring = ring
        self.enabled = False
        self._ticks = ticks_us
        self._count = counter if counter is not None else _no_count
        self._push = ring.push
        self.handler = self._irq  # bound once: creating it inside an IRQ would allocate

    def _irq(self, _pin):
        if self.enabled:
            self._push(self._ticks(), self._count())
