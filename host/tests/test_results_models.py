"""Record model: validation, exact Decimals, frozen JSON, and a store round trip of every type."""

from __future__ import annotations

import copy
import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterbench.results import (
    BatchStatistic,
    Conclusion,
    Event,
    FrozenDict,
    Outcome,
    Position,
    Reading,
    ResultsStore,
    Run,
    RunStatus,
    RunStatusChange,
    Severity,
    Snapshot,
    Step,
    canonical_json,
    thaw,
    to_plain,
)
from meterbench.results.models import Signoff
from meterbench.results.rows import CODECS, to_row
from meterbench.results.sample import (
    SNAPSHOTS,
    START,
    sample_records,
    sample_run,
    store_sample_run,
    verdict_records,
)

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _invalid(value: str) -> Any:
    """A value the field's type does not allow: the record must refuse it at run time."""
    return value


def _reading(**changes: object) -> Reading:
    fields: dict[str, object] = dict(
        run_id="R1", position=1, step_key="s", index=0, at=T0, raw={"m": 1}, value=Decimal("0.1")
    )
    fields.update(changes)
    return Reading(**fields)  # type: ignore[arg-type]


def test_every_record_type_round_trips_through_the_store(tmp_path):
    with ResultsStore.open(tmp_path / "r.db") as store:
        run = store_sample_run(store, close=False)
        store.append(*verdict_records(run.run_id))
        store.set_status(run.run_id, RunStatus.COMPLETED, START + timedelta(hours=1))
        signoff = Signoff(
            run_id=run.run_id,
            stage="check",
            at=START + timedelta(hours=2),
            username="chen",
            name="Chen Jing",
        )
        store.append(signoff)  # the one record a completed run takes
        record = store.load_run(run.run_id)
    assert record.run == sample_run()
    assert dict(record.snapshots) == SNAPSHOTS
    stored = (
        list(record.statuses[:1])
        + list(record.positions)
        + list(record.steps)
        + list(record.readings)
        + list(record.conclusions)
        + list(record.events)
        + list(record.batch_statistics)
        + list(record.manual_results)
        + list(record.lot_statistics)
        + list(record.lot_verdicts)
        + list(record.signoffs)
    )
    expected = [RunStatusChange(run_id=run.run_id, status=RunStatus.RUNNING, at=T0)]
    expected += sample_records(run.run_id) + verdict_records(run.run_id) + [signoff]
    key = lambda r: (type(r).__name__, canonical_json(to_plain(r)))  # noqa: E731
    assert sorted(stored, key=key) == sorted(expected, key=key)
    assert {type(r) for r in stored} | {Run, Snapshot} == set(CODECS)
    assert record.status is RunStatus.COMPLETED
    assert record.finished_at == T0 + timedelta(hours=1)


def test_codecs_fill_exactly_the_schema_columns():
    run = sample_run()
    records = [run, *sample_records(run.run_id), *verdict_records(run.run_id)]
    records.append(Snapshot(run_id=run.run_id, name="plan", recorded_at=T0, content={}))
    records.append(RunStatusChange(run_id=run.run_id, status=RunStatus.RUNNING, at=T0))
    for record in records:
        codec = CODECS[type(record)]
        row = to_row(record)
        assert tuple(row) == codec.table.columns
        assert all(v is None or isinstance(v, str | int) for v in row.values())
        assert codec.from_row(row) == record


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None)
    | st.decimals(allow_nan=False, allow_infinity=False, places=6)
)
def test_decimals_survive_storage_digit_for_digit(value):
    reading = _reading(value=value)
    back = CODECS[Reading].from_row(to_row(reading))
    assert back.value == value
    assert str(back.value) == str(value)  # same exponent: trailing zeros kept


def test_decimal_exactness_through_sqlite(tmp_path):
    values = ["0.30", "-0.000", "1E-7", "123456789012345678901234567890.123456789", "-0.05"]
    with ResultsStore.open(tmp_path / "r.db") as store:
        run = store_sample_run(store, close=False)
        rid = run.run_id
        for i, text in enumerate(values):
            store.append(_reading(run_id=rid, position=1, step_key="creep", index=i, value=text))
        back = store.readings(rid, step_key="creep")
    assert [str(r.value) for r in back] == [str(Decimal(v)) for v in values]


def test_floats_are_refused_where_exactness_matters():
    with pytest.raises(TypeError, match=r"Decimal\(str\(x\)\)"):
        _reading(value=0.1)
    with pytest.raises(ValueError, match="finite"):
        _reading(value=Decimal("NaN"))
    with pytest.raises(ValueError, match="finite"):
        _reading(raw={"m": float("inf")})


def test_records_are_immutable_deeply():
    reading = _reading(raw={"m": 1, "windows": [1, 2]})
    with pytest.raises(FrozenInstanceError):
        reading.value = Decimal(1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        reading.raw["m"] = 2
    assert reading.raw["windows"] == [1, 2]
    with pytest.raises(TypeError):
        reading.raw["windows"].append(3)
    assert json.loads(json.dumps(reading.raw)) == {"m": 1, "windows": [1, 2]}
    assert thaw(reading.raw) == {"m": 1, "windows": [1, 2]}
    assert copy.deepcopy(reading.raw) == reading.raw


def test_caller_mutation_after_construction_does_not_reach_the_record():
    raw = {"m": 1}
    reading = _reading(raw=raw)
    raw["m"] = 99
    assert reading.raw == {"m": 1}
    assert isinstance(reading.raw, FrozenDict)


def test_decimals_inside_json_become_exact_text():
    reading = _reading(raw={"energy_kwh": Decimal("1.000")})
    assert reading.raw == {"energy_kwh": "1.000"}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: _reading(at=datetime(2026, 1, 1)), "timezone"),
        (lambda: _reading(position=0), "position"),
        (lambda: _reading(index=-1), "index"),
        (lambda: _reading(status="bogus"), "ok, retried, invalid, marked"),
        (lambda: _reading(run_id="no spaces"), "run_id"),
        (lambda: _reading(raw=[1, 2]), "JSON object"),
        (lambda: Step(run_id="R", step_key="k", ordinal=0, item="Basic Error", point="x"), "item"),
        (
            lambda: Conclusion(
                run_id="R", position=1, step_key="k", at=T0, outcome=_invalid("passed")
            ),
            "outcome",
        ),
        (
            lambda: Conclusion(
                run_id="R",
                position=1,
                step_key="k",
                at=T0,
                outcome=Outcome.PASS,
                limit_kind=_invalid("x"),
            ),
            "mpe, acceptance",
        ),
        (lambda: Position(run_id="R", position=1, meter_type=" "), "meter_type"),
    ],
)
def test_invalid_records_are_refused_with_the_field_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_event_key_defaults_to_a_digest_of_its_content():
    a = Event(run_id="R", at=T0, severity=Severity.ERROR, kind="timeout", message="m", position=3)
    b = Event(run_id="R", at=T0, severity=Severity.ERROR, kind="timeout", message="m", position=3)
    c = Event(run_id="R", at=T0, severity=Severity.ERROR, kind="timeout", message="m", position=4)
    assert a.key == b.key != c.key
    assert (
        Event(run_id="R", at=T0, severity=Severity.INFO, kind="note", message="", key="k1").key
        == "k1"
    )


def test_times_keep_their_offset():
    china = timezone(timedelta(hours=8))
    reading = _reading(at=datetime(2026, 3, 2, 16, 30, 0, 123456, tzinfo=china))
    back = CODECS[Reading].from_row(to_row(reading))
    assert back.at == reading.at and back.at.utcoffset() == timedelta(hours=8)


def test_batch_statistic_allows_empty_statistics():
    stat = BatchStatistic(
        run_id="R", meter_type="T", step_key="k", at=T0, n=0, verdict=Outcome.NO_RESULT
    )
    assert CODECS[BatchStatistic].from_row(to_row(stat)) == stat
