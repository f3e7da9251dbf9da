"""The original verification record (原始记录) of one meter: every reading, every conclusion.

Laid out as the verification reference §5.1 lists the record fields: identity and nameplate,
basis, bench and position, the standard with its certificate, environment, then every item with
every reading (raw counts included, so anyone can recompute), mean, rounded value, limits and
conclusion, the position's log entries, personnel, dates and the final hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from meterbench.reports import fmt
from meterbench.reports.common import (
    environment_fields,
    fields,
    integrity_blocks,
    manual_table,
    meter_fields,
    nameplate_fields,
    new_document,
    outcome_cell,
    personnel_fields,
    run_fields,
    safe,
    standard_fields,
)
from meterbench.reports.context import ReportContext
from meterbench.reports.document import Block, Document, Heading, Paragraph, Table, Tone, cell
from meterbench.reports.meters import MeterResult, StepResult
from meterbench.reports.translations import point_label, reason_text
from meterbench.results import Event, LimitKind, ReadingStatus


def record_stem(ctx: ReportContext, meter: MeterResult) -> str:
    return f"record-{safe(ctx.run_id)}-pos{meter.position.position:02d}-{safe(meter.label)}"


def build_record(ctx: ReportContext, meter: MeterResult) -> Document:
    labels = ctx.labels
    doc = new_document(
        ctx,
        "record_title",
        record_stem(ctx, meter),
        f"{labels('serial_no')} {meter.label} · {labels('position')} {meter.position.position}",
    )
    legal = meter.verdict()
    acceptance = meter.verdict(LimitKind.ACCEPTANCE)
    number = ctx.number_of(meter)
    doc.add(
        Heading(labels("run"), 2),
        run_fields(ctx),
        Heading(labels("meter"), 2),
        meter_fields(ctx, meter),
        Heading(labels("nameplate"), 3),
        nameplate_fields(ctx, meter),
        Heading(labels("standard"), 2),
        standard_fields(ctx),
        Heading(labels("environment"), 2),
        environment_fields(ctx),
        Heading(labels("results"), 2),
    )
    for result in meter.steps:
        doc.add(*step_blocks(ctx, result))
    if meter.manual or meter.missing_manual:
        doc.add(Heading(labels("manual_items"), 3), manual_table(ctx, meter))
    doc.add(
        Heading(labels("conclusion"), 2),
        fields(
            [
                (labels("legal_verdict"), outcome_cell(ctx, legal)),
                (labels("acceptance_verdict"), outcome_cell(ctx, acceptance)),
                (labels("document_no"), number or ""),
            ]
        ),
    )
    if meter.events:
        doc.add(Heading(labels("meter_events"), 2), events_table(ctx, meter.events))
    doc.add(Heading(labels("personnel"), 2), personnel_fields(ctx), *integrity_blocks(ctx))
    return doc


def step_blocks(ctx: ReportContext, result: StepResult) -> list[Block]:
    """One item at one point: parameters, the readings table, the conclusions table."""
    labels, step = ctx.labels, result.step
    blocks: list[Block] = [
        Heading(f"{labels.item(step.item)} · {point_label(step.point, ctx.lang)}", 3)
    ]
    if step.parameters:
        blocks.append(Paragraph(f"{labels('parameters')}: {fmt.pairs(step.parameters)}", "muted"))
    if result.readings:
        rows = []
        for r in result.readings:
            tone = "warn" if r.status is not ReadingStatus.OK else ""
            rows.append(
                (
                    cell(r.index + 1),
                    cell(r.attempt),
                    cell(fmt.when(r.at, ctx.tz)),
                    cell(fmt.with_unit(_reading_value(r.value, r.unit), r.unit)),
                    cell(labels(r.status.value), tone),
                    cell(fmt.pairs(r.raw), "mono"),
                )
            )
        blocks.append(
            Table(
                (
                    labels("reading"),
                    labels("attempt"),
                    labels("time"),
                    labels("value"),
                    labels("reading_status"),
                    labels("raw"),
                ),
                tuple(rows),
                widths=(0.7, 0.6, 2.6, 1.3, 1.2, 4.6),
            )
        )
    if result.conclusions:
        rows = []
        for c in result.conclusions:
            outcome = outcome_cell(ctx, c.outcome)
            rows.append(
                (
                    cell(labels(c.limit_kind.value)),
                    cell(fmt.with_unit(fmt.signed(c.mean), c.unit)),
                    cell(fmt.with_unit(fmt.signed(c.rounded), c.unit)),
                    cell(fmt.with_unit(fmt.limits(c.lower, c.upper), c.unit)),
                    outcome,
                    cell(
                        "; ".join(
                            x for x in (reason_text(c.reason, ctx.lang), fmt.pairs(c.details)) if x
                        )
                    ),
                )
            )
        blocks.append(
            Table(
                (
                    labels("limit_kind"),
                    labels("mean"),
                    labels("rounded"),
                    labels("limits"),
                    labels("outcome"),
                    labels("details"),
                ),
                tuple(rows),
                widths=(1.6, 1.3, 1.3, 1.5, 1.1, 4.2),
            )
        )
    return blocks


def _reading_value(value: Decimal | None, unit: str) -> str:
    if not isinstance(value, Decimal):
        return ""
    return fmt.signed(value) if unit in ("%", "s/d") else str(value)


SEVERITY_TONES: dict[str, Tone] = {"error": "fail", "warning": "warn"}


def events_table(ctx: ReportContext, events: Sequence[Event], *, frames: bool = True) -> Table:
    """The error log with the raw frames that were on the bus, one frame per line (without
    them when ``frames`` is False: the batch report puts them in an appendix)."""
    labels = ctx.labels
    steps = {s.step_key: s for s in ctx.record.steps}
    rows = []
    for e in events:
        step = steps.get(e.step_key or "")
        where = (
            f"{labels.item(step.item)} {point_label(step.point, ctx.lang)}"
            if step
            else (e.step_key or "")
        )
        tone = SEVERITY_TONES.get(e.severity.value, "")
        row = [
            cell(fmt.when(e.at, ctx.tz)),
            cell(labels(e.severity.value), tone),
            cell(e.kind),
            cell("" if e.position is None else e.position),
            cell(where),
            cell(e.message),
        ]
        if frames:
            row.append(cell("\n".join(frame_text(f) for f in e.trace), "mono"))
        rows.append(tuple(row))
    headers = [
        labels("time"),
        labels("severity"),
        labels("kind"),
        labels("position"),
        labels("step"),
        labels("message"),
    ]
    if frames:
        return Table(
            (*headers, labels("frames")),
            tuple(rows),
            widths=(2.2, 0.9, 1.1, 0.6, 1.6, 2.6, 3.2),
        )
    return Table(tuple(headers), tuple(rows), widths=(2.2, 0.9, 1.1, 0.6, 2.0, 5.4))


def frame_text(frame: object) -> str:
    """'tx 68 02 00 ...' from a stored frame ({direction, hex, ...}); anything else as JSON."""
    if isinstance(frame, dict):
        head = " ".join(
            fmt.scalar(frame[k]) for k in ("at", "bus", "direction") if frame.get(k) is not None
        )
        data = fmt.scalar(frame.get("hex") or frame.get("data") or "")
        rest = {
            k: v for k, v in frame.items() if k not in ("at", "bus", "direction", "hex", "data")
        }
        text = f"{head} {data}".strip()
        return text + (f" ({fmt.pairs(rest)})" if rest else "")
    return fmt.scalar(frame)
