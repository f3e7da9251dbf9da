"""``meterbench selftest``: the commissioning checks for an operator, as a per-position table.

A simulated bench (a bench file with [sim]) is started by ``open_bench`` and checked through
its lines like a real one, in this process on virtual time (as ``run`` does) when its kind
can; a real bench is opened as configured. Exit status 0 only when
nothing failed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from meterbench.bench_open import open_bench, runs_on_virtual_time
from meterbench.config.bench import BenchConfig, load_bench
from meterbench.config.locate import BENCHES, METER_LISTS, locate
from meterbench.inputs import positive_problem, time_scale_problem
from meterbench.selftest import (
    Check,
    MeterInfo,
    Options,
    Report,
    check_bench,
    listed_meters,
    simulated_meters,
)
from meterbench.sim import virtual_loop

_MARK = {True: "ok", False: "FAIL", None: "skipped"}


async def _run(
    config: BenchConfig,
    bench_path: Path,
    meters_path: Path | None,
    options: Options,
    time_scale: float | None,
) -> Report:
    meters: dict[int, MeterInfo] = listed_meters(meters_path) if meters_path else {}
    async with open_bench(config, bench_path, time_scale) as bench:
        if not meters and bench.simulator is not None:
            meters = simulated_meters(bench.simulator)
        return await check_bench(bench.config, bench.clock, meters, options)


def _devices_table(report: Report) -> Table:
    table = Table(title=f"bench {report.bench}", title_justify="left")
    for column in ("check", "device", "result", "detail"):
        table.add_column(column)
    for check in report.checks:
        if check.position is None:
            table.add_row(check.kind, check.subject, _MARK[check.passed], check.detail)
    return table


def _positions_table(report: Report, config: BenchConfig) -> Table:
    table = Table(title="positions", title_justify="left")
    for column in ("pos", "controller", "bus", "pulses", "meter port", "result"):
        table.add_column(column)
    by: dict[tuple[int, str], Check] = {
        (c.position, c.kind): c for c in report.checks if c.position is not None
    }
    for p in config.positions:
        found = [by.get((p.number, kind)) for kind in ("pulses", "meter_port")]
        cells = [f"{_MARK[c.passed]}: {c.detail}" if c else "-" for c in found]
        failed = any(c is not None and c.passed is False for c in found)
        table.add_row(
            str(p.number),
            f"{p.controller}/{p.channel}",
            p.bus or "-",
            *cells,
            "FAIL" if failed else "ok",
        )
    return table


def selftest(
    bench: Annotated[
        str, typer.Option("--bench", help="Bench config (.toml), or a shipped bench's name.")
    ],
    meters: Annotated[
        str | None,
        typer.Option("--meters", help="Meter list: addresses and types (real benches)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    current: Annotated[float | None, typer.Option(help="Test current, A (default Ib).")] = None,
    voltage: Annotated[float | None, typer.Option(help="Test voltage, V (default Un).")] = None,
    tolerance: Annotated[
        float, typer.Option(help="Largest pulse error of a position, %.")
    ] = Options.tolerance_pct,
    time_scale: Annotated[
        float | None, typer.Option(help="Simulated benches only: simulated s per wall s.")
    ] = None,
) -> None:
    """Check a bench before use: controllers, pulse inputs, meter ports, source, clock input."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    problem = (
        time_scale_problem(time_scale)
        or positive_problem(current, "--current", "A")
        or positive_problem(voltage, "--voltage", "V")
        or positive_problem(tolerance, "--tolerance", "%")
    )
    if problem:
        err.print(f"meterbench: {problem}", markup=False)
        raise typer.Exit(2)
    bench_path = locate(bench, BENCHES)
    meters_path = locate(meters, METER_LISTS) if meters is not None else None
    config = load_bench(bench_path)
    options = Options(voltage_v=voltage, current_a=current, tolerance_pct=tolerance)
    go = virtual_loop.run if runs_on_virtual_time(config) else asyncio.run
    report = go(_run(config, bench_path, meters_path, options, time_scale))
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, default=str))
    else:
        console = Console(highlight=False)
        console.print(_devices_table(report))
        console.print(_positions_table(report, config))
        failures = report.failures()
        verdict = "all checks passed" if not failures else f"{len(failures)} check(s) failed"
        console.print(f"selftest of {report.bench}: {verdict}")
    raise typer.Exit(0 if report.passed else 1)
