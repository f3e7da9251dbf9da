"""A run as data for a lab's management system: one row per reading and one per conclusion.

`run_export` builds the JSON document described by ``schema/run-export.schema.json`` (numbers
as exact decimal text, times ISO 8601 with offset). The CSV form is the same ``rows``
flattened to `CSV_COLUMNS` (JSON-valued fields as compact JSON text), so both files carry the
same facts. Every row names its run and the run's final hash, so a lab can check it later with
`meterbench records verify RUN --expect HASH`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from meterbench.reports.common import safe
from meterbench.reports.context import ReportContext
from meterbench.reports.meters import MeterResult
from meterbench.results import Conclusion, LimitKind, Reading, Step, to_plain

SCHEMA_ID = "meterbench/run-export/1"
SCHEMA_FILE = "schema/run-export.schema.json"

CSV_COLUMNS = (
    "row_type",
    "run_id",
    "final_hash",
    "chain_ok",
    "position",
    "serial_no",
    "asset_no",
    "meter_type",
    "step_key",
    "ordinal",
    "item",
    "point",
    "at",
    "reading_index",
    "attempt",
    "status",
    "value",
    "limit_kind",
    "mean",
    "rounded",
    "lower",
    "upper",
    "outcome",
    "reason",
    "unit",
    "raw",
    "details",
)


def schema() -> dict[str, Any]:
    """The JSON schema of the export (package data)."""
    text = resources.files("meterbench.reports").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


@dataclass(frozen=True, slots=True)
class RunExport:
    """One run (or one meter of it) ready for any exporter."""

    document: dict[str, Any]
    stem: str

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.document["rows"]


def _meter_plain(ctx: ReportContext, meter: MeterResult) -> dict[str, Any]:
    p = meter.position
    legal, acceptance = meter.verdict(), meter.verdict(LimitKind.ACCEPTANCE)
    return {
        "position": p.position,
        "serial_no": p.serial_no,
        "asset_no": p.asset_no,
        "address": p.address,
        "meter_type": p.meter_type,
        "customer": p.customer,
        "retest_of": p.retest_of,
        "nameplate": to_plain(meter.nameplate),
        "legal_verdict": legal.value if legal else None,
        "acceptance_verdict": acceptance.value if acceptance else None,
        "document_kind": meter.document_kind,
        "document_number": ctx.number_of(meter),
    }


def _common(ctx: ReportContext, meter: MeterResult, step: Step) -> dict[str, Any]:
    p = meter.position
    return {
        "run_id": ctx.run_id,
        "final_hash": ctx.integrity.final_hash,
        "chain_ok": ctx.integrity.ok,
        "position": p.position,
        "serial_no": p.serial_no,
        "asset_no": p.asset_no,
        "meter_type": p.meter_type,
        "step_key": step.step_key,
        "ordinal": step.ordinal,
        "item": step.item,
        "point": step.point,
    }


def _reading_row(base: dict[str, Any], r: Reading) -> dict[str, Any]:
    return {
        "row_type": "reading",
        **base,
        "at": to_plain(r.at),
        "reading_index": r.index,
        "attempt": r.attempt,
        "status": r.status.value,
        "value": to_plain(r.value),
        "unit": r.unit,
        "raw": to_plain(r.raw),
    }


def _conclusion_row(base: dict[str, Any], c: Conclusion) -> dict[str, Any]:
    return {
        "row_type": "conclusion",
        **base,
        "at": to_plain(c.at),
        "limit_kind": c.limit_kind.value,
        "mean": to_plain(c.mean),
        "rounded": to_plain(c.rounded),
        "lower": to_plain(c.lower),
        "upper": to_plain(c.upper),
        "outcome": c.outcome.value,
        "reason": c.reason,
        "unit": c.unit,
        "details": to_plain(c.details),
    }


def run_export(ctx: ReportContext, meter: MeterResult | None = None) -> RunExport:
    """The whole run, or only ``meter``'s rows, meters entry and log entries."""
    meters = [meter] if meter is not None else ctx.meters
    record, integrity, std = ctx.record, ctx.integrity, ctx.facts.standard
    rows: list[dict[str, Any]] = []
    for m in meters:
        for result in m.steps:
            base = _common(ctx, m, result.step)
            rows += [_reading_row(base, r) for r in result.readings]
            rows += [_conclusion_row(base, c) for c in result.conclusions]
    wanted = {m.position.position for m in meters}
    events = [e for e in record.events if meter is None or e.position in wanted]
    run = to_plain(record.run)
    document = {
        "schema": SCHEMA_ID,
        "run": {
            **run,
            "status": record.status.value if record.status else None,
            "finished_at": to_plain(record.finished_at),
            "regulation_basis": ctx.facts.regulation_basis,
        },
        "integrity": {
            "final_hash": integrity.final_hash,
            "chain_ok": integrity.ok,
            "rows": integrity.rows,
            "problem": integrity.problem,
        },
        "bench": {
            "id": ctx.facts.bench_id,
            "name": ctx.facts.bench_name,
            "standard": {
                "name": std.name,
                "model": std.model,
                "serial": std.serial,
                "accuracy_class": std.accuracy_class,
                "certificate": std.certificate,
                "valid_until": std.valid_until,
                "constant": std.constant,
                "timebase": std.timebase,
            },
        },
        "meters": [_meter_plain(ctx, m) for m in meters],
        "steps": [to_plain(s) for s in sorted(record.steps, key=lambda s: s.ordinal)],
        "rows": rows,
        "events": [to_plain(e) for e in events],
        "batch_statistics": [to_plain(b) for b in record.batch_statistics],
    }
    for step in document["steps"]:
        step.pop("run_id", None)
    for entry in document["events"] + document["batch_statistics"]:
        entry.pop("run_id", None)
    stem = f"run-{safe(ctx.run_id)}"
    if meter is not None:
        stem += f"-pos{meter.position.position:02d}-{safe(meter.label)}"
    return RunExport(document=document, stem=stem)


def csv_cell(value: Any) -> str:
    """CSV text of one field: JSON for objects, 'true'/'false', exact decimal text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)
