"""The batch report: per-position and per-item summaries, batch statistics with the mean-error
verdict (verification reference §4.2), lot statistics over accepted meters with the lot verdict,
the error plots, the run's error log, and the frames on the bus in an appendix at the end (a
silent meter's retries must not push the results off the first pages).

The batch verdict is a batch-level result: it changes no meter's conclusion; a failed lot
withholds certificates only when the plan's lot rule says so.
"""

from __future__ import annotations

from collections import Counter

from meterbench.reports import fmt
from meterbench.reports.common import (
    environment_fields,
    integrity_blocks,
    new_document,
    outcome_cell,
    personnel_fields,
    run_fields,
    safe,
    standard_fields,
)
from meterbench.reports.context import ReportContext
from meterbench.reports.document import Document, Heading, PageBreak, Paragraph, Table, cell
from meterbench.reports.meters import steps_in_order
from meterbench.reports.plots import error_plots
from meterbench.reports.record import events_table
from meterbench.reports.translations import point_label
from meterbench.results import LimitKind, Outcome


def batch_stem(ctx: ReportContext) -> str:
    return f"batch-report-{safe(ctx.run_id)}"


def build_batch(ctx: ReportContext, *, plots: bool = True) -> Document:
    labels = ctx.labels
    doc = new_document(ctx, "batch_title", batch_stem(ctx), f"{labels('run_id')} {ctx.run_id}")
    doc.add(
        Heading(labels("run"), 2),
        run_fields(ctx),
        Heading(labels("standard"), 2),
        standard_fields(ctx),
        Heading(labels("environment"), 2),
        environment_fields(ctx),
        Heading(labels("summary_positions"), 2),
        positions_table(ctx),
        Heading(labels("summary_items"), 2),
        items_table(ctx),
        Heading(labels("batch_statistics"), 2),
        Paragraph(labels("batch_rule"), "muted"),
    )
    if ctx.record.batch_statistics:
        doc.add(statistics_table(ctx))
    else:
        doc.add(Paragraph(labels("none"), "muted"))
    if ctx.record.lot_statistics or ctx.record.lot_verdicts:
        doc.add(
            Heading(labels("lot_statistics"), 2),
            Paragraph(labels("lot_rule"), "muted"),
            lot_table(ctx),
        )
        for verdict in ctx.record.lot_verdicts:
            doc.add(
                Paragraph(
                    f"{labels('lot')} {verdict.lot}: {labels('lot_verdict')} "
                    f"{labels(verdict.verdict.value)} · {labels('consequence')} "
                    f"{labels(verdict.consequence)}"
                )
            )
    if plots:
        images = error_plots(ctx)
        if images:
            doc.add(Heading(labels("plots"), 2), *images)
    doc.add(Heading(labels("error_log"), 2))
    with_frames = [e for e in ctx.record.events if e.trace]
    if ctx.record.events:
        doc.add(events_table(ctx, ctx.record.events, frames=False))
        if with_frames:
            doc.add(Paragraph(labels("frames_in_appendix"), "muted"))
    else:
        doc.add(Paragraph(labels("none"), "muted"))
    doc.add(Heading(labels("personnel"), 2), personnel_fields(ctx), *integrity_blocks(ctx))
    if with_frames:
        doc.add(PageBreak(), Heading(labels("appendix_frames"), 2), events_table(ctx, with_frames))
    return doc


def lot_table(ctx: ReportContext) -> Table:
    labels = ctx.labels
    steps = {s.step_key: s for s in ctx.record.steps}
    rows = []
    for s in ctx.record.lot_statistics:
        step = steps.get(s.point)
        point = f"{labels.item(step.item)} {point_label(step.point, ctx.lang)}" if step else s.point
        rows.append(
            (
                cell(s.lot),
                cell(s.meter_type),
                cell(point),
                cell(labels("yes") if s.counted else labels("no")),
                cell(s.n),
                cell(fmt.with_unit(fmt.signed(s.rounded), s.unit)),
                cell(fmt.signed(s.mean)),
                cell(s.n_all),
                cell(fmt.signed(s.mean_all)),
                outcome_cell(ctx, s.verdict),
            )
        )
    return Table(
        (
            labels("lot"),
            labels("meter_type"),
            labels("point"),
            labels("counted"),
            labels("n"),
            labels("rounded"),
            labels("mean"),
            labels("n_all"),
            labels("mean_all"),
            labels("verdict"),
        ),
        tuple(rows),
        widths=(1.4, 1.2, 2.4, 0.8, 0.5, 1.0, 1.2, 0.8, 1.2, 0.9),
    )


def positions_table(ctx: ReportContext) -> Table:
    labels = ctx.labels
    rows = []
    for meter in ctx.meters:
        failed = ", ".join(
            f"{labels.item(s.step.item)} {point_label(s.step.point, ctx.lang)}"
            for s in meter.failed
        )
        kind = meter.document_kind
        document = f"{labels(kind)} {ctx.number_of(meter) or ''}".strip() if kind else ""
        rows.append(
            (
                cell(meter.position.position),
                cell(meter.position.serial_no or ""),
                cell(meter.position.meter_type),
                outcome_cell(ctx, meter.verdict()),
                outcome_cell(ctx, meter.verdict(LimitKind.ACCEPTANCE)),
                cell(failed),
                cell(document),
            )
        )
    return Table(
        (
            labels("position"),
            labels("serial_no"),
            labels("meter_type"),
            labels("legal_verdict"),
            labels("acceptance_verdict"),
            labels("failed_items"),
            labels("document"),
        ),
        tuple(rows),
        widths=(0.8, 1.6, 1.4, 1.2, 1.2, 2.6, 2.6),
    )


def items_table(ctx: ReportContext) -> Table:
    """Per step: how many meters passed, failed, or have no result, by limit kind."""
    labels = ctx.labels
    rows = []
    for step in steps_in_order(ctx.record):
        for kind in LimitKind:
            counts = Counter(
                c.outcome
                for c in ctx.record.conclusions
                if c.step_key == step.step_key and c.limit_kind is kind
            )
            if not counts:
                continue
            other = counts[Outcome.NO_RESULT] + counts[Outcome.ERROR]
            rows.append(
                (
                    cell(labels.item(step.item)),
                    cell(point_label(step.point, ctx.lang)),
                    cell(labels(kind.value)),
                    cell(counts[Outcome.PASS], "pass" if counts[Outcome.PASS] else ""),
                    cell(counts[Outcome.FAIL], "fail" if counts[Outcome.FAIL] else ""),
                    cell(other, "warn" if other else ""),
                )
            )
    return Table(
        (
            labels("item"),
            labels("point"),
            labels("limit_kind"),
            labels("count_pass"),
            labels("count_fail"),
            labels("count_other"),
        ),
        tuple(rows),
        widths=(2.2, 2.2, 1.8, 1.0, 1.0, 1.4),
    )


def statistics_table(ctx: ReportContext) -> Table:
    labels = ctx.labels
    steps = {s.step_key: s for s in ctx.record.steps}
    rows = []
    for b in ctx.record.batch_statistics:
        step = steps.get(b.step_key)
        point = (
            f"{labels.item(step.item)} {point_label(step.point, ctx.lang)}" if step else b.step_key
        )
        rows.append(
            (
                cell(b.meter_type),
                cell(point),
                cell(b.n),
                cell(fmt.with_unit(fmt.signed(b.mean), b.unit)),
                cell(fmt.plain(b.std)),
                cell(fmt.signed(b.minimum)),
                cell(fmt.signed(b.maximum)),
                outcome_cell(ctx, b.verdict),
            )
        )
    return Table(
        (
            labels("meter_type"),
            labels("point"),
            labels("n"),
            labels("mean"),
            labels("std"),
            labels("minimum"),
            labels("maximum"),
            labels("verdict"),
        ),
        tuple(rows),
        widths=(1.4, 2.6, 0.5, 1.3, 2.2, 1.0, 1.0, 1.0),
    )
