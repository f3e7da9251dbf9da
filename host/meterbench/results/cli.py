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

from meterbench.config.errors import ConfigError
from meterbench.config.lab import lab_key, lab_public_key
from meterbench.results.display import run_view, runs_table
from meterbench.results.errors import UnsignableChainError
from meterbench.results.paths import default_db_path
from meterbench.results.signing import PublicKey
from meterbench.results.store import ResultsStore

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Results database: an SQLite file or a lab's postgresql:// URL (default: "
        "$METERBENCH_DB or ~/.local/share/meterbench/results.db).",
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
def _store(db: str | None, *, writing: bool = False) -> Iterator[ResultsStore]:
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


LabOption = Annotated[
    Path | None,
    typer.Option(
        "--lab",
        envvar="METERBENCH_LAB",
        help="Lab profile whose published key checks the signatures (default: $METERBENCH_LAB).",
        show_default=False,
    ),
]
PublicKeyOption = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="The lab's published key: ed25519:<base64>, or a file holding it or a PEM key.",
        show_default=False,
    ),
]


def trusted_key(lab: Path | None, public_key: str | None) -> PublicKey | None:
    """The lab's public key from --public-key (text or file) or --lab (a bad one is the
    central handler's one line, exit 2)."""
    if public_key:
        source = Path(public_key)
        text = source.read_text() if source.is_file() else public_key
        return PublicKey.parse(text)
    if lab is not None:
        return lab_public_key(lab)
    return None


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
    lab: LabOption = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Recompute a run's hash chain and check the lab's signatures; exit 1 naming the first
    altered row, removed rows or a signature that does not verify."""
    key = trusted_key(lab, public_key)
    with _store(db) as store:
        result = store.verify_run(run, expected_final_hash=expect, public_key=key)
    typer.echo(result.chain.summary())
    typer.echo(result.signatures.summary())
    if not result.ok:
        raise typer.Exit(1)


@records_app.command("sign")
def sign(
    run: RunArgument,
    lab: Annotated[
        Path, typer.Option("--lab", envvar="METERBENCH_LAB", help="Lab profile with the key.")
    ],
    db: DbOption = None,
) -> None:
    """Sign a run's current chain head with the lab's key (after records were appended to a
    closed run, or a run closed where the key was not at hand); the chain must verify."""
    key = lab_key(lab)
    if key is None:
        raise ConfigError(lab, "signing.key_file", "not set: this lab names no signing key")
    with _store(db, writing=True) as store:
        try:
            head = store.sign_head(run, key)
        except UnsignableChainError as exc:  # the record failed its check: not bad input
            typer.echo(f"meterbench: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"signed the head of {head.rows} rows ({head.final_hash}) with key {head.key_id}")
