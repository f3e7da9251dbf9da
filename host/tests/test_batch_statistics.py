"""Batch statistics (§4.2) against a direct computation."""

from __future__ import annotations

import statistics
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from meterbench.regulations import MeterPointValue, batch_statistics

D = Decimal


def value(meter: str, error: str | None, point: str = "P+/all/Ib/1.0", type_id: str = "t1", **kw):
    return MeterPointValue(
        meter_id=meter,
        type_id=type_id,
        point_id=point,
        mean_error=None if error is None else D(error),
        **kw,
    )


def test_per_point_statistics_hand_computed():
    values = [
        value("m1", "0.10", position=1, rounded=D("0.2"), verdict="pass"),
        value("m2", "-0.30", position=2, rounded=D("-0.2"), verdict="pass"),
        value("m3", "2.60", position=3, rounded=D("2.6"), verdict="fail"),  # failed, included
        value("m4", None, position=4),  # no result, excluded
        value("m5", "-0.40", position=5, verdict="pass"),
    ]
    (stats,) = batch_statistics(values, {"t1": "0.2"})
    assert stats.n == 4
    assert stats.mean == D("0.5")  # (0.1 − 0.3 + 2.6 − 0.4)/4
    assert stats.mean_rounded == D("0.4")  # 2.5 intervals -> 2 (even)
    assert stats.min == D("-0.4") and stats.max == D("2.6")
    expected_std = statistics.stdev([0.10, -0.30, 2.60, -0.40])
    assert stats.std is not None and abs(float(stats.std) - expected_std) < 1e-12
    assert stats.verdict == "fail"
    assert [m.meter_id for m in stats.meters] == ["m1", "m2", "m3", "m5"]
    assert [m.meter_id for m in stats.no_result] == ["m4"]
    assert stats.meters[2].verdict == "fail"  # individual verdicts are listed unchanged


def test_groups_by_type_and_point_in_first_seen_order():
    values = [
        value("a", "0.1", point="p1"),
        value("b", "-0.2", point="p2"),
        value("c", "-0.3", point="p1"),
        value("d", "0.5", point="p1", type_id="t2"),
    ]
    out = batch_statistics(values)
    assert [(s.type_id, s.point_id, s.n) for s in out] == [
        ("t1", "p1", 2),
        ("t1", "p2", 1),
        ("t2", "p1", 1),
    ]
    assert out[0].verdict == "pass" and out[0].mean == D("-0.1")
    assert out[1].std is None  # n < 2
    assert out[2].verdict == "fail" and out[2].mean_rounded is None


def test_zero_mean_passes_exactly():
    # 0.1 + 0.2 − 0.3 is 5.6e-17 in binary floats; in Decimal it is 0 and passes.
    (stats,) = batch_statistics([value("a", "0.1"), value("b", "0.2"), value("c", "-0.3")])
    assert stats.mean == 0 and stats.verdict == "pass"


def test_no_result_at_all():
    (stats,) = batch_statistics([value("a", None), value("b", None)])
    assert stats.n == 0 and stats.verdict == "no_result" and stats.mean is None
    assert len(stats.no_result) == 2 and stats.meters == ()


def test_non_terminating_mean_keeps_the_exact_verdict():
    (stats,) = batch_statistics([value("a", "0.1"), value("b", "0.1"), value("c", "-0.2000000001")])
    assert stats.mean is not None and stats.mean < 0 and stats.verdict == "pass"
    assert abs(stats.mean - D("-0.0000000000333333333333333")) < D("1e-25")


@given(
    st.lists(
        st.one_of(st.none(), st.integers(min_value=-3000, max_value=3000)),
        min_size=1,
        max_size=40,
    )
)
def test_matches_a_direct_computation(raw):
    values = [
        value(f"m{i}", None if r is None else str(Decimal(r) / 1000)) for i, r in enumerate(raw)
    ]
    (stats,) = batch_statistics(values)
    errors = [Fraction(r, 1000) for r in raw if r is not None]
    assert stats.n == len(errors)
    assert len(stats.no_result) == raw.count(None)
    if not errors:
        assert stats.verdict == "no_result"
        return
    exact_mean = sum(errors) / len(errors)
    assert stats.mean is not None and stats.min is not None and stats.max is not None
    assert abs(Fraction(stats.mean) - exact_mean) < Fraction(1, 10**25)
    assert stats.verdict == ("pass" if exact_mean <= 0 else "fail")
    assert Fraction(stats.min) == min(errors) and Fraction(stats.max) == max(errors)
    if len(errors) >= 2:
        variance = sum((e - exact_mean) ** 2 for e in errors) / (len(errors) - 1)
        assert stats.std is not None and abs(float(stats.std) ** 2 - float(variance)) < 1e-12
    else:
        assert stats.std is None
