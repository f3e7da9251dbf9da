"""Human-readable rendering of a plan expansion (the default output of ``plan show``)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table

from meterbench.plan.model import (
    BasicErrorStep,
    ClockStep,
    CommunicationStep,
    CreepStep,
    ErrorPoint,
    ManualStep,
    PlanExpansion,
    RegisterStep,
    StartingStep,
    StdDevStep,
    TimeSettingStep,
    WaterErrorStep,
)


def render(expansion: PlanExpansion, console: Console) -> None:
    """Print the expansion: a header, one table per step, then skipped items, warnings and the
    unconfirmed profile values it relies on."""
    _header(expansion, console)
    for step in expansion.steps:
        if isinstance(step, BasicErrorStep):
            _points_table(step.id, step.title, step.points, console)
            _not_applicable(step.skipped_points, console)
        elif isinstance(step, StdDevStep):
            _points_table(step.id, step.title, [p.point for p in step.points], console)
            for p in step.points:
                console.print(
                    f"  {p.point.key}: {p.readings} readings, s <= {p.limit} % "
                    f"(interval {p.std_dev_interval} %)"
                )
        elif isinstance(step, WaterErrorStep):
            _water_table(step, console)
        else:
            _key_values(step, console)
    if expansion.skipped:
        console.print("[bold]skipped items[/bold]")
        for skipped in expansion.skipped:
            console.print(f"  {skipped.id}: {skipped.reason}")
    for warning in expansion.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if expansion.unconfirmed:
        console.print("[bold]unconfirmed values used[/bold] (check against the official text):")
        console.print("  " + ", ".join(expansion.unconfirmed))
    console.print(
        f"estimated measuring time (no settling): {_hms(expansion.time.min_s)}"
        f" .. {_hms(expansion.time.max_s)}"
    )


def _header(expansion: PlanExpansion, console: Console) -> None:
    meter = expansion.meter_type
    table = Table(show_header=False, title="plan expansion", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("plan", f"{expansion.plan.id}: {expansion.plan.title}")
    table.add_row("regulation", f"{expansion.profile.id}: {expansion.profile.title}")
    if expansion.profile.overrides:
        table.add_row(
            "overrides", ", ".join(f"{k}={v}" for k, v in expansion.profile.overrides.items())
        )
    table.add_row("meter type", f"{meter['id']} (class {meter['class']}, {meter['kind']})")
    bench = expansion.bench
    if meter["kind"] == "electricity":
        table.add_row(
            "reference constant",
            "not given (N from the minimum reading time only)"
            if bench.reference_constant is None
            else f"{bench.reference_constant} imp/kWh",
        )
    table.add_row("batch mean <= 0 rule", "on" if expansion.batch_statistics else "off")
    console.print(table)


def _points_table(step_id: str, title: str, points: list[ErrorPoint], console: Console) -> None:
    voltages = sorted({str(p.voltage_v) for p in points})
    table = Table(title=f"{step_id}: {title} (U = {', '.join(voltages)} V)", title_justify="left")
    for column in (
        "dir",
        "el.",
        "current",
        "I A",
        "PF",
        "±MPE %",
        "±acc. %",
        "int. %",
        "N",
        "s/rdg",
        "rdgs",
        "time s",
    ):
        table.add_column(column, justify="right" if column[0] in "I±iNst" else "left")
    for p in points:
        readings = str(p.readings.base)
        if p.readings.max > p.readings.base:
            readings += f"+{p.readings.max - p.readings.base}"
        table.add_row(
            p.direction,
            p.element,
            p.current_expr + ("" if p.feasible else " [red](!)[/red]"),
            str(p.current_a),
            p.pf,
            str(p.limits.mpe),
            "-" if p.limits.acceptance is None else str(p.limits.acceptance),
            str(p.rounding_interval),
            str(p.pulses.pulses_per_reading),
            f"{p.pulses.reading_time_s:.1f}",
            readings,
            f"{p.time.min_s:.0f}",
        )
    console.print(table)


def _not_applicable(lines: list[str], console: Console) -> None:
    reasons: dict[str, int] = {}
    for line in lines:
        reason = line.split(": ", 1)[-1]
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        console.print(f"  [dim]{count} plan point(s) not for this meter: {reason}[/dim]")


def _water_table(step: WaterErrorStep, console: Console) -> None:
    table = Table(
        title=f"{step.id}: {step.title} (R = {step.ratio_r}, {step.orientation})",
        title_justify="left",
    )
    for column in (
        "point",
        "nominal L/h",
        "band L/h",
        "zone",
        "MPE ±%",
        "interval %",
        "runs",
        "volume L",
        "time s",
    ):
        table.add_column(column, justify="left" if column == "point" else "right")
    for p in step.points:
        table.add_row(
            p.key,
            str(p.nominal_l_h),
            f"{p.band_low_l_h} .. {p.band_high_l_h}",
            p.zone,
            str(p.limits.mpe),
            str(p.rounding_interval),
            str(p.runs),
            str(p.volume_l),
            str(p.duration_s),
        )
    console.print(table)


def _key_values(
    step: ManualStep
    | CreepStep
    | StartingStep
    | RegisterStep
    | ClockStep
    | CommunicationStep
    | TimeSettingStep,
    console: Console,
) -> None:
    table = Table(title=f"{step.id}: {step.title}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    skip = {"id", "title", "type", "why", "unconfirmed", "time"}
    for name, value in step.model_dump(mode="json").items():
        if name in skip:
            continue
        table.add_row(name, _value(value))
    if step.why.formula:
        table.add_row("formula", step.why.formula)
    console.print(table)


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


def _hms(seconds: Decimal) -> str:
    total = int(seconds)
    return f"{total // 3600} h {total % 3600 // 60:02d} min {total % 60:02d} s"
