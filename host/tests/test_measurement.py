"""The one object every item concludes through: value, limits, unit, outcome and margin."""

from __future__ import annotations

from decimal import Decimal as D

from meterbench.results import LimitKind, Outcome
from meterbench.runner.items.measurement import Measurement


def test_a_value_is_judged_on_its_rounded_form_within_its_limits() -> None:
    inside = Measurement.within(D("2.04"), rounded=D("2.0"), lower=D(-2), upper=D(2), unit="%")
    assert inside.passed and inside.outcome is Outcome.PASS and inside.marginal
    outside = Measurement.within(
        D("2.14"), rounded=D("2.2"), lower=D(-2), upper=D(2), unit="%", reason="too fast"
    )
    assert outside.outcome is Outcome.FAIL and outside.reason == "too fast"
    assert not outside.marginal


def test_a_pass_keeps_no_failure_reason_and_one_sided_limits_work() -> None:
    passed = Measurement.within(D(3), upper=D(10), lower=None, unit="s", reason="late")
    assert passed.passed and passed.reason is None and passed.rounded == D(3)


def test_the_acceptance_limit_is_the_same_value_judged_apart() -> None:
    mpe = Measurement(D("0.9"), True, D("0.8"), D(-1), D(1), "%", details={"x": 1})
    acceptance = mpe.against(LimitKind.ACCEPTANCE, D("-0.5"), D("0.5"), False)
    assert acceptance.limit_kind is LimitKind.ACCEPTANCE and acceptance.outcome is Outcome.FAIL
    assert (acceptance.value, acceptance.rounded, acceptance.details) == (
        D("0.9"),
        D("0.8"),
        {"x": 1},
    )
    assert mpe.limit_kind is LimitKind.MPE and mpe.passed
