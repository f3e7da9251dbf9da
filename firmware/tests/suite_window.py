from bench.clock import ManualClock
from bench.edges import EdgeCapture, EdgeRing
from bench.window import PulseWindow

from meterproto.link.messages import WF_STOPPED, WF_TRUNCATED


def _setup(period=1 << 30):
    clock = ManualClock(period=period)
    ring = EdgeRing(16)
    cap = EdgeCapture(ring, clock.ticks_us)
    cap.enabled = True
    return clock, ring, cap


def test_window_stamps_and_ends():
    clock, ring, cap = _setup()
    w = PulseWindow(clock, ring, duration_ms=1000, max_events=2)
    for t in (100000, 300000, 500000):
        clock.set_us(t)
        cap.handler(None)
    clock.set_us(600000)
    ev = w.poll()
    assert ev == [("pulse", 1, 100000), ("pulse", 2, 300000)]
    clock.set_us(1000500)
    ev = w.poll()
    assert ev == [("end", 3, 1000000, WF_TRUNCATED)] and w.done


def test_edges_after_the_window_are_not_counted():
    clock, ring, cap = _setup()
    w = PulseWindow(clock, ring, duration_ms=10, max_events=5)
    clock.set_us(12000)
    cap.handler(None)  # arrived after the 10 ms window, seen at the next poll
    ev = w.poll()
    assert ev == [("end", 0, 10000, 0)]


def test_long_window_across_tick_wraps():
    clock, ring, cap = _setup(period=1 << 20)  # ticks_us wraps every 1.05 s
    w = PulseWindow(clock, ring, duration_ms=0, max_events=100)
    t = 0
    ev = []
    for _ in range(30):
        t += 700000  # 0.7 s between pulses, polled in between
        clock.set_us(t - 350000)
        ev += w.poll()
        clock.set_us(t)
        cap.handler(None)
        ev += w.poll()  # polls 350 ms apart: under half the 1.05 s period
    clock.set_us(t + 1000)
    ev += w.poll(stopped=True)
    pulses = [e for e in ev if e[0] == "pulse"]
    assert pulses[-1] == ("pulse", 30, 21000000)
    assert ev[-1] == ("end", 30, 21001000, WF_STOPPED)


def test_debounce_min_gap():
    clock, ring, cap = _setup()
    w = PulseWindow(clock, ring, duration_ms=0, max_events=10, min_gap_us=20000)
    for t in (1000, 3000, 9000, 50000, 52000):
        clock.set_us(t)
        cap.handler(None)
    ev = w.poll()
    assert [e[2] for e in ev] == [1000, 50000]
