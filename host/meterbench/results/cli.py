"""`meterbench runs`, `meterbench show RUN` and `meterbench records verify RUN`.

Registered in `meterbench.cli`. Errors (no database, unknown run, corrupt file) are StoreErrors,
which the ``meterbench`` command prints as every other bad input (one line, exit status 2); a
broken chain is a result, printed with exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from meterbench.results.display import run_view, runs_table
from meterbench.results.paths import default_db_path
from meterbench.results.store import ResultsStore

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Results database (default: $METERBENCH_DB or ~/.local/share/meterbench/results.db).",
        show_default=False,
    ),
]
RunArgument = Annotated[str, typer.Argument(help="Run id, as listed by `meterbench runs`.")]

records_app = typer.Typer(
    name="records",
    help="Original verification records: check their tamper evidence.",
    no_args_is_help=True,
)


def _console() -> Console:
    """A terminal gets its own width; a pipe or a log gets whole lines (ids never folded)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


@contextmanager
def _store(db: Path | None, *, writing: bool = False) -> Iterator[ResultsStore]:
    """Open an existing database (for reading unless ``writing``); StoreError if it is not
    there or not usable."""
    with ResultsStore.open(
        db if db is not None else default_db_path(), create=False, read_only=not writing
    ) as s:
        yield s


def runs(db: DbOption = None) -> None:
    """List the runs in the results database."""
    with _store(db) as store:
        summaries = store.list_runs()
        location = store.location
    if not summaries:
        typer.echo(f"no runs in {location}")
        return
    _console().print(runs_table(summaries))


def show(
    run: RunArgument,
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Every stored row as JSON (numbers as exact text).")
    ] = False,
) -> None:
    """Show one run: meters, every reading, conclusions, error log, batch statistics."""
    with _store(db) as store:
        record = store.load_run(run)
    if as_json:
        sys.stdout.write(json.dumps(record.to_plain(), ensure_ascii=False, indent=2) + "\n")
        return
    _console().print(run_view(record))


@records_app.command("verify")
def verify(
    run: RunArgument,
    db: DbOption = None,
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            help="The final hash printed on a record or certificate: also proves nothing was "
            "removed from or added to the end.",
        ),
    ] = None,
) -> None:
    """Recompute a run's hash chain; exit 1 naming the first altered row."""
    with _store(db) as store:
        report = store.verify_chain(run, expected_final_hash=expect)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)
