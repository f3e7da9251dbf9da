"""Blocks every document shares: run head, meter identity, standard, environment, personnel,
and the tamper-evidence lines (final hash on every document, banners for broken or open runs).
"""

from __future__ import annotations

import re
from datetime import datetime

from meterbench.reports import fmt
from meterbench.reports.context import ReportContext
from meterbench.reports.document import (
    Banner,
    Block,
    Cell,
    Document,
    Fields,
    Heading,
    Image,
    Table,
    Tone,
    cell,
)
from meterbench.reports.meters import MeterResult
from meterbench.reports.signature_code import code_text, qr_chart
from meterbench.results import Outcome

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# Nameplate fields in the order a record lists them; the rest follow as stored.
NAMEPLATE_ORDER = (
    "name",
    "manufacturer",
    "model",
    "class",
    "voltage_rating",
    "un_v",
    "rating",
    "ib_a",
    "imax_a",
    "constant",
    "constant_imp_per_kwh",
    "frequency_hz",
    "connection",
    "wiring",
    "protocol",
    "q3_m3h",
    "r",
    "orientation",
    "dn",
    "scale_interval_l",
)
# Nameplate keys that say nothing to a reader of the record.
# not nameplate data: tariff names and the period table are programming, shown where used
NAMEPLATE_HIDDEN = {"kind", "regulation", "tariff_names", "tariff_periods", "sim", "error_model"}


def safe(text: str) -> str:
    """A file-name part: letters, digits, '._-' only."""
    return _UNSAFE.sub("-", text).strip("-") or "x"


def new_document(ctx: ReportContext, title_key: str, stem: str, subtitle: str) -> Document:
    labels = ctx.labels
    integrity = ctx.integrity
    doc = Document(
        title=labels(title_key),
        subtitle=subtitle,
        lang=ctx.lang,
        stem=f"{stem}-{ctx.lang}",
        run_id=ctx.run_id,
        final_hash=integrity.final_hash,
        chain_ok=integrity.ok,
        footer=f"{labels('run_id')} {ctx.run_id} · {labels('final_hash')} {integrity.final_hash}",
        created=ctx.record.finished_at or ctx.record.run.started_at,
    )
    doc.add(*banners(ctx))
    return doc


def banners(ctx: ReportContext) -> list[Block]:
    labels, integrity = ctx.labels, ctx.integrity
    out: list[Block] = []
    if not integrity.ok:
        out.append(Banner(labels("tamper_banner", problem=integrity.problem or ""), "fail"))
    if not integrity.closed:
        status = integrity.status.value if integrity.status else "?"
        out.append(Banner(labels("provisional_banner", status=labels(status)), "warn"))
    return out


def outcome_cell(ctx: ReportContext, outcome: Outcome | None) -> Cell:
    if outcome is None:
        return cell("")
    tones: dict[str, Tone] = {"pass": "pass", "fail": "fail"}
    return cell(ctx.labels(outcome.value), tones.get(outcome.value, "warn"))


def fields(rows: list[tuple[str, str | Cell]], columns: int = 2) -> Fields:
    """Label/value pairs; empty values are left out (a record shows what was stored)."""
    kept = tuple(
        (label, value if isinstance(value, Cell) else cell(value))
        for label, value in rows
        if (value.text if isinstance(value, Cell) else value)
    )
    return Fields(kept, columns)


def run_fields(ctx: ReportContext, *, full: bool = True) -> Fields:
    labels, run, facts = ctx.labels, ctx.record.run, ctx.facts
    bench = facts.bench_id + (f" ({facts.bench_name})" if facts.bench_name else "")
    rows: list[tuple[str, str | Cell]] = [
        (labels("run_id"), run.run_id),
        (labels("task"), run.task or ""),
        (labels("bench"), bench),
        (labels("regulation"), facts.regulation_basis),
        (labels("plan"), run.plan),
        (labels("started"), fmt.when(run.started_at, ctx.tz)),
        (labels("finished"), fmt.when(ctx.record.finished_at, ctx.tz)),
    ]
    if full:
        status = ctx.record.status
        rows += [
            (labels("status"), labels(status.value) if status else ""),
            (labels("software"), run.software_version),
            (labels("firmware"), facts.firmware),
        ]
    return fields(rows)


def meter_fields(ctx: ReportContext, meter: MeterResult) -> Fields:
    labels, p = ctx.labels, meter.position
    return fields(
        [
            (labels("position"), str(p.position)),
            (labels("serial_no"), p.serial_no or ""),
            (labels("asset_no"), p.asset_no or ""),
            (labels("meter_type"), p.meter_type),
            (labels("address"), p.address or ""),
            (labels("customer"), p.customer or ""),
            (labels("retest_of"), p.retest_of or ""),
        ]
    )


def nameplate_fields(ctx: ReportContext, meter: MeterResult) -> Fields:
    plate = {k: v for k, v in meter.nameplate.items() if k not in NAMEPLATE_HIDDEN}
    keys = [k for k in NAMEPLATE_ORDER if k in plate] + sorted(
        k for k in plate if k not in NAMEPLATE_ORDER
    )
    labels = ctx.labels
    return fields(
        [(labels.nameplate(k), labels.nameplate_value(fmt.scalar(plate[k]))) for k in keys]
    )


def standard_fields(ctx: ReportContext) -> Fields:
    labels, std = ctx.labels, ctx.facts.standard
    return fields(
        [
            (labels("standard_name"), std.name),
            (labels("standard_model"), std.model),
            (labels("standard_serial"), std.serial),
            (labels("accuracy_class"), std.accuracy_class),
            (labels("standard_certificate"), std.certificate),
            (labels("standard_valid_until"), std.valid_until),
            (labels("standard_constant"), std.constant),
            (labels("timebase"), std.timebase),
        ]
    )


def environment_fields(ctx: ReportContext) -> Fields:
    labels, env = ctx.labels, ctx.record.run.environment
    place = env.place or ctx.facts.location
    return fields(
        [
            (labels("temperature"), f"{env.temperature_c} °C" if env.temperature_c else ""),
            (labels("humidity"), f"{env.humidity_pct} %" if env.humidity_pct else ""),
            (labels("place"), place),
        ]
    )


def personnel_fields(ctx: ReportContext, *, approver: bool = False) -> Fields:
    labels, run = ctx.labels, ctx.record.run
    rows: list[tuple[str, str | Cell]] = [
        (labels("verifier"), run.verifier or ""),
        (labels("checker"), run.checker or ""),
    ]
    if approver:
        rows.append((labels("approver"), fmt.scalar(run.extra.get("approver"))))
    return fields(rows)


def integrity_blocks(ctx: ReportContext) -> list[Block]:
    labels, integrity = ctx.labels, ctx.integrity
    state = (
        cell(labels("chain_ok"), "pass")
        if integrity.ok
        else cell(f"{labels('chain_broken')} {integrity.problem or ''}", "fail")
    )
    return [
        Heading(labels("integrity"), 2),
        Fields(
            (
                (labels("final_hash"), cell(integrity.final_hash, "mono")),
                (labels("chain_state"), state),
                (labels("chain_rows"), cell(integrity.rows)),
                (
                    "",
                    cell(
                        labels("verify_hint", run=ctx.run_id, hash=integrity.final_hash),
                        "muted",
                    ),
                ),
            ),
            columns=1,
        ),
    ]


def signature_blocks(ctx: ReportContext, number: str) -> list[Block]:
    """The lab's signature over the printed head, as text and as a QR code (certificates and
    notices of a signed run); nothing for a run the lab does not sign."""
    head = ctx.integrity.signed
    if head is None:
        return []
    labels = ctx.labels
    text = code_text(number, head)
    return [
        Heading(labels("lab_signature"), 2),
        Fields(
            (
                (labels("document_no"), cell(number, "mono")),
                (labels("final_hash"), cell(head.final_hash, "mono")),
                (labels("signed_rows"), cell(head.rows)),
                (labels("signing_key"), cell(head.key_id, "mono")),
                (labels("signed_at"), cell(fmt.when(head.signed_at, ctx.tz))),
                (labels("signature"), cell(head.signature, "mono")),
            ),
            columns=1,
        ),
        Image(labels("signature_qr"), qr_chart(text, 32), alt=text, width_mm=32),
    ]


def verification_date(ctx: ReportContext, meter: MeterResult) -> datetime | None:
    """When the meter's verification ended: its last conclusion, else the run's finish."""
    times = [c.at for s in meter.steps for c in s.conclusions]
    return max(times) if times else ctx.record.finished_at


def manual_table(ctx: ReportContext, meter: MeterResult) -> Table:
    """Manual items: the latest entry of each, and the mandatory ones not recorded yet."""
    labels = ctx.labels
    rows = tuple(
        (
            cell(labels.item(m.item)),
            outcome_cell(ctx, m.outcome),
            cell(m.verifier),
            cell(fmt.when(m.at, ctx.tz)),
            cell(m.note or ""),
        )
        for m in meter.manual
    ) + tuple(
        (
            cell(labels.item(item)),
            cell(labels("not_recorded"), "warn"),
            cell(""),
            cell(""),
            cell(""),
        )
        for item in meter.missing_manual
    )
    headers = (
        labels("item"),
        labels("outcome"),
        labels("manual_verifier"),
        labels("time"),
        labels("note"),
    )
    return Table(headers, rows, widths=(2.2, 1.1, 1.6, 2.6, 2.4))
