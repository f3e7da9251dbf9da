"""Error and period measurement end to end through the sim HAL, controller and link server:
synthetic edge trains of a meter with a known error must give that error back within the
counting resolution, for back-to-back readings with no gap."""

from fakes import ack, make_server, replies, request
from trains import drive_meter

from meterproto import link

# 2 kW on a 1200 imp/kWh meter and a 1.2e6 imp/kWh reference: the reference pulses every
# 1.5 ms; a perfect meter every 1.5 s. N = 10 meter pulses -> m0 = 10 000 reference counts.
REF_PERIOD_NS = 1500000
METER_PERIOD_NS = 1500000000
N = 10
M0 = 10000


def _readings(
    server, hal, kind_type, position, meter_period_ns, edges, ref_period_ns=REF_PERIOD_NS, **kw
):
    results = []

    def on_edge(_j):
        server.service(hal.clock.ticks_ms())
        for r in replies(server):
            if r.msg_type == kind_type:
                results.append(r)
                ack(server, [r["result_id"]])

    drive_meter(hal, position, meter_period_ns, ref_period_ns, edges, on_edge=on_edge, **kw)
    return results


def _error_ppm(count):
    # e = (m0 - m) / m, in ppm with integer rounding
    return ((M0 - count) * 1000000 * 2 + count) // (2 * count)


def _check_meter(error_ppm, position=0, readings=5, skip=1, phase_ns=333333):
    server, hal = make_server()
    (r,) = request(
        server, link.ERR_START, 2, position=position, pulses=N, readings=readings, skip=skip
    )
    assert r.msg_type == link.ACK
    period = METER_PERIOD_NS * 1000000 // (1000000 + error_ppm)
    edges = skip + 1 + N * readings + 3
    got = _readings(
        server, hal, link.ERR_READING, position, period, edges, phase_ns=phase_ns, ref_phase_ns=777
    )
    assert [g["index"] for g in got] == list(range(readings))
    assert got[-1]["flags"] & link.RF_LAST
    resolution_ppm = 1000000 // M0 + 1  # +-1 count
    total = 0
    for g in got:
        assert g["pulses"] == N and g["position"] == position
        assert abs(_error_ppm(g["ref_count"]) - error_ppm) <= resolution_ppm, g
        # gate length agrees with N meter periods (+-1 us stamps)
        assert abs(g["gate_ticks"] - N * period // 1000) <= 1
        total += g["ref_count"]
    # no gap: the readings add up to every reference pulse between the first and last boundary
    span_ns = readings * N * period
    assert abs(total - span_ns // REF_PERIOD_NS) <= 1
    return got


def test_meter_plus_0_37_percent():
    _check_meter(3700)


def test_meter_minus_1_20_percent():
    _check_meter(-12000, position=1)


def test_continuous_readings_across_tick_wrap():
    # 40 readings x 15 s = 600 s, past the 2**30 us wrap of the sim clock at ~1074 s? Start late.
    server, hal = make_server()
    hal.set_time((1 << 30) - 20000000)  # 20 s before ticks_us wraps
    start_ns = ((1 << 30) - 20000000) * 1000
    request(server, link.ERR_START, 2, position=0, pulses=N, readings=0, skip=0)
    got = _readings(server, hal, link.ERR_READING, 0, METER_PERIOD_NS, N * 4 + 1, start_ns=start_ns)
    assert len(got) == 4
    for g in got:
        assert abs(g["ref_count"] - M0) <= 1
        assert g["gate_ticks"] == N * METER_PERIOD_NS // 1000


def test_reading_never_starts_before_start_request():
    server, hal = make_server()
    # edges before ERR_START must not open a gate
    drive_meter(hal, 0, METER_PERIOD_NS, REF_PERIOD_NS, 7)
    request(server, link.ERR_START, 2, position=0, pulses=2, readings=1, skip=0)
    t0 = 7 * METER_PERIOD_NS
    got = _readings(server, hal, link.ERR_READING, 0, METER_PERIOD_NS, 3, start_ns=t0)
    assert len(got) == 1 and abs(got[0]["ref_count"] - 2000) <= 1


def test_period_measurement_daily_error():
    # A clock 0.5 s/day fast: second pulses every 1/(1 + 0.5/86400) s; time base 10 MHz.
    server, hal = make_server()
    request(server, link.PERIOD_START, 2, position=0, cycles=10, readings=2, skip=0)
    period_ns = 1000000000 * 86400 * 1000 // (86400 * 1000 + 500)
    got = _readings(
        server,
        hal,
        link.PERIOD_READING,
        0,
        period_ns,
        21,
        ref_period_ns=100,
        counter="timebase",
        edge="second",
    )
    assert len(got) == 2
    for g in got:
        count = g["timebase_count"]  # 10 s of a 10 MHz base, minus the clock's gain
        daily_ms = (10 * 10000000 - count) * 86400 * 1000 // count
        assert abs(daily_ms - 500) <= 1, count


def test_stop_ends_series_and_frees_the_input():
    server, hal = make_server()
    request(server, link.ERR_START, 2, position=0, pulses=2, readings=0, skip=0)
    (r,) = request(server, link.STOP, 3, position=0, functions=link.FN_ERROR)
    assert r.msg_type == link.ACK
    (r,) = request(server, link.WINDOW_START, 4, position=0, input=0, duration_ms=0, max_events=3)
    assert r.msg_type == link.ACK


def test_window_events_buffered_until_acked():
    server, hal = make_server()
    request(server, link.WINDOW_START, 2, position=1, input=0, duration_ms=5000, max_events=2)
    for t in (1000000, 2000000, 3000000):
        hal.edge("meter", 1, t)
    hal.set_time(6000000)
    server.service(6000)
    msgs = replies(server)
    pulses = [r for r in msgs if r.msg_type == link.WINDOW_PULSE]
    (end,) = [r for r in msgs if r.msg_type == link.WINDOW_END]
    assert [p["t_us"] for p in pulses] == [1000000, 2000000]
    assert end["count"] == 3 and end["flags"] == link.WF_TRUNCATED
    # nothing acknowledged: all three are sent again after resend_ms
    server.service(6600)
    again = [r["result_id"] for r in replies(server)]
    assert again == [p["result_id"] for p in pulses] + [end["result_id"]]
    ack(server, [end["result_id"]] + [p["result_id"] for p in pulses], seq=5)
    server.service(7200)
    assert replies(server) == []
