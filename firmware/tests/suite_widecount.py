from bench.clock import ManualClock
from bench.widecount import WideCount


class _Pcnt:
    """A 16-bit pulse counter that wraps to 0 at ``limit``, like PCNT with max=limit."""

    def __init__(self, limit=32000):
        self.limit = limit
        self.raw = 0
        self.true = 0

    def count(self, n):
        self.true += n
        self.raw = (self.raw + n) % self.limit

    def value(self):
        return self.raw


def _setup(max_hz=200000):
    clock = ManualClock()
    pcnt = _Pcnt()
    return clock, pcnt, WideCount(pcnt.value, pcnt.limit, clock, max_hz)


def test_counts_beyond_many_wraps_are_exact():
    clock, pcnt, wide = _setup()
    for _ in range(2000):  # 10 s at 190 kHz, a pass every 5 ms: 59 wraps
        clock.advance_us(5000)
        pcnt.count(950)
        wide.update()
    assert wide.value() == pcnt.true == 1900000 and wide.suspect == 0


def test_irq_snapshot_between_passes():
    clock, pcnt, wide = _setup()
    clock.advance_us(5000)
    pcnt.count(900)
    wide.update()
    pcnt.count(31500)  # not yet folded in: still within one wrap
    assert wide.value() == pcnt.true


def test_a_vm_stall_that_may_hide_a_wrap_is_flagged_not_lost():
    # 10 MHz time base (far above the limit) and a 4.6 ms stall: 46 000 counts, more than a
    # wrap. The modular difference alone would report 14 000: the pass is suspect instead.
    clock, pcnt, wide = _setup()
    clock.advance_us(4600)
    pcnt.count(46000)
    wide.update()
    assert wide.suspect == 1


def test_a_stall_longer_than_the_limit_allows_is_flagged_even_at_a_legal_rate():
    clock, pcnt, wide = _setup(max_hz=100000)
    assert wide.max_gap_us == 240000  # 32 000 counts at 100 kHz, with a quarter of margin
    clock.advance_us(5000)
    pcnt.count(400)
    wide.update()
    assert wide.suspect == 0
    clock.advance_us(400000)  # a 400 ms stall at 80 kHz: 32 000 counts, one whole wrap
    pcnt.count(32000)
    wide.update()
    assert wide.suspect == 1


def test_stall_within_the_budget_is_exact():
    clock, pcnt, wide = _setup(max_hz=100000)
    clock.advance_us(200000)  # 200 ms stall at 100 kHz: 20 000 counts, no wrap possible
    pcnt.count(20000)
    assert wide.update() == 20000 and wide.suspect == 0
