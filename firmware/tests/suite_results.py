from bench.results import ResultBuffer
from bench.watchdog import Supervisor

from meterproto import link

B = 1 << 32  # result id of boot 1, n = 0


def test_results_resend_until_acked():
    b = ResultBuffer(capacity=4, resend_ms=100, boot_id=1)
    b.add(0xC0, {"x": 1})
    b.add(0xC0, {"x": 2})
    assert [f["result_id"] for _, f in b.due(0)] == [B + 1, B + 2]
    assert b.due(50) == []
    assert [f["result_id"] for _, f in b.due(100)] == [B + 1, B + 2]
    assert b.ack([B + 1]) == 1
    assert [f["result_id"] for _, f in b.due(250)] == [B + 2]
    b.ack([B + 2])
    assert len(b) == 0 and b.due(1000) == []


def test_ack_by_id_in_any_order_and_other_boots_ignored():
    b = ResultBuffer(capacity=8, boot_id=5)
    ids = [b.add(0xC0, {"i": i}) for i in range(4)]
    assert [link.result_boot(i) for i in ids] == [5, 5, 5, 5]
    assert b.ack([ids[3], ids[1]]) == 2
    assert b.ack([link.result_id(4, 1), link.result_id(6, 1)]) == 0  # another boot's ids
    assert b.ack([ids[3]]) == 0  # acknowledged twice: nothing more to release
    assert [f["i"] for _, f in b.due(0)] == [0, 2]


def test_ids_unique_across_boots():
    first = ResultBuffer(boot_id=1)
    second = ResultBuffer(boot_id=2)
    a = [first.add(0xC0, {}) for _ in range(3)]
    b = [second.add(0xC0, {}) for _ in range(3)]
    assert not set(a) & set(b)


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
