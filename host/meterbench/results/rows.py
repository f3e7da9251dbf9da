"""Record <-> row conversion: the only place that knows how a field becomes a column value.

Row values are ``str``, ``int`` or ``None`` only: Decimals as their exact text, datetimes as
ISO 8601, JSON as canonical text. The hash chain is computed over exactly these values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meterbench.results import schema
from meterbench.results.canonical import (
    canonical_json,
    datetime_text,
    decimal_text,
    parse_datetime,
    parse_json,
)
from meterbench.results.models import (
    BatchStatistic,
    Conclusion,
    Environment,
    Event,
    LotStatistic,
    LotVerdict,
    ManualResult,
    Position,
    Reading,
    Record,
    Run,
    RunStatusChange,
    Signoff,
    Snapshot,
    Step,
)

Value = str | int | None
Row = dict[str, Value]


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _undec(value: Value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class Codec:
    table: schema.Table
    to_row: Callable[[Any], Row]
    from_row: Callable[[Mapping[str, Value]], Any]


def _run_row(r: Run) -> Row:
    return {
        "run_id": r.run_id,
        "started_at": datetime_text(r.started_at),
        "bench_name": r.bench,
        "plan_name": r.plan,
        "regulation": r.regulation,
        "regulation_version": r.regulation_version,
        "software_version": r.software_version,
        "verifier": r.verifier,
        "checker": r.checker,
        "task": r.task,
        "temperature_c": _dec(r.environment.temperature_c),
        "humidity_pct": _dec(r.environment.humidity_pct),
        "place": r.environment.place,
        "extra": canonical_json(r.extra),
    }


def _run_record(w: Mapping[str, Value]) -> Run:
    return Run(
        run_id=str(w["run_id"]),
        started_at=parse_datetime(str(w["started_at"])),
        bench=str(w["bench_name"]),
        plan=str(w["plan_name"]),
        regulation=str(w["regulation"]),
        regulation_version=_opt(w["regulation_version"]),
        software_version=str(w["software_version"]),
        verifier=_opt(w["verifier"]),
        checker=_opt(w["checker"]),
        task=_opt(w["task"]),
        environment=Environment(
            temperature_c=_undec(w["temperature_c"]),
            humidity_pct=_undec(w["humidity_pct"]),
            place=_opt(w["place"]),
        ),
        extra=parse_json(str(w["extra"])),
    )


def _opt(value: Value) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Value) -> int | None:
    return None if value is None else int(value)


def _status_row(s: RunStatusChange) -> Row:
    return {
        "run_id": s.run_id,
        "status": s.status.value,
        "recorded_at": datetime_text(s.at),
        "reason": s.reason,
    }


def _status_record(w: Mapping[str, Value]) -> RunStatusChange:
    return RunStatusChange(
        run_id=str(w["run_id"]),
        status=str(w["status"]),  # type: ignore[arg-type]
        at=parse_datetime(str(w["recorded_at"])),
        reason=_opt(w["reason"]),
    )


def _snapshot_row(s: Snapshot) -> Row:
    return {
        "run_id": s.run_id,
        "snapshot_name": s.name,
        "recorded_at": datetime_text(s.recorded_at),
        "content": canonical_json(s.content),
    }


def _snapshot_record(w: Mapping[str, Value]) -> Snapshot:
    return Snapshot(
        run_id=str(w["run_id"]),
        name=str(w["snapshot_name"]),
        recorded_at=parse_datetime(str(w["recorded_at"])),
        content=parse_json(str(w["content"])),
    )


def _position_row(p: Position) -> Row:
    return {
        "run_id": p.run_id,
        "position_no": p.position,
        "meter_type": p.meter_type,
        "serial_no": p.serial_no,
        "asset_no": p.asset_no,
        "address": p.address,
        "customer": p.customer,
        "retest_of": p.retest_of,
        "nameplate": canonical_json(p.nameplate),
        "lot": p.lot,
    }


def _position_record(w: Mapping[str, Value]) -> Position:
    return Position(
        run_id=str(w["run_id"]),
        position=int(w["position_no"]),  # type: ignore[arg-type]
        meter_type=str(w["meter_type"]),
        serial_no=_opt(w["serial_no"]),
        asset_no=_opt(w["asset_no"]),
        address=_opt(w["address"]),
        customer=_opt(w["customer"]),
        retest_of=_opt(w["retest_of"]),
        nameplate=parse_json(str(w["nameplate"])),
        lot=_opt(w.get("lot")),
    )


def _step_row(s: Step) -> Row:
    return {
        "run_id": s.run_id,
        "step_key": s.step_key,
        "ordinal": s.ordinal,
        "item_kind": s.item,
        "point_key": s.point,
        "parameters": canonical_json(s.parameters),
    }


def _step_record(w: Mapping[str, Value]) -> Step:
    return Step(
        run_id=str(w["run_id"]),
        step_key=str(w["step_key"]),
        ordinal=int(w["ordinal"]),  # type: ignore[arg-type]
        item=str(w["item_kind"]),
        point=str(w["point_key"]),
        parameters=parse_json(str(w["parameters"])),
    )


def _reading_row(r: Reading) -> Row:
    return {
        "run_id": r.run_id,
        "position_no": r.position,
        "step_key": r.step_key,
        "reading_index": r.index,
        "attempt": r.attempt,
        "recorded_at": datetime_text(r.at),
        "raw_counts": canonical_json(r.raw),
        "result_value": _dec(r.value),
        "unit": r.unit,
        "status": r.status.value,
    }


def _reading_record(w: Mapping[str, Value]) -> Reading:
    return Reading(
        run_id=str(w["run_id"]),
        position=int(w["position_no"]),  # type: ignore[arg-type]
        step_key=str(w["step_key"]),
        index=int(w["reading_index"]),  # type: ignore[arg-type]
        attempt=int(w["attempt"]),  # type: ignore[arg-type]
        at=parse_datetime(str(w["recorded_at"])),
        raw=parse_json(str(w["raw_counts"])),
        value=_undec(w["result_value"]),
        unit=str(w["unit"]),
        status=str(w["status"]),  # type: ignore[arg-type]
    )


def _conclusion_row(c: Conclusion) -> Row:
    return {
        "run_id": c.run_id,
        "position_no": c.position,
        "step_key": c.step_key,
        "limit_kind": c.limit_kind.value,
        "recorded_at": datetime_text(c.at),
        "outcome": c.outcome.value,
        "mean_value": _dec(c.mean),
        "rounded_value": _dec(c.rounded),
        "lower_limit": _dec(c.lower),
        "upper_limit": _dec(c.upper),
        "unit": c.unit,
        "reason": c.reason,
        "details": canonical_json(c.details),
    }


def _conclusion_record(w: Mapping[str, Value]) -> Conclusion:
    return Conclusion(
        run_id=str(w["run_id"]),
        position=int(w["position_no"]),  # type: ignore[arg-type]
        step_key=str(w["step_key"]),
        limit_kind=str(w["limit_kind"]),  # type: ignore[arg-type]
        at=parse_datetime(str(w["recorded_at"])),
        outcome=str(w["outcome"]),  # type: ignore[arg-type]
        mean=_undec(w["mean_value"]),
        rounded=_undec(w["rounded_value"]),
        lower=_undec(w["lower_limit"]),
        upper=_undec(w["upper_limit"]),
        unit=str(w["unit"]),
        reason=_opt(w["reason"]),
        details=parse_json(str(w["details"])),
    )


def _event_row(e: Event) -> Row:
    return {
        "run_id": e.run_id,
        "event_key": e.key,
        "recorded_at": datetime_text(e.at),
        "severity": e.severity.value,
        "kind": e.kind,
        "message": e.message,
        "position_no": e.position,
        "step_key": e.step_key,
        "trace": canonical_json(e.trace),
    }


def _event_record(w: Mapping[str, Value]) -> Event:
    return Event(
        run_id=str(w["run_id"]),
        key=str(w["event_key"]),
        at=parse_datetime(str(w["recorded_at"])),
        severity=str(w["severity"]),  # type: ignore[arg-type]
        kind=str(w["kind"]),
        message=str(w["message"]),
        position=_opt_int(w["position_no"]),
        step_key=_opt(w["step_key"]),
        trace=parse_json(str(w["trace"])),
    )


def _batch_row(b: BatchStatistic) -> Row:
    return {
        "run_id": b.run_id,
        "meter_type": b.meter_type,
        "step_key": b.step_key,
        "recorded_at": datetime_text(b.at),
        "n": b.n,
        "verdict": b.verdict.value,
        "mean_value": _dec(b.mean),
        "std_value": _dec(b.std),
        "min_value": _dec(b.minimum),
        "max_value": _dec(b.maximum),
        "unit": b.unit,
        "members": canonical_json(b.members),
    }


def _batch_record(w: Mapping[str, Value]) -> BatchStatistic:
    return BatchStatistic(
        run_id=str(w["run_id"]),
        meter_type=str(w["meter_type"]),
        step_key=str(w["step_key"]),
        at=parse_datetime(str(w["recorded_at"])),
        n=int(w["n"]),  # type: ignore[arg-type]
        verdict=str(w["verdict"]),  # type: ignore[arg-type]
        mean=_undec(w["mean_value"]),
        std=_undec(w["std_value"]),
        minimum=_undec(w["min_value"]),
        maximum=_undec(w["max_value"]),
        unit=str(w["unit"]),
        members=parse_json(str(w["members"])),
    )


def _manual_row(m: ManualResult) -> Row:
    return {
        "run_id": m.run_id,
        "position_no": m.position,
        "item_kind": m.item,
        "recorded_at": datetime_text(m.at),
        "outcome": m.outcome.value,
        "verifier": m.verifier,
        "note": m.note,
    }


def _manual_record(w: Mapping[str, Value]) -> ManualResult:
    return ManualResult(
        run_id=str(w["run_id"]),
        position=int(w["position_no"]),  # type: ignore[arg-type]
        item=str(w["item_kind"]),
        at=parse_datetime(str(w["recorded_at"])),
        outcome=str(w["outcome"]),  # type: ignore[arg-type]
        verifier=str(w["verifier"]),
        note=_opt(w["note"]),
    )


def _lot_row(s: LotStatistic) -> Row:
    return {
        "run_id": s.run_id,
        "lot": s.lot,
        "meter_type": s.meter_type,
        "point_key": s.point,
        "recorded_at": datetime_text(s.at),
        "n": s.n,
        "n_all": s.n_all,
        "verdict": s.verdict.value,
        "counted": int(s.counted),
        "mean_value": _dec(s.mean),
        "rounded_value": _dec(s.rounded),
        "mean_all_value": _dec(s.mean_all),
        "unit": s.unit,
        "runs": canonical_json(s.runs),
        "members": canonical_json(s.members),
    }


def _lot_record(w: Mapping[str, Value]) -> LotStatistic:
    return LotStatistic(
        run_id=str(w["run_id"]),
        lot=str(w["lot"]),
        meter_type=str(w["meter_type"]),
        point=str(w["point_key"]),
        at=parse_datetime(str(w["recorded_at"])),
        n=int(w["n"]),  # type: ignore[arg-type]
        n_all=int(w["n_all"]),  # type: ignore[arg-type]
        verdict=str(w["verdict"]),  # type: ignore[arg-type]
        counted=bool(w["counted"]),
        mean=_undec(w["mean_value"]),
        rounded=_undec(w["rounded_value"]),
        mean_all=_undec(w["mean_all_value"]),
        unit=str(w["unit"]),
        runs=parse_json(str(w["runs"])),
        members=parse_json(str(w["members"])),
    )


def _lot_verdict_row(v: LotVerdict) -> Row:
    return {
        "run_id": v.run_id,
        "lot": v.lot,
        "recorded_at": datetime_text(v.at),
        "verdict": v.verdict.value,
        "consequence": v.consequence,
        "failed_points": canonical_json(v.failed_points),
    }


def _lot_verdict_record(w: Mapping[str, Value]) -> LotVerdict:
    return LotVerdict(
        run_id=str(w["run_id"]),
        lot=str(w["lot"]),
        at=parse_datetime(str(w["recorded_at"])),
        verdict=str(w["verdict"]),  # type: ignore[arg-type]
        consequence=str(w["consequence"]),
        failed_points=parse_json(str(w["failed_points"])),
    )


def _signoff_row(s: Signoff) -> Row:
    return {
        "run_id": s.run_id,
        "stage": s.stage,
        "recorded_at": datetime_text(s.at),
        "username": s.username,
        "full_name": s.name,
        "note": s.note,
    }


def _signoff_record(w: Mapping[str, Value]) -> Signoff:
    return Signoff(
        run_id=str(w["run_id"]),
        stage=str(w["stage"]),
        at=parse_datetime(str(w["recorded_at"])),
        username=str(w["username"]),
        name=str(w["full_name"]),
        note=_opt(w["note"]),
    )


CODECS: dict[type, Codec] = {
    Run: Codec(schema.RUN, _run_row, _run_record),
    RunStatusChange: Codec(schema.RUN_STATUS, _status_row, _status_record),
    Snapshot: Codec(schema.SNAPSHOT, _snapshot_row, _snapshot_record),
    Position: Codec(schema.POSITION, _position_row, _position_record),
    Step: Codec(schema.STEP, _step_row, _step_record),
    Reading: Codec(schema.READING, _reading_row, _reading_record),
    Conclusion: Codec(schema.CONCLUSION, _conclusion_row, _conclusion_record),
    Event: Codec(schema.EVENT, _event_row, _event_record),
    BatchStatistic: Codec(schema.BATCH_STATISTIC, _batch_row, _batch_record),
    ManualResult: Codec(schema.MANUAL_RESULT, _manual_row, _manual_record),
    LotStatistic: Codec(schema.LOT_STATISTIC, _lot_row, _lot_record),
    LotVerdict: Codec(schema.LOT_VERDICT, _lot_verdict_row, _lot_verdict_record),
    Signoff: Codec(schema.SIGNOFF, _signoff_row, _signoff_record),
}
CODECS_BY_TABLE: dict[str, Codec] = {codec.table.name: codec for codec in CODECS.values()}


def codec_for(record: Record) -> Codec:
    try:
        return CODECS[type(record)]
    except KeyError:
        raise TypeError(f"{type(record).__name__} is not a stored record type") from None


def to_row(record: Record) -> Row:
    return codec_for(record).to_row(record)
