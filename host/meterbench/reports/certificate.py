"""Certificate (检定证书, every item passed) and result notice (检定结果通知书, an item failed).

Generated from the record, never edited (verification reference §5.2). Page 1: number, the
issuing institute with its address and authorisation number, the meter and who submitted it,
the regulation's full title, the conclusion, dates with 有效期至, and the signatures of
批准人, 核验员 and 检定员 with space to sign; page 2: the standard used with its examination
certificate, traceability and uncertainty statements, and the conditions; page 3: the results
(rounded values, limits, conclusions, manual items; the acceptance verdict separately). Both
carry the run's final hash and, for a run the lab signs, its signature over that head as text
and as a QR code (`signature_code`). A broken chain, a signature that does not verify, an open
run, a missing mandatory manual item or a lot whose certificates are withheld gets no
certificate.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from meterbench.reports import fmt
from meterbench.reports.common import (
    environment_fields,
    fields,
    integrity_blocks,
    manual_table,
    new_document,
    outcome_cell,
    safe,
    signature_blocks,
    standard_fields,
    verification_date,
)
from meterbench.reports.context import ReportContext
from meterbench.reports.document import Document, Heading, PageBreak, Paragraph, Table, cell
from meterbench.reports.errors import (
    ChainBrokenError,
    LotWithheldError,
    ManualItemMissingError,
    NoVerdictError,
    RunNotClosedError,
    SignatureInvalidError,
)
from meterbench.reports.meters import MeterResult
from meterbench.reports.translations import point_label, reason_text, regulation_title
from meterbench.results import Outcome, RunStatus

VALID_MONTHS_KEY = "certificate_valid_months"


def check_issuable(ctx: ReportContext, meter: MeterResult) -> str:
    """The document kind for this meter, or the reason none may be issued."""
    if not ctx.integrity.chain_ok:
        raise ChainBrokenError(ctx.run_id, ctx.integrity.problem or "unknown problem")
    if not ctx.integrity.ok:
        raise SignatureInvalidError(ctx.run_id, ctx.integrity.signature_problem or "unknown")
    if ctx.integrity.status is not RunStatus.COMPLETED:
        status = ctx.integrity.status.value if ctx.integrity.status else "unknown"
        raise RunNotClosedError(ctx.run_id, status)
    kind = meter.document_kind
    if kind is None:
        verdict = meter.verdict()
        why = f"legal verdict {verdict.value}" if verdict else "no conclusion stored"
        raise NoVerdictError(meter.label, why)
    if kind == "certificate" and meter.missing_manual:
        raise ManualItemMissingError(
            ctx.run_id, meter.label, meter.position.position, meter.missing_manual
        )
    if kind == "certificate":
        lot = meter.position.lot or ctx.run_id
        for verdict in ctx.record.lot_verdicts:
            if (
                verdict.lot == lot
                and verdict.verdict is Outcome.FAIL
                and verdict.consequence == "withhold"
            ):
                raise LotWithheldError(meter.label, lot)
    return kind


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(ctx: ReportContext, when: datetime | None, meter_class: str = "") -> str:
    """The last valid day: the lab profile's verification period for the regulation (and
    class), else the run head's ``extra["certificate_valid_months"]``; empty when neither
    says, as the period is a regulation value (§1.15, unconfirmed) a report must not guess."""
    months = ctx.lab.valid_months(ctx.profile_id, meter_class)
    if months is None:
        months = ctx.record.run.extra.get(VALID_MONTHS_KEY)
    day = fmt.local_day(when, ctx.tz)
    if day is None or not isinstance(months, int) or isinstance(months, bool) or months <= 0:
        return ""
    return (add_months(day, months) - timedelta(days=1)).isoformat()


def certificate_stem(kind: str, number: str) -> str:
    return f"{kind}-{safe(number)}"


def build_certificate(ctx: ReportContext, meter: MeterResult) -> Document:
    """The certificate or result notice of one meter (kind decided by its legal verdict)."""
    kind = check_issuable(ctx, meter)
    labels, lab = ctx.labels, ctx.lab
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
    meter_class = fmt.scalar(plate.get("class"))
    statement = "certificate_statement" if kind == "certificate" else "notice_statement"
    doc.add(
        fields(
            [
                (labels(number_key), cell(number, "mono")),
                (labels("lab"), lab.name or ctx.facts.issuer),
                (labels("lab_address"), lab.address),
                (labels("authorisation"), lab.authorisation),
                (labels("lab_phone"), lab.phone),
            ],
            columns=1,
        ),
        Heading(labels("meter"), 2),
        fields(
            [
                (labels("customer"), p.customer or ""),
                (labels.nameplate("name"), fmt.scalar(plate.get("name"))),
                (labels.nameplate("model"), fmt.scalar(plate.get("model")) or p.meter_type),
                (labels("serial_no"), p.serial_no or ""),
                (labels("asset_no"), p.asset_no or ""),
                (labels.nameplate("manufacturer"), fmt.scalar(plate.get("manufacturer"))),
                (labels.nameplate("class"), meter_class),
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
                (
                    labels("regulation"),
                    regulation_title(ctx.profile_id, ctx.lang) or ctx.facts.regulation_basis,
                ),
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
                (labels("verification_date"), fmt.day(fmt.local_day(when, ctx.tz))),
                (
                    labels("valid_until"),
                    valid_until(ctx, when, meter_class) if kind == "certificate" else "",
                ),
                (labels("bench"), ctx.facts.bench_id),
                (labels("position"), str(p.position)),
            ]
        ),
        Heading(labels("signatures"), 2),
        signature_table(ctx),
        PageBreak(),
        Paragraph(labels("page2_note"), "muted"),
        Heading(labels("standard"), 2),
        standard_fields(ctx),
        fields(
            [
                (labels("examination_certificate"), lab.standard.examination_certificate),
                (labels("standard_uncertainty"), lab.standard.uncertainty),
            ],
            columns=1,
        ),
        *_statements(ctx),
        Heading(labels("environment"), 2),
        environment_fields(ctx),
        PageBreak(),
        Paragraph(labels("page3_note"), "muted"),
        Heading(labels("results"), 2),
        _results_table(ctx, meter, failed_only=False),
    )
    if meter.manual:
        doc.add(Heading(labels("manual_items"), 2), manual_table(ctx, meter))
    doc.add(*integrity_blocks(ctx), *signature_blocks(ctx, number))
    return doc


def signature_table(ctx: ReportContext) -> Table:
    """批准人, 核验员, 检定员 with their names and empty space to sign and date."""
    labels, run, lab = ctx.labels, ctx.record.run, ctx.lab
    approver = lab.approver or fmt.scalar(run.extra.get("approver"))
    if approver and lab.approver_title:
        approver += f" ({lab.approver_title})"
    rows = tuple(
        (cell(labels(role)), cell(name), cell(""), cell(""))
        for role, name in (
            ("approver", approver),
            ("checker", run.checker or ""),
            ("verifier", run.verifier or ""),
        )
    )
    headers = ("", labels("personnel"), labels("signature"), labels("sign_date"))
    return Table(headers, rows, widths=(1.4, 2.6, 3.2, 1.8))


def _statements(ctx: ReportContext) -> list[Paragraph]:
    labels, std = ctx.labels, ctx.lab.standard
    out = []
    if std.examination_certificate and std.traceability:
        out.append(
            Paragraph(
                labels(
                    "traceability_statement",
                    cert=std.examination_certificate,
                    chain=std.traceability,
                )
            )
        )
    if std.uncertainty:
        out.append(Paragraph(labels("uncertainty_statement", uncertainty=std.uncertainty)))
    return out


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
            cell(point_label(s.step.point, ctx.lang)),
            cell(fmt.with_unit(fmt.signed(mpe.rounded), mpe.unit)),
            cell(fmt.with_unit(fmt.limits(mpe.lower, mpe.upper), mpe.unit)),
            outcome_cell(ctx, mpe.outcome),
        ]
        if failed_only:
            row.append(cell(reason_text(mpe.reason, ctx.lang) or fmt.pairs(mpe.details)))
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
    if failed_only:
        rows += [
            (
                cell(labels.item(m.item)),
                cell(""),
                cell(""),
                cell(""),
                outcome_cell(ctx, m.outcome),
                cell(m.note or ""),
            )
            for m in meter.manual
            if m.outcome is Outcome.FAIL
        ]
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
    widths = (2.2, 2.4, 1.3, 1.8, 1.1) + ((2.6,) if len(headers) == 6 else ())
    return Table(tuple(headers), tuple(rows), widths=widths)
