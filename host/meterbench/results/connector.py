"""The database seam: everything dialect-specific about the results store lives here.

The store speaks a small portable SQL (CREATE TABLE with TEXT/INTEGER columns, INSERT, SELECT
with WHERE/ORDER BY/LIMIT, scalar sub-queries) with ``?`` placeholders, and needs five things
from a connector:

- ``execute(sql, params)`` returning all result rows as tuples;
- ``write()``: a write transaction; ``lock(name)`` inside it serializes every writer that
  takes the same name until the transaction ends, so an append reads its run's chain head and
  inserts atomically (SQLite: ``BEGIN IMMEDIATE`` already holds the one write lock, so
  ``lock`` has nothing left to do; PostgreSQL: a transaction-scoped advisory lock per name);
- ``snapshot()``: a read transaction with one consistent view for multi-query reads;
- ``table_names()`` and ``install_append_only_guards(tables)``;
- ``integrity_check()`` and ``close()``.

PRAGMAs and SQLite triggers stay in this module; PostgreSQL is `connector_pg.py`, and
`open_connector` picks one by the location given (a path, or a ``postgresql://`` URL).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from meterbench.results.errors import (
    CorruptDatabaseError,
    DatabaseGoneError,
    DatabaseMissingError,
    MissingReferenceError,
    StoreError,
)

Params = Sequence[object]


class Connector(Protocol):
    """What the store needs from a database (see the module docstring)."""

    dialect: str
    location: str

    def execute(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]: ...

    def write(self) -> AbstractContextManager[None]: ...

    def lock(self, name: str) -> None: ...

    def snapshot(self) -> AbstractContextManager[None]: ...

    def table_names(self) -> set[str]: ...

    def install_append_only_guards(self, tables: Iterable[str]) -> None: ...

    def integrity_check(self) -> list[str]: ...

    def close(self) -> None: ...


class SQLiteConnector:
    """One SQLite file in WAL mode with full fsync on every commit.

    WAL + ``synchronous=FULL`` make each committed append durable against power loss and
    process kills, while readers (``meterbench runs``/``show``) never block the writing run.
    The connection may be used from a worker thread (e.g. ``asyncio.to_thread``); a lock keeps
    one transaction at a time.

    ``read_only`` opens with ``mode=ro`` and changes nothing, not even the journal mode; on
    media nobody may write (an auditor's copy) it adds ``immutable=1``, since SQLite cannot
    create the WAL's shared-memory file there. Every write transaction first checks that the
    path still names the file that was opened: SQLite would otherwise go on writing into a
    deleted or replaced file.
    """

    dialect = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool,
        busy_timeout_s: float = 30.0,
        read_only: bool = False,
    ) -> None:
        self.location = str(path)
        self.read_only = read_only
        file = Path(path)
        if not file.exists():
            if not create or read_only:
                raise DatabaseMissingError(self.location)
            file.parent.mkdir(parents=True, exist_ok=True)
        elif file.is_dir():
            raise CorruptDatabaseError(self.location, "it is a directory")
        self._file = file
        self._lock = threading.RLock()
        target: str | Path = _read_only_uri(file) if read_only else file
        try:
            self._conn = sqlite3.connect(
                target,
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout_s,
                uri=read_only,
            )
        except sqlite3.Error as exc:
            raise CorruptDatabaseError(self.location, str(exc)) from None
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if not read_only:
                self._conn.execute("PRAGMA journal_mode = WAL").fetchall()
                self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise CorruptDatabaseError(self.location, str(exc)) from None
        self._identity = _identity(file)

    def _check_still_there(self) -> None:
        """DatabaseGoneError when the path no longer names the file this connection has."""
        now = _identity(self._file)
        if now is None:
            raise DatabaseGoneError(self.location, "deleted or moved away")
        if now != self._identity:
            raise DatabaseGoneError(self.location, "replaced by another file")

    def execute(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.IntegrityError as exc:
                raise MissingReferenceError(f"the database refused a row: {exc}") from None
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.location}: {exc}") from None
            except sqlite3.DatabaseError as exc:
                raise CorruptDatabaseError(self.location, str(exc)) from None

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        with self._lock:
            self.execute(begin)
            try:
                yield
                self.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def write(self) -> AbstractContextManager[None]:
        if self.read_only:
            raise StoreError(f"{self.location} is open only for reading")
        self._check_still_there()
        return self._transaction("BEGIN IMMEDIATE")

    def lock(self, name: str) -> None:
        """Nothing to add: ``BEGIN IMMEDIATE`` holds the database's only write lock."""

    def snapshot(self) -> AbstractContextManager[None]:
        return self._transaction("BEGIN")

    def table_names(self) -> set[str]:
        rows = self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}

    def install_append_only_guards(self, tables: Iterable[str]) -> None:
        """Triggers that make UPDATE and DELETE fail: the store never issues either.

        They stop mistakes, not a determined editor (who can drop them): the hash chain is
        what detects that.
        """
        rows = self.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {str(name) for (name,) in rows}
        wanted = [
            (f"{table}_no_{action.lower()}", table, action)
            for table in tables
            for action in ("UPDATE", "DELETE")
        ]
        missing = [guard for guard in wanted if guard[0] not in present]
        if not missing:
            return
        with self.write():
            for name, table, action in missing:
                self.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {action} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'results are append-only'); END"
                )

    def integrity_check(self) -> list[str]:
        """SQLite's own check: ``["ok"]`` for a sound file."""
        return [str(row[0]) for row in self.execute("PRAGMA integrity_check")]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _identity(file: Path) -> tuple[int, int] | None:
    """(device, inode) of the file the path names now; None when there is none."""
    try:
        st = os.stat(file)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _writable(file: Path) -> bool:
    """Can this process change the file and create its journal files beside it?"""
    return os.access(file, os.W_OK) and os.access(file.parent, os.W_OK)


def _read_only_uri(file: Path) -> str:
    """``mode=ro``; plus ``immutable=1`` on media nobody may write, unless a write-ahead log
    lies beside the file (immutable would ignore its rows; SQLite reads it read-only)."""
    uri = f"{file.resolve().as_uri()}?mode=ro"
    wal = file.with_name(file.name + "-wal")
    has_log = wal.exists() and wal.stat().st_size > 0
    if not _writable(file) and not has_log:
        uri += "&immutable=1"
    return uri


URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: str | Path | None) -> bool:
    """Does ``location`` name a database server (``postgresql://...``) rather than a file?"""
    return isinstance(location, str) and location.lower().startswith(URL_SCHEMES)


def open_connector(location: str | Path, *, create: bool, read_only: bool) -> Connector:
    """The connector for a location: a ``postgresql://`` URL or an SQLite file path."""
    if is_database_url(location):
        from meterbench.results.connector_pg import PostgresConnector

        return PostgresConnector(str(location), read_only=read_only)
    return SQLiteConnector(Path(location), create=create, read_only=read_only)
