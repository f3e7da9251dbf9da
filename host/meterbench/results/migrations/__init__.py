"""Numbered schema migrations: a database is brought forward one version at a time.

Each migration is a list of portable DDL statements plus a version row in
``meterbench_schema``, applied in one transaction. A database newer than the code is refused
untouched (``SchemaTooNewError``); an older one is upgraded on open. Released migrations never
change: a new schema is a new numbered module appended to ``MIGRATIONS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from meterbench.results.connector import Connector
from meterbench.results.errors import NotAResultsDatabaseError, SchemaTooNewError
from meterbench.results.migrations import (
    m0001_initial,
    m0002_manual_and_lots,
    m0003_signatures,
    m0004_users_and_signoff,
)
from meterbench.results.schema import SCHEMA_TABLE


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, m0001_initial.DESCRIPTION, m0001_initial.STATEMENTS),
    Migration(2, m0002_manual_and_lots.DESCRIPTION, m0002_manual_and_lots.STATEMENTS),
    Migration(3, m0003_signatures.DESCRIPTION, m0003_signatures.STATEMENTS),
    Migration(4, m0004_users_and_signoff.DESCRIPTION, m0004_users_and_signoff.STATEMENTS),
)

_VERSION_TABLE = f"""
CREATE TABLE {SCHEMA_TABLE} (
    version INTEGER NOT NULL PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


def current_version(db: Connector) -> int:
    """Schema version of the database: 0 when empty, error when it holds something else."""
    tables = db.table_names()
    if SCHEMA_TABLE not in tables:
        if tables:
            raise NotAResultsDatabaseError(db.location)
        return 0
    rows = db.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}")
    version = rows[0][0]
    return version if isinstance(version, int) else 0


def upgrade(db: Connector, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Refuse a newer database, apply the missing migrations; return the resulting version."""
    latest = migrations[-1].version if migrations else 0
    found = current_version(db)
    if found > latest:
        raise SchemaTooNewError(db.location, found, latest)
    if found == latest:
        return found
    with db.write():
        db.lock("schema")
        # Re-read under the write lock: another process may have migrated meanwhile.
        found = current_version(db)
        if found > latest:
            raise SchemaTooNewError(db.location, found, latest)
        if found == 0 and SCHEMA_TABLE not in db.table_names():
            db.execute(_VERSION_TABLE)
        for migration in migrations:
            if migration.version <= found:
                continue
            for statement in migration.statements:
                db.execute(statement)
            db.execute(
                f"INSERT INTO {SCHEMA_TABLE} (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, datetime.now(UTC).isoformat()),
            )
    return latest
