"""Certificate (检定证书, every item passed) and result notice (检定结果通知书, an item failed).

Generated from the record, never edited (verification reference §5.2). Page 1: number, meter,
basis, conclusion, dates, personnel; page 2: the standard used and the conditions; page 3: the
results (rounded values, limits, conclusions; the acceptance verdict separately when there is
one). Both carry the run's final hash. A broken chain or an open run gets no document at all.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from meterbench.reports import fmt
from meterbench.reports.common import (
    environment_fields,
    fields,
    integrity_blocks,
    new_document,
    outcome_cell,
    personnel_fields,
    safe,
    standard_fields,
    verification_date,
)
from meterbench.reports.context import ReportContext
from meterbench.reports.document import Document, Heading, PageBreak, Paragraph, Table, cell
from meterbench.reports.errors import ChainBrokenError, NoVerdictError, RunNotClosedError
from meterbench.reports.meters import MeterResult
from meterbench.results import RunStatus

VALID_MONTHS_KEY = "certificate_valid_months"


def check_issuable(ctx: ReportContext, meter: MeterResult) -> str:
    """The document kind for this meter, or the reason none may be issued."""
    if not ctx.integrity.ok:
        raise ChainBrokenError(ctx.run_id, ctx.integrity.problem or "unknown problem")
    if ctx.integrity.status is not RunStatus.COMPLETED:
        status = ctx.integrity.status.value if ctx.integrity.status else "unknown"
        raise RunNotClosedError(ctx.run_id, status)
    kind = meter.document_kind
    if kind is None:
        verdict = meter.verdict()
        why = f"legal verdict {verdict.value}" if verdict else "no conclusion stored"
        raise NoVerdictError(meter.label, why)
    return kind


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(ctx: ReportContext, when: datetime | None) -> str:
    """The last valid day, only when the run head says for how many months a certificate is
    valid (``extra["certificate_valid_months"]``): the period is a regulation value (§1.15,
    unconfirmed) that a report must not guess."""
    months = ctx.record.run.extra.get(VALID_MONTHS_KEY)
    if when is None or not isinstance(months, int) or isinstance(months, bool) or months <= 0:
        return ""
    return (add_months(when.date(), months) - timedelta(days=1)).isoformat()


def certificate_stem(kind: str, number: str) -> str:
    return f"{kind}-{safe(number)}"


def build_certificate(ctx: ReportContext, meter: MeterResult) -> Document:
    """The certificate or result notice of one meter (kind decided by its legal verdict)."""
    kind = check_issuable(ctx, meter)
    labels = ctx.labels
    number = ctx.number_of(meter) or ""
    title_key = "certificate_title" if kind == "certificate" else "notice_title"
    number_key = "certificate_no" if kind == "certificate" else "notice_no"
    doc = new_document(
        ctx, title_key, certificate_stem(kind, number), f"{labels(number_key)} {number}"
    )
    doc.title = labels.both(title_key)
    when = verification_date(ctx, meter)
    plate = meter.nameplate
    p = meter.position
    statement = "certificate_statement" if kind == "certificate" else "notice_statement"
    doc.add(
        fields([(labels(number_key), cell(number, "mono"))], columns=1),
        Heading(labels("meter"), 2),
        fields(
            [
                (labels("customer"), p.customer or ""),
                (labels.nameplate("name"), fmt.scalar(plate.get("name"))),
                (labels.nameplate("model"), fmt.scalar(plate.get("model")) or p.meter_type),
                (labels("serial_no"), p.serial_no or ""),
                (labels("asset_no"), p.asset_no or ""),
                (labels.nameplate("manufacturer"), fmt.scalar(plate.get("manufacturer"))),
                (labels.nameplate("class"), fmt.scalar(plate.get("class"))),
                (labels.nameplate("rating"), fmt.scalar(plate.get("rating"))),
                (
                    labels.nameplate("constant"),
                    fmt.scalar(plate.get("constant") or plate.get("constant_imp_per_kwh")),
                ),
            ]
        ),
        Heading(labels("conclusion"), 2),
        fields(
            [
                (labels("regulation"), ctx.facts.regulation_basis),
                (labels("legal_verdict"), outcome_cell(ctx, meter.verdict())),
            ],
            columns=1,
        ),
        Paragraph(labels(statement)),
    )
    if kind == "notice":
        doc.add(Heading(labels("failed_items"), 2), _results_table(ctx, meter, failed_only=True))
    doc.add(
        fields(
            [
                (labels("verification_date"), fmt.day(when)),
                (labels("valid_until"), valid_until(ctx, when) if kind == "certificate" else ""),
                (labels("issuer"), ctx.facts.issuer),
                (labels("bench"), ctx.facts.bench_id),
                (labels("position"), str(p.position)),
            ]
        ),
        Heading(labels("personnel"), 2),
        personnel_fields(ctx, approver=True),
        PageBreak(),
        Paragraph(labels("page2_note"), "muted"),
        Heading(labels("standard"), 2),
        standard_fields(ctx),
        Heading(labels("environment"), 2),
        environment_fields(ctx),
        PageBreak(),
        Paragraph(labels("page3_note"), "muted"),
        Heading(labels("results"), 2),
        _results_table(ctx, meter, failed_only=False),
        *integrity_blocks(ctx),
    )
    return doc


def _results_table(ctx: ReportContext, meter: MeterResult, *, failed_only: bool) -> Table:
    labels = ctx.labels
    steps = meter.failed if failed_only else meter.steps
    with_acceptance = any(s.acceptance is not None for s in meter.steps)
    rows = []
    for s in steps:
        mpe = s.mpe
        if mpe is None:
            continue
        row = [
            cell(labels.item(s.step.item)),
            cell(s.step.point),
            cell(fmt.with_unit(fmt.signed(mpe.rounded), mpe.unit)),
            cell(fmt.with_unit(fmt.limits(mpe.lower, mpe.upper), mpe.unit)),
            outcome_cell(ctx, mpe.outcome),
        ]
        if failed_only:
            row.append(cell(mpe.reason or fmt.pairs(mpe.details)))
        elif with_acceptance:
            acc = s.acceptance
            row.append(
                cell(
                    f"{fmt.limits(acc.lower, acc.upper)} {labels(acc.outcome.value)}".strip()
                    if acc
                    else ""
                )
            )
        rows.append(tuple(row))
    headers = [
        labels("item"),
        labels("point"),
        labels("rounded"),
        labels("limits") + f" ({labels('mpe')})",
        labels("outcome"),
    ]
    if failed_only:
        headers.append(labels("reason"))
    elif with_acceptance:
        headers.append(labels("acceptance_verdict"))
    widths = (2.2, 2.0, 1.3, 1.8, 1.1) + ((2.6,) if len(headers) == 6 else ())
    return Table(tuple(headers), tuple(rows), widths=widths)
