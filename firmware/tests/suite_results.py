from bench.results import ResultBuffer
from bench.watchdog import Supervisor


def test_results_resend_until_acked():
    b = ResultBuffer(capacity=4, resend_ms=100)
    b.add(0xC0, {"x": 1})
    b.add(0xC0, {"x": 2})
    assert [f["result_id"] for _, f in b.due(0)] == [1, 2]
    assert b.due(50) == []
    assert [f["result_id"] for _, f in b.due(100)] == [1, 2]
    assert b.ack(1) == 1
    assert [f["result_id"] for _, f in b.due(250)] == [2]
    b.ack(2)
    assert len(b) == 0 and b.due(1000) == []


def test_results_drop_oldest_when_full():
    b = ResultBuffer(capacity=2)
    for i in range(5):
        b.add(0xC0, {"i": i})
    assert b.dropped == 3 and len(b) == 2
    assert [f["i"] for _, f in b.due(0)] == [3, 4]


def test_due_is_rate_limited():
    b = ResultBuffer(capacity=50)
    for i in range(20):
        b.add(0xC0, {"i": i})
    assert len(b.due(0, limit=8)) == 8
    assert len(b.due(0, limit=8)) == 8
    assert len(b.due(0, limit=8)) == 4


class _Wdt:
    fed = 0

    def feed(self):
        self.fed += 1


def test_watchdog_fed_only_while_tasks_beat():
    wdt = _Wdt()
    sup = Supervisor(wdt, stale_ms=100)
    sup.register("service", 0)
    assert sup.check(50) and wdt.fed == 1
    sup.beat("service", 120)
    assert sup.check(200) and wdt.fed == 2
    assert not sup.check(260)  # no beat for 140 ms: the board will reset
    assert wdt.fed == 2 and sup.starved == 1
