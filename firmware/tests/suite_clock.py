from bench.clock import ManualClock, Uptime, unwrap


def test_manual_clock_diff_across_wrap():
    c = ManualClock(period=1 << 10, start_us=1000)
    a = c.ticks_us()
    c.advance_us(100)
    b = c.ticks_us()
    assert b < a  # wrapped
    assert c.diff(b, a) == 100
    assert c.diff(a, b) == -100
    assert c.add(a, 100) == b


def test_uptime_sums_across_many_wraps():
    c = ManualClock(period=1 << 12)  # ms ticks wrap every 4096 ms
    up = Uptime(c)
    for _ in range(100):
        c.advance_us(1500 * 1000)  # 1.5 s steps, well under half a period
        up.now()
    assert up.ms == 150000


def test_unwrap():
    m = 1 << 32
    assert unwrap(5, m, 0) == 5
    assert unwrap(5, m, m + 7) == m + 5
    assert unwrap(m - 3, m, 2 * m - 10) == 2 * m - 3
    assert unwrap(100, m, -50) == 100
