"""Rich tables for `meterbench runs` and `meterbench show`: reading only, from stored records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table

from meterbench.results.kinds import LimitKind, Outcome
from meterbench.results.models import Conclusion, Position
from meterbench.results.record import RunRecord, RunSummary

HASH_PREFIX = 12


def when(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else ""


def number(value: Decimal | None) -> str:
    """Signed like the records print errors: '+0.10', '-0.3', '0.0' (zero has no sign)."""
    if value is None:
        return ""
    return f"+{value}" if value > 0 else str(abs(value) if value == 0 else value)


def _columns(table: Table, *names: str, right: tuple[str, ...] = ("pos", "meters", "n")) -> None:
    """Columns that fold rather than cut: an id or a hash cut short is useless."""
    for name in names:
        table.add_column(name, justify="right" if name in right else "left", overflow="fold")


def runs_table(summaries: Iterable[RunSummary]) -> Table:
    summaries = list(summaries)
    table = Table(title="runs", title_justify="left", box=box.SIMPLE_HEAD)
    widest = max((len(s.run_id) for s in summaries), default=3)
    table.add_column("run", no_wrap=True, min_width=widest)
    _columns(table, "started", "bench", "plan", "status", "meters")
    table.add_column("final hash", no_wrap=True, min_width=HASH_PREFIX)
    for s in summaries:
        table.add_row(
            s.run_id,
            s.started_at.strftime("%Y-%m-%d %H:%M"),
            s.bench,
            s.plan,
            s.status.value if s.status else "",
            str(s.meters),
            s.final_hash[:HASH_PREFIX],
        )
    return table


def overall(conclusions: Iterable[Conclusion]) -> str:
    """A meter's legal verdict so far: from its MPE conclusions only."""
    outcomes = {c.outcome for c in conclusions if c.limit_kind is LimitKind.MPE}
    for worst in (Outcome.ERROR, Outcome.FAIL, Outcome.NO_RESULT, Outcome.PASS):
        if worst in outcomes:
            return worst.value
    return ""


def run_view(record: RunRecord) -> RenderableType:
    return Group(
        _head(record),
        _positions(record),
        _results(record),
        *([_events(record)] if record.events else []),
        *([_batch(record)] if record.batch_statistics else []),
        *([_manual(record)] if record.manual_results else []),
        *([_lots(record)] if record.lot_statistics else []),
    )


def _head(record: RunRecord) -> Table:
    run, env = record.run, record.run.environment
    table = Table(title=f"run {run.run_id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    conditions = ", ".join(
        part
        for part in (
            f"{env.temperature_c} °C" if env.temperature_c is not None else "",
            f"{env.humidity_pct} %RH" if env.humidity_pct is not None else "",
            env.place or "",
        )
        if part
    )
    regulation = run.regulation + (f" ({run.regulation_version})" if run.regulation_version else "")
    rows = [
        ("status", record.status.value if record.status else ""),
        ("started", when(run.started_at)),
        ("finished", when(record.finished_at)),
        ("bench", run.bench),
        ("plan", run.plan),
        ("regulation", regulation),
        ("software", run.software_version),
        ("verifier", run.verifier or ""),
        ("checker", run.checker or ""),
        ("task", run.task or ""),
        ("environment", conditions),
        ("snapshots", ", ".join(sorted(record.snapshots))),
        ("final hash", record.final_hash),
    ]
    for name, value in rows:
        if value:
            table.add_row(name, value)
    return table


def _positions(record: RunRecord) -> Table:
    table = Table(title="meters", title_justify="left")
    _columns(table, "pos", "serial", "asset", "type", "address", "verdict")
    for p in record.positions:
        table.add_row(*_position_cells(p), overall(record.conclusions_for(p.position)))
    return table


def _position_cells(p: Position) -> tuple[str, ...]:
    return (str(p.position), p.serial_no or "", p.asset_no or "", p.meter_type, p.address or "")


def _results(record: RunRecord) -> Table:
    steps = {s.step_key: s for s in record.steps}
    table = Table(title="results", title_justify="left")
    _columns(table, "pos", "item", "point", "readings", "mean", "rounded", "limits", "outcome")
    for c in sorted(
        record.conclusions,
        key=lambda c: (c.position, steps[c.step_key].ordinal if c.step_key in steps else 0),
    ):
        step = steps.get(c.step_key)
        readings = " ".join(number(r.value) for r in record.readings_for(c.position, c.step_key))
        limits = ""
        if c.lower is not None or c.upper is not None:
            limits = f"[{number(c.lower)}, {number(c.upper)}] {c.limit_kind.value}"
        outcome = c.outcome.value + (f": {c.reason}" if c.reason else "")
        table.add_row(
            str(c.position),
            step.item if step else "",
            step.point if step else c.step_key,
            readings,
            number(c.mean),
            number(c.rounded),
            limits,
            outcome,
        )
    return table


def _events(record: RunRecord) -> Table:
    table = Table(title="error log", title_justify="left")
    _columns(table, "time", "severity", "pos", "kind", "message")
    for e in record.events:
        count = len(e.trace)
        frames = f" ({count} frame{'s' if count > 1 else ''} attached)" if count else ""
        position = "" if e.position is None else str(e.position)
        table.add_row(when(e.at), e.severity.value, position, e.kind, e.message + frames)
    return table


def _batch(record: RunRecord) -> Table:
    table = Table(title="batch statistics", title_justify="left")
    _columns(table, "type", "step", "n", "mean", "std", "min", "max", "verdict")
    for b in record.batch_statistics:
        table.add_row(
            b.meter_type,
            b.step_key,
            str(b.n),
            number(b.mean),
            "" if b.std is None else str(b.std),
            number(b.minimum),
            number(b.maximum),
            b.verdict.value,
        )
    return table


def _manual(record: RunRecord) -> Table:
    table = Table(title="manual items", title_justify="left")
    _columns(table, "time", "pos", "item", "outcome", "verifier", "note")
    for m in sorted(record.manual_results, key=lambda m: (m.position, m.at)):
        table.add_row(
            when(m.at), str(m.position), m.item, m.outcome.value, m.verifier, m.note or ""
        )
    return table


def _lots(record: RunRecord) -> Table:
    table = Table(title="lot statistics (accepted meters)", title_justify="left")
    _columns(table, "lot", "type", "point", "counted", "n", "mean", "rounded", "n all", "mean all")
    for s in record.lot_statistics:
        table.add_row(
            s.lot,
            s.meter_type,
            s.point,
            "yes" if s.counted else "no",
            str(s.n),
            number(s.mean),
            number(s.rounded),
            str(s.n_all),
            number(s.mean_all),
        )
    for v in record.lot_verdicts:
        table.add_row(v.lot, "", "lot verdict", "", "", "", v.verdict.value, "", v.consequence)
    return table
