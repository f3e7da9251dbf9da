"""``meterbench abort / pause / continue / take-out``: an operator's requests to a run.

They work from any terminal that can open the run's database: the request is appended to
the run's record (``runner.control``) and the running process acts on it between points. An
interrupted run (no process runs it) is aborted at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from meterbench.clock import local_now
from meterbench.results import ResultsStore, RunStatus, StoreError
from meterbench.results.paths import default_db_path
from meterbench.runner.cli import DbOption, _fail
from meterbench.runner.control import ABORT, CONTINUE, PAUSE, TAKE_OUT, request

RunArgument = Annotated[str, typer.Argument(help="Run id, as listed by `meterbench runs`.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the run's record).")]


def _open(db: str | None, run_id: str) -> tuple[ResultsStore, RunStatus]:
    try:
        store = ResultsStore.open(db if db is not None else default_db_path(), create=False)
        status = store.status(run_id)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    if status is None:
        store.close()
        raise _fail(f"no run {run_id} in {store.location}")
    return store, status


def _running(store: ResultsStore, run_id: str, status: RunStatus, what: str) -> None:
    if status is not RunStatus.RUNNING:
        store.close()
        raise _fail(f"run {run_id} is {status.value}; only a running run can be {what}")


def abort(
    run: RunArgument, reason: ReasonOption = "aborted by the operator", db: DbOption = None
) -> None:
    """End a run for good: outputs safe, status aborted, no certificate."""
    store, status = _open(db, run)
    try:
        if status.closed:
            raise _fail(f"run {run} is already {status.value}")
        if status is RunStatus.INTERRUPTED:
            request(store, run, ABORT, reason)
            store.set_status(run, RunStatus.ABORTED, local_now(), reason)
            typer.echo(f"run {run} aborted")
            return
        request(store, run, ABORT, reason)
        typer.echo(f"run {run}: abort requested; the running process switches off and ends it")
    finally:
        store.close()


def pause(
    run: RunArgument, reason: ReasonOption = "paused by the operator", db: DbOption = None
) -> None:
    """Pause a running run before its next point (outputs safe while paused)."""
    store, status = _open(db, run)
    try:
        _running(store, run, status, "paused")
        request(store, run, PAUSE, reason)
        typer.echo(f"run {run}: pause requested; 'meterbench continue {run}' goes on")
    finally:
        store.close()


def continue_(run: RunArgument, db: DbOption = None) -> None:
    """Let a paused run go on."""
    store, status = _open(db, run)
    try:
        _running(store, run, status, "continued")
        request(store, run, CONTINUE, "continued by the operator")
        typer.echo(f"run {run}: continue requested")
    finally:
        store.close()


def take_out(
    run: RunArgument,
    position: Annotated[int, typer.Option("--position", help="The position to take out.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the record).")],
    db: DbOption = None,
) -> None:
    """Take one position out of a running batch: no result for its remaining points."""
    store, status = _open(db, run)
    try:
        _running(store, run, status, "changed")
        positions = {p.position for p in store.positions(run)}
        if position not in positions:
            raise _fail(f"run {run} has no position {position} (it has {sorted(positions)})")
        request(store, run, TAKE_OUT, reason, position=position)
        typer.echo(f"run {run}: position {position} taken out from its next point on")
    finally:
        store.close()


__all__ = ["abort", "continue_", "pause", "take_out"]
