"""``meterbench run``, ``meterbench resume`` and ``meterbench demo``."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from meterbench.bench_open import runs_on_virtual_time
from meterbench.config.locate import BENCHES, METER_LISTS, PLANS, locate
from meterbench.inputs import humidity_problem, temperature_problem, time_scale_problem
from meterbench.results import ResultsStore, StoreError
from meterbench.results.connector import is_database_url
from meterbench.results.paths import default_db_path
from meterbench.runner.engine import RunError, Runner, RunOptions, prepare
from meterbench.runner.progress import LiveProgress, PlainProgress, summary_table
from meterbench.runner.recorded import recorded_virtual
from meterbench.sim import virtual_loop
from meterproto.dlt645.messages import Password

DEMO_BENCH = "sim-1p-24"
DEMO_PLAN = "jjg596-2012-initial"
DEMO_METERS = "sim-1p-24"

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Results database: an SQLite file or a lab's postgresql:// URL (default: "
        "$METERBENCH_DB or the user's data directory).",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    # One line however long (no wrapping at the terminal width): scripts and logs read it.
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"meterbench: {message}", markup=False
    )
    return typer.Exit(code)


def _password(text: str | None) -> Password:
    text = text or os.environ.get("METERBENCH_METER_PASSWORD") or "02:000000"
    level, _, digits = text.partition(":")
    try:
        return Password(int(level), digits)
    except (ValueError, TypeError) as exc:
        raise _fail(f"meter password must be LL:DDDDDD (level:6 digits): {exc}") from None


def _decimal(text: str | None, name: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _fail(f"{name} must be a number, got {text!r}") from None


def _ambient(
    temperature: str | None, humidity: str | None
) -> tuple[Decimal | None, Decimal | None]:
    """Room temperature and humidity as numbers a room can have (one line, exit 2, if not)."""
    t, h = _decimal(temperature, "--temperature"), _decimal(humidity, "--humidity")
    problem = temperature_problem(t) or humidity_problem(h)
    if problem:
        raise _fail(problem)
    return t, h


def _execute(options: RunOptions, resume: str | None, plain: bool) -> str:
    # Not on a terminal (a log, a pipe): no 80-column cut of the tables.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 400)
    problem = time_scale_problem(options.time_scale)
    if problem:
        raise _fail(problem)
    try:
        store = ResultsStore.open(options.db)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    try:
        positions: list[int] = []
        if resume is None:
            prepared = prepare(options)
            positions = [m.position for m in prepared.meters]
            virtual = runs_on_virtual_time(prepared.bench)
        else:
            virtual = recorded_virtual(store, resume)
        # A simulated bench runs in this process on virtual time: reproducible on any machine.
        go = virtual_loop.run if virtual else asyncio.run
        use_live = not plain and console.is_terminal and positions
        observer = LiveProgress(positions, console) if use_live else PlainProgress(console)
        runner = Runner(store, observer)
        try:
            if isinstance(observer, LiveProgress):
                with observer:
                    run_id = go(runner.start(options))
            else:
                run_id = go(runner.resume(resume, options) if resume else runner.start(options))
        except RunError as exc:
            raise _fail(str(exc), exc.exit_code) from None
        console.print(summary_table(store, run_id))
        return run_id
    except StoreError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()


BenchOption = Annotated[
    str, typer.Option("--bench", help="Bench config (.toml), or a shipped bench's name.")
]
PlanOption = Annotated[
    str, typer.Option("--plan", help="Test plan (.toml), or a shipped plan's name.")
]
MetersOption = Annotated[
    str, typer.Option("--meters", help="Meter list (.csv or .toml), or a shipped list's name.")
]


def run(
    bench: BenchOption,
    plan: PlanOption,
    meters: MetersOption,
    db: DbOption = None,
    verifier: Annotated[str | None, typer.Option(help="Verifier (检定员).")] = None,
    checker: Annotated[str | None, typer.Option(help="Checker (核验员).")] = None,
    task: Annotated[str | None, typer.Option(help="Task number.")] = None,
    temperature: Annotated[str | None, typer.Option(help="Room temperature, °C.")] = None,
    humidity: Annotated[str | None, typer.Option(help="Relative humidity, %.")] = None,
    time_scale: Annotated[
        float | None,
        typer.Option(
            help="Simulated benches only: at most this many simulated seconds per wall second "
            "(default: as fast as possible, on virtual time)."
        ),
    ] = None,
    meter_password: Annotated[
        str | None,
        typer.Option(
            help="LL:DDDDDD for writes (default $METERBENCH_METER_PASSWORD or 02:000000)."
        ),
    ] = None,
    plain: Annotated[bool, typer.Option(help="Line-by-line progress instead of a table.")] = False,
) -> None:
    """Verify every meter on a bench with a plan; exit 0 only when the run completed."""
    temperature_c, humidity_pct = _ambient(temperature, humidity)
    options = RunOptions(
        locate(bench, BENCHES),
        locate(plan, PLANS),
        locate(meters, METER_LISTS),
        db,
        verifier,
        checker,
        task,
        temperature_c,
        humidity_pct,
        time_scale,
        _password(meter_password),
    )
    run_id = _execute(options, None, plain)
    typer.echo(f"run {run_id} completed; records: meterbench report {run_id}")


def resume(
    run_id: Annotated[str, typer.Argument(help="The interrupted run.")],
    db: DbOption = None,
    time_scale: Annotated[float | None, typer.Option(help="Simulated benches only.")] = None,
    meter_password: Annotated[str | None, typer.Option(help="LL:DDDDDD for writes.")] = None,
) -> None:
    """Continue an interrupted run from its last stored step; nothing is lost or repeated."""
    options = RunOptions(
        Path("."),
        Path("."),
        Path("."),
        db,
        time_scale=time_scale,
        password=_password(meter_password),
    )
    _execute(options, run_id, plain=True)
    typer.echo(f"run {run_id} completed")


def demo(
    bench: BenchOption = DEMO_BENCH,
    plan: PlanOption = DEMO_PLAN,
    meters: MetersOption = DEMO_METERS,
    db: DbOption = None,
    out: Annotated[Path, typer.Option(help="Where the records and reports go.")] = Path(
        "meterbench-demo"
    ),
    time_scale: Annotated[
        float | None,
        typer.Option(
            help="At most this many simulated seconds per wall second (default: no limit)."
        ),
    ] = None,
    plain: Annotated[bool, typer.Option(help="Line-by-line progress.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Run it under the lab server and open the browser.")
    ] = False,
    port: Annotated[int, typer.Option(help="With --serve: the server's port.")] = 8000,
) -> None:
    """Run the default plan on the simulated 24-position bench, then write the reports.

    The run goes to the demo's own database in --out (printed, with the commands that find
    it again), or to --db or $METERBENCH_DB when given."""
    if problem := time_scale_problem(time_scale):
        raise _fail(problem)
    files = locate(bench, BENCHES), locate(plan, PLANS), locate(meters, METER_LISTS)
    out.mkdir(parents=True, exist_ok=True)
    database = db or os.environ.get("METERBENCH_DB") or str(out / "results.db")
    if not is_database_url(database):
        database = str(Path(database).resolve())  # printed for `runs`/`report` from anywhere
    if serve:
        from meterbench.web.demo import serve_demo

        serve_demo(database, *files, time_scale, port)
        return
    options = RunOptions(
        *files,
        database,
        verifier="demo",
        checker="demo",
        task="DEMO",
        temperature_c=Decimal("23.0"),
        humidity_pct=Decimal("45"),
        time_scale=time_scale,
    )
    run_id = _execute(options, None, plain)
    from meterbench.reports import render_run

    store = ResultsStore.open(database)
    try:
        paths = render_run(store, run_id, out / run_id, lang="zh")
        paths += render_run(store, run_id, out / run_id / "en", lang="en", formats=("html",))
    finally:
        store.close()
    batch = next((p for p in paths if p.name.startswith("batch") and p.suffix == ".html"), None)
    typer.echo(f"run {run_id} completed")
    for line in _where(database, run_id):
        typer.echo(line)
    typer.echo(f"records, certificates and reports: {(out / run_id).resolve()}")
    if batch is not None:
        typer.echo(f"batch report: {batch.resolve()}")
    sys.stdout.flush()


def _where(database: str, run_id: str) -> list[str]:
    """Where the demo stored its run and the exact commands that find it again: the demo
    keeps its own database (no sample run in the lab's records) unless told otherwise."""
    default = default_db_path()  # $METERBENCH_DB or the user's data directory
    if database == (default if is_database_url(default) else str(Path(default).resolve())):
        return [
            f"database: {database} (the default: `meterbench runs` lists the run)",
            f"  meterbench report {run_id}",
        ]
    quoted = shlex.quote(str(database))
    return [
        f"database: {database} (the demo's own, not the default one; give --db to find it)",
        f"  meterbench runs --db {quoted}",
        f"  meterbench report {run_id} --db {quoted}",
    ]


__all__ = ["default_db_path", "demo", "resume", "run"]
