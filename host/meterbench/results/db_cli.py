"""`meterbench db migrate`: bring a results database to this meterbench's schema.

A lab's PostgreSQL database is created empty by its administrator; this command applies the
numbered migrations (the same ones an SQLite file gets when it is opened), so bench workers
and the lab server find the current schema. Running it again changes nothing.
"""

from __future__ import annotations

from typing import Annotated

import typer

from meterbench.results.connector import open_connector
from meterbench.results.migrations import current_version
from meterbench.results.paths import default_db_path
from meterbench.results.store import ResultsStore

db_app = typer.Typer(
    name="db", help="The results database: schema migrations.", no_args_is_help=True
)


@db_app.command("migrate")
def migrate(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            "--db",
            help="postgresql://USER@HOST/DATABASE of the lab, or an SQLite file "
            "(default: $METERBENCH_DB or ~/.local/share/meterbench/results.db).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Apply the missing schema migrations; a newer schema is refused untouched (exit 2)."""
    location = url if url is not None else default_db_path()
    # A StoreError (unreachable server, newer schema) is the central handler's line, exit 2.
    connector = open_connector(location, create=True, read_only=False)
    try:
        before = current_version(connector)
    finally:
        connector.close()
    with ResultsStore.open(location) as store:
        after, where = store.schema_version, store.location
    if before == after:
        typer.echo(f"{where}: results schema version {after}, up to date")
    else:
        typer.echo(f"{where}: results schema version {before} -> {after}")
