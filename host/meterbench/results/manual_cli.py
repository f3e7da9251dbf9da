"""`meterbench record RUN --item ITEM (--position N | --all) (--pass | --fail)`: the outcome
of a manual item (visual inspection, AC voltage test, water tightness) as a named verifier
recorded it, appended to the run's hash chain.

Registered in `meterbench.cli`. The item must be a manual item of the plan for the meter at
that position; the run must still be open (a closed record takes no more rows). Every problem
is one line on stderr with exit status 2, and nothing is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, NoReturn

import typer

from meterbench.results.cli import DbOption, RunArgument, _store
from meterbench.results.kinds import Outcome
from meterbench.results.manual import planned_manual_items
from meterbench.results.models import ManualResult
from meterbench.results.record import RunRecord


class ManualInputError(Exception):
    """What the operator asked for does not fit the run."""


def manual_records(
    record: RunRecord,
    item: str,
    positions: list[int] | None,
    outcome: Outcome,
    verifier: str,
    note: str | None,
    at: datetime,
) -> list[ManualResult]:
    """The records for an item at the given positions (None: every position that has it)."""
    run_id = record.run.run_id
    known = {p.position: p for p in record.positions}
    wanted = sorted(known) if positions is None else positions
    out = []
    for number in wanted:
        position = known.get(number)
        if position is None:
            raise ManualInputError(
                f"run {run_id} has no position {number} (positions: "
                f"{', '.join(str(n) for n in sorted(known)) or 'none'})"
            )
        planned = {m.item for m in planned_manual_items(record, position.meter_type)}
        if item not in planned:
            if positions is None:
                continue
            raise ManualInputError(
                f"run {run_id}: the plan for meter type {position.meter_type} (position "
                f"{number}) has no manual item {item!r} (manual items: "
                f"{', '.join(sorted(planned)) or 'none'})"
            )
        out.append(
            ManualResult(
                run_id=run_id,
                position=number,
                item=item,
                at=at,
                outcome=outcome,
                verifier=verifier,
                note=note or None,
            )
        )
    if not out:
        raise ManualInputError(f"run {run_id}: no position has the manual item {item!r}")
    return out


def record(
    run: RunArgument,
    item: Annotated[
        str, typer.Option("--item", help="Manual item: visual, ac_voltage or tightness.")
    ],
    position: Annotated[
        list[int] | None, typer.Option("--position", help="Position number (repeatable).")
    ] = None,
    all_positions: Annotated[
        bool, typer.Option("--all", help="Every position whose plan has the item.")
    ] = False,
    passed: Annotated[
        bool | None, typer.Option("--pass/--fail", help="The outcome.", show_default=False)
    ] = None,
    verifier: Annotated[
        str | None,
        typer.Option("--verifier", help="Who carried it out (default: the run's verifier)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What was seen.")] = None,
    db: DbOption = None,
) -> None:
    """Record the outcome of a manual item (visual inspection, AC voltage test, tightness)."""
    if passed is None:
        _fail("say --pass or --fail")
    if bool(position) == all_positions:
        _fail("give --position N (repeatable) or --all")
    with _store(db, writing=True) as store:
        loaded = store.load_run(run)
        name = (verifier or loaded.run.verifier or "").strip()
        if not name:
            _fail(f"run {run} names no verifier: give --verifier NAME")
        records = manual_records(
            loaded,
            item,
            None if all_positions else list(position or []),
            Outcome.PASS if passed else Outcome.FAIL,
            name,
            note,
            datetime.now(UTC),
        )
        store.append(*records)
    for entry in records:
        typer.echo(
            f"position {entry.position}: {entry.item} {entry.outcome.value} ({entry.verifier})"
        )


def _fail(message: str) -> NoReturn:
    """Bad input: the ``meterbench`` command prints it on one line, exit status 2."""
    raise ManualInputError(message)
