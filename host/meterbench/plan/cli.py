"""``meterbench plan ...``: look at a plan's expansion without hardware."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.console import Console

from meterbench.config.locate import METER_TYPES, PLANS, locate
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_files
from meterbench.plan.model import PlanExpansion
from meterbench.plan.render import _hms, render

plan_app = typer.Typer(
    help="Test plans: show what a plan does for a meter type.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _decimal(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"not a number: {value!r}", param_hint=option) from None
    if not number.is_finite() or number <= 0:
        raise typer.BadParameter("must be a positive number", param_hint=option)
    return number


@plan_app.command("show")
def show(
    plan: Annotated[str, typer.Argument(help="Plan file, or the name of a shipped plan.")],
    meter_type: Annotated[
        str,
        typer.Option(
            "--meter-type", "-m", help="Meter-type file, or the name of a shipped meter type."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    reference_constant: Annotated[
        str | None,
        typer.Option("--reference-constant", help="C0 of the reference standard, imp/kWh."),
    ] = None,
    k_i: Annotated[
        str, typer.Option("--k-i", help="Current-transformer ratio of the standard's connection.")
    ] = "1",
    k_u: Annotated[
        str, typer.Option("--k-u", help="Voltage-transformer ratio of the standard's connection.")
    ] = "1",
    max_current: Annotated[
        str | None, typer.Option("--max-current", help="Source's largest current, A.")
    ] = None,
    max_voltage: Annotated[
        str | None, typer.Option("--max-voltage", help="Source's largest voltage, V.")
    ] = None,
) -> None:
    """Expand PLAN for a meter type and print currents, PF, voltages, durations, pulses per
    reading, readings, limits and rounding intervals, with the reasons for each."""
    bench = BenchContext(
        reference_constant=_decimal(reference_constant, "--reference-constant"),
        k_i=_decimal(k_i, "--k-i") or Decimal(1),
        k_u=_decimal(k_u, "--k-u") or Decimal(1),
        max_current_a=_decimal(max_current, "--max-current"),
        max_voltage_v=_decimal(max_voltage, "--max-voltage"),
    )
    expansion = expand_files(locate(plan, PLANS), locate(meter_type, METER_TYPES), bench)
    if as_json:
        sys.stdout.write(json.dumps(expansion.to_json_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
        render(expansion, console)
        _scheduled(expansion, console)


def _scheduled(expansion: PlanExpansion, console: Console) -> None:
    """The run time the schedule gives (items overlapped where the plan data allows)."""
    from meterbench.runner.schedule import plan_overlaps, plan_seconds

    sequential = Decimal(str(plan_seconds(expansion, False)))
    overlapped = Decimal(str(plan_seconds(expansion)))
    if overlapped < sequential:
        console.print(
            f"scheduled measuring time ({'; '.join(plan_overlaps(expansion))}): "
            f"{_hms(overlapped)} (in plan order: {_hms(sequential)})",
            soft_wrap=True,
        )
