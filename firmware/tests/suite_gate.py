from bench.gate import Series, SoftGate
from mptest import raises

from meterproto.link.messages import RF_INVALID, RF_LAST, RF_OVERRUN


def test_soft_gate_boundaries():
    g = SoftGate(pulses=3, skip=2)
    out = [g.feed(i * 10, i * 100) for i in range(1, 12)]
    got = [b for b in out if b is not None]
    # edges 3, 6, 9 are boundaries: skip 2, then every 3rd
    assert got == [(300, 30), (600, 60), (900, 90)]
    raises(ValueError, SoftGate, 0)


def test_soft_gate_rejects_bounce():
    diff = lambda a, b: a - b  # noqa: E731
    g = SoftGate(pulses=1, skip=0, min_gap=20, diff=diff)
    edges = [100, 105, 110, 200, 201, 300]
    got = [g.feed(t, t) for t in edges]
    assert [b[1] for b in got if b] == [100, 200, 300]
    assert g.rejected == 3


def test_series_readings_wrap_and_flags():
    s = Series(pulses=10, readings=3, count_mod=1 << 32, tick_mod=1 << 30, tick_hz=1000000)
    assert s.add((1 << 32) - 500, (1 << 30) - 1000, 0) is None
    r = s.add(1500, 4000, 5)  # both counters wrapped
    assert r["count"] == 2000 and r["gate_ticks"] == 5000 and r["index"] == 0
    s.mark_overrun()
    r = s.add(3500, 9000, 10)
    assert r["count"] == 2000 and r["flags"] == RF_OVERRUN
    r = s.add(5500, 14000, 15)
    assert r["flags"] == RF_LAST and s.done
    assert s.add(7500, 19000, 20) is None


def test_series_unwraps_long_gates_with_coarse_time():
    # 32-bit tick counter at 62.5 MHz wraps every 68.7 s; a 150 s gate wraps twice.
    hz = 62500000
    s = Series(pulses=1, readings=0, count_mod=1 << 32, tick_mod=1 << 32, tick_hz=hz)
    s.add(0, 0, 1000)
    true_ticks = 150 * hz + 12345
    r = s.add(10, true_ticks % (1 << 32), 1000 + 150000 + 7)  # coarse ms off by 7 ms
    assert r["gate_ticks"] == true_ticks


def test_counts_unwrapped_beyond_2_32():
    # 10 MHz reference counted by a 32-bit counter wraps every 429 s; 600 s gates wrap once.
    hz = 62500000
    rate = (1, 5)  # rp2: at most one count per 5 ticks (f_sys / 10 against f_sys / 2)
    s = Series(1, 0, 1 << 32, 1 << 32, hz, rate)
    s.add(0, 0, 0)
    gate = 600 * hz
    true_count = 600 * 10000000 + 3
    # The first reading: a wrap cannot be excluded (600 s at 12.5 MHz is more than 2**32) and
    # nothing is known of the rate yet, so the reading is not trusted.
    r = s.add(true_count % (1 << 32), gate % (1 << 32), 600000)
    assert r["flags"] & RF_INVALID
    # Later readings unwrap with the previous valid reading's rate... once one exists: a
    # short gate that cannot wrap gives it.
    s2 = Series(1, 0, 1 << 32, 1 << 32, hz, rate)
    s2.add(0, 0, 0)
    r = s2.add(10000000, hz, 1000)  # 1 s: exact, no wrap possible
    assert r["count"] == 10000000 and not r["flags"] & RF_INVALID
    c0, t0 = 10000000, hz
    r = s2.add((c0 + true_count) % (1 << 32), (t0 + gate) % (1 << 32), 601000)
    assert r["count"] == true_count and not r["flags"] & RF_INVALID
    assert r["count"] > 1 << 32


def test_short_gates_need_no_rate():
    s = Series(1, 0, 1 << 32, 1 << 32, 62500000, (1, 5))
    s.add(5, 0, 0)
    r = s.add(5 + 123456, 62500000, 1000)
    assert r["count"] == 123456 and not r["flags"] & RF_INVALID


def test_discontinuity_marks_the_reading_in_flight_invalid():
    s = Series(pulses=2, readings=0, count_mod=1 << 32, tick_mod=1 << 30, tick_hz=1000000)
    s.add(0, 0, 0)
    assert s.add(100, 1000, 1)["index"] == 0
    r = s.discontinuity(5)
    assert r["flags"] & RF_INVALID and r["index"] == 1 and r["count"] == 0
    assert s.discontinuity(6) is None  # nothing open any more
    assert s.add(500, 9000, 9) is None  # a fresh first boundary
    assert s.add(600, 10000, 10)["index"] == 2
