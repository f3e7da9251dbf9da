"""``meterbench plan ...``: look at a plan's expansion without hardware."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from meterbench.config.errors import ConfigError
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_files
from meterbench.plan.render import render

plan_app = typer.Typer(
    help="Test plans: show what a plan does for a meter type.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PLANS_DIR = Path("bench_configs/plans")
METER_TYPES_DIR = Path("bench_configs/meter_types")


def _resolve(given: str, folder: Path) -> Path:
    """A path as given, or a bare name looked up in the usual folder (``jjg596-2012-initial``)."""
    path = Path(given)
    named = folder / f"{given}.toml"
    if not path.exists() and len(path.parts) == 1 and named.exists():
        return named
    return path


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
    plan: Annotated[str, typer.Argument(help="Plan file, or a plan name in bench_configs/plans.")],
    meter_type: Annotated[
        str,
        typer.Option(
            "--meter-type", "-m", help="Meter-type file, or a name in bench_configs/meter_types."
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
    try:
        expansion = expand_files(
            _resolve(plan, PLANS_DIR), _resolve(meter_type, METER_TYPES_DIR), bench
        )
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(expansion.to_json_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        render(expansion, Console(highlight=False, width=None if sys.stdout.isatty() else 120))
