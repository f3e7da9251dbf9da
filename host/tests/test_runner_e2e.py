"""End to end on the simulated bench: meters with known injected errors and defects get
exactly the rounded values and verdicts the regulation gives them, each defective meter fails
its own item and only that one, and the batch statistics equal a direct computation."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from meterbench.regulations.readings import Limits, judge_point
from meterbench.results import Outcome, ReadingStatus, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH = BENCHES / "runner-1p-8.toml"
PLAN = BENCHES / "plan-short.toml"
METERS = BENCHES / "meters-8.csv"

BASIC = ("basic_error/P+/all/Ib/1.0", "basic_error/P+/all/Imax/0.5L")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResultsStore, Any]:
    db = tmp_path_factory.mktemp("runner") / "results.db"
    run_id = virtual_loop.run(run_batch(RunOptions(BENCH, PLAN, METERS, db=db)))
    store = ResultsStore.open(db)
    return store, store.load_run(run_id)


def _mpe(record: Any) -> dict[tuple[int, str], Any]:
    return {(c.position, c.step_key): c for c in record.conclusions if c.limit_kind.value == "mpe"}


def test_run_completes_with_a_conclusion_for_every_position_and_step(finished: Any) -> None:
    store, record = finished
    assert record.status == RunStatus.COMPLETED
    conclusions = _mpe(record)
    steps = {s.step_key for s in record.steps}
    assert steps == {
        "communication",
        "creep",
        "starting",
        *BASIC,
        "register",
        "clock",
        "time_setting",
    }
    assert len(conclusions) == 8 * len(steps)
    assert store.verify_chain(record.run.run_id).ok
    assert store.integrity_check() == ["ok"]


@pytest.mark.parametrize(
    ("position", "rounded", "outcome"),
    [
        (1, Decimal("0.4"), Outcome.PASS),
        (2, Decimal("-1.2"), Outcome.PASS),
        (3, Decimal("2.2"), Outcome.FAIL),
        (4, Decimal("0.0"), Outcome.PASS),
    ],
)
def test_known_errors_give_exact_rounded_values(
    finished: Any, position: int, rounded: Decimal, outcome: Outcome
) -> None:
    _, record = finished
    for step in BASIC:
        conclusion = _mpe(record)[(position, step)]
        assert conclusion.rounded == rounded, (position, step)
        assert conclusion.outcome == outcome
        assert (conclusion.lower, conclusion.upper) == (Decimal("-2"), Decimal("2"))


def test_readings_recompute_to_the_stored_conclusion(finished: Any) -> None:
    """Every conclusion follows from its stored readings by the regulation's functions."""
    _, record = finished
    for (position, step), conclusion in _mpe(record).items():
        if step not in BASIC:
            continue
        readings = [
            r
            for r in record.readings
            if r.position == position and r.step_key == step and r.status == ReadingStatus.OK
        ]
        judged = judge_point(
            [Fraction(r.value) for r in readings], Limits(Decimal(2)), Decimal("0.2")
        )
        assert judged.rounded == conclusion.rounded
        # the +2.25 % meter is borderline (0.8..1.2 x MPE): two extra readings were taken
        assert len(readings) == (4 if position == 3 else 2)


def test_each_defective_meter_fails_its_item_and_only_that(finished: Any) -> None:
    _, record = finished
    conclusions = _mpe(record)
    expected_failures = {
        3: {*BASIC},
        4: {"creep"},
        5: {"starting"},
        6: {"clock"},
        7: {"register"},
        8: {"communication"},
    }
    for position in range(1, 9):
        failed = {
            step
            for (p, step), c in conclusions.items()
            if p == position and c.outcome == Outcome.FAIL
        }
        if position == 3:
            # A +2.25 % meter's register is as fast as its pulses; with 0.01 kWh register
            # digits over about 2.6 kWh its register error rounds either side of 2 %.
            failed.discard("register")
        assert failed == expected_failures.get(position, set()), position
    # the silent meter's register and time setting cannot be done: no result, with a reason
    for step in ("register", "time_setting"):
        conclusion = conclusions[(8, step)]
        assert conclusion.outcome in (Outcome.ERROR, Outcome.NO_RESULT)
        assert "no reply" in (conclusion.reason or "")
    assert "ahead" in (conclusions[(7, "register")].reason or "")
    assert conclusions[(6, "clock")].rounded == Decimal("1.30")
    assert conclusions[(4, "creep")].mean is not None and conclusions[(4, "creep")].mean > 1


def test_error_log_explains_the_silent_meter(finished: Any) -> None:
    _, record = finished
    silent = [e for e in record.events if e.position == 8]
    assert silent and all("no reply" in e.message for e in silent)
    assert any(e.trace for e in silent), "the raw frames of the failed exchange are attached"


def test_batch_statistics_match_a_direct_computation(finished: Any) -> None:
    _, record = finished
    conclusions = _mpe(record)
    stats = {b.step_key: b for b in record.batch_statistics}
    assert set(stats) == set(BASIC)
    for step in BASIC:
        means = [conclusions[(p, step)].mean for p in range(1, 9)]
        n = len(means)
        mean = sum(means, Decimal(0)) / n
        stat = stats[step]
        assert stat.n == n
        assert abs(stat.mean - mean) <= Decimal("0.0000005")  # stored to 1e-6 %
        assert stat.minimum == min(means) and stat.maximum == max(means)
        variance = sum(((m - mean) ** 2 for m in means), Decimal(0)) / (n - 1)
        assert abs(stat.std - variance.sqrt()) < Decimal("1e-6")
        assert stat.verdict == (Outcome.PASS if mean <= 0 else Outcome.FAIL)
