"""The ``meterbench`` command: one entry point, one sub-command group per job."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from meterbench.config.errors import ConfigError
from meterbench.exit_codes import exit_code_help
from meterbench.firmware_tools.cli import app as firmware_app
from meterbench.lab_cli import lab_app
from meterbench.list_cli import list_app
from meterbench.meter_cli import meter_app, sim_app
from meterbench.plan.cli import plan_app
from meterbench.reports.cli import certificate, report
from meterbench.reports.errors import ReportError
from meterbench.results.cli import records_app, runs, show
from meterbench.results.db_cli import db_app
from meterbench.results.errors import StoreError
from meterbench.results.manual_cli import ManualInputError, record
from meterbench.runner.cli import demo, resume, run
from meterbench.runner.control_cli import abort, continue_, pause, take_out
from meterbench.selftest_cli import selftest
from meterbench.sim.serve import serve as sim_serve
from meterbench.web.cli import serve, user_app
from meterproto.decode import PROTOCOLS, decode_hex, json_safe

# What an operator can get wrong at the door: a bad file, an unusable or unknown database or
# run, a report that cannot be made, a manual result that does not fit the run.
_BAD_INPUT = (ConfigError, StoreError, ReportError, ManualInputError)


def one_line(exc: BaseException) -> str:
    """The problem on one line (logs and scripts read one line per error)."""
    if isinstance(exc, ConfigError):
        return exc.one_line()
    return " ".join(str(exc).split()) or type(exc).__name__


class _Commands(TyperGroup):
    """Every command reports bad input here, the one way: one line naming the problem (the
    file and the field for a config) on stderr after one prefix, exit status 2."""

    def invoke(self, ctx: Any) -> Any:  # the click Context typer vendors (not public)
        try:
            return super().invoke(ctx)
        except _BAD_INPUT as exc:
            sys.stdout.flush()
            sys.stderr.write(f"meterbench: {one_line(exc)}\n")
            raise typer.Exit(2) from None


app = typer.Typer(
    name="meterbench",
    cls=_Commands,
    help="Automatic verification of electricity and water meters on test benches.\n\n"
    + exit_code_help(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        from meterbench import __version__

        typer.echo(f"meterbench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Automatic verification of electricity and water meters on test benches."""


@app.command()
def decode(
    frames: Annotated[
        list[str] | None,
        typer.Argument(
            help="Hex frames, one per argument (quote frames written with spaces). "
            "Without arguments, one frame per line is read from stdin."
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option(
            "--protocol",
            "-p",
            help="auto, dlt645 (edition from the function code), dlt645-2007, dlt645-1997, "
            "cjt188, dlt698 or link.",
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per frame.")] = False,
) -> None:
    """Decode DL/T 645, CJ/T 188, DL/T 698.45 or controller-link frames given in hex."""
    if protocol not in PROTOCOLS:
        raise typer.BadParameter(f"choose one of {', '.join(PROTOCOLS)}", param_hint="--protocol")
    lines = frames if frames else [line for line in sys.stdin.read().splitlines() if line.strip()]
    results = [decode_hex(line, protocol) for line in lines]
    if as_json:
        for result in results:
            sys.stdout.write(
                json.dumps(json_safe(result), ensure_ascii=False, allow_nan=False) + "\n"
            )
    else:
        _print_decoded(results)
    if not results or not all(r["valid"] for r in results):
        raise typer.Exit(1)


def _print_decoded(results: list[dict[str, object]]) -> None:
    console = Console(highlight=False)
    for index, result in enumerate(results, 1):
        table = Table(
            title=f"frame {index}: {result.get('protocol')}",
            show_header=False,
            title_justify="left",
        )
        table.add_column("field", style="bold")
        table.add_column("value")
        for key, value in result.items():
            if key in ("protocol",):
                continue
            if key == "control" and isinstance(value, int):
                value = f"{value:02X}H"
            if key == "function" and isinstance(value, int):
                value = f"{value:02X}H"
            table.add_row(
                key,
                json.dumps(value, ensure_ascii=False)
                if isinstance(value, list | dict)
                else str(value),
            )
        console.print(table)


app.command("run")(run)
app.command("resume")(resume)
app.command("demo")(demo)
app.command("abort")(abort)
app.command("pause")(pause)
app.command("continue")(continue_)
app.command("take-out")(take_out)
app.command("selftest")(selftest)
app.command("runs")(runs)
app.command("show")(show)
app.command("report")(report)
app.command("certificate")(certificate)
app.command("record")(record)
app.add_typer(records_app, name="records")
app.add_typer(db_app, name="db")
app.add_typer(lab_app, name="lab")
app.add_typer(firmware_app, name="firmware")
app.add_typer(meter_app, name="meter")
sim_app.command("serve")(sim_serve)
app.add_typer(sim_app, name="sim")
app.add_typer(plan_app, name="plan")
app.add_typer(list_app, name="list")
app.command("serve")(serve)
app.add_typer(user_app, name="user")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
