import sys

from bench.clock import ManualClock
from bench.edges import EdgeCapture, EdgeRing
from mptest import Skip, raises


def test_ring_order_and_overrun():
    r = EdgeRing(8)
    for i in range(10):
        r.push(i, i * 10)
    assert len(r) == 7 and r.overruns == 3
    assert r.pop() == (0, 0)
    got = []
    while True:
        e = r.pop()
        if e is None:
            break
        got.append(e[0])
    assert got == [1, 2, 3, 4, 5, 6]
    raises(ValueError, EdgeRing, 6)


def test_capture_disabled_ignores_edges():
    c = ManualClock()
    r = EdgeRing(8)
    cap = EdgeCapture(r, c.ticks_us, lambda: 42)
    cap.handler(None)
    assert len(r) == 0
    cap.enabled = True
    c.advance_us(17)
    cap.handler(None)
    assert r.pop() == (17, 42)


class _Counter:
    def __init__(self):
        self.n = 123456

    def value(self):
        return self.n


def _edges_under_heap_lock(micropython, handler, n):
    micropython.heap_lock()
    try:
        for _ in range(n):
            handler(None)
    finally:
        micropython.heap_unlock()


def test_irq_path_allocates_nothing():
    if sys.implementation.name != "micropython":
        raise Skip("heap_lock exists only on MicroPython")
    import time

    import micropython

    counter = _Counter()
    ring = EdgeRing(16)
    cap = EdgeCapture(ring, time.ticks_us, counter.value)
    cap.enabled = True
    handler = cap.handler
    _edges_under_heap_lock(micropython, handler, 10)
    assert len(ring) == 10
    _edges_under_heap_lock(micropython, handler, 10)  # ring full: the overrun path too
    assert ring.overruns == 5
    assert ring.pop()[1] == 123456
    # The rp2 window path: no counter, the clock's ticks_us.
    from bench.clock import SystemClock

    plain = EdgeCapture(EdgeRing(16), SystemClock().ticks_us)
    plain.enabled = True
    _edges_under_heap_lock(micropython, plain.handler, 10)
    assert len(plain.ring) == 10


def test_heap_lock_really_catches_allocation():
    if sys.implementation.name != "micropython":
        raise Skip("heap_lock exists only on MicroPython")
    import micropython

    def allocating(_pin):
        return [1, 2, 3]

    raises(MemoryError, _edges_under_heap_lock, micropython, allocating, 1)
