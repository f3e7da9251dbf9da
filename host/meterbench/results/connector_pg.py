"""The results store on PostgreSQL (psycopg 3): one lab database shared by many bench workers.

Same schema through the same migrations as SQLite; only what is dialect-specific lives here:

- ``?`` placeholders become ``%s``;
- ``write()`` is a READ COMMITTED transaction; ``lock(name)`` takes a transaction-scoped
  advisory lock on a 64-bit number derived from the name, so two workers appending to the
  same run take turns (each reads the chain head only once it holds the lock, and sees every
  row committed before), while workers of different runs never wait for each other;
- ``snapshot()`` is a REPEATABLE READ, READ ONLY transaction (one view for multi-query reads);
- the append-only guards are triggers that raise on UPDATE, DELETE and TRUNCATE.

Commits are durable as PostgreSQL makes them (``synchronous_commit`` on by default).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors

from meterbench.results.connector import Params
from meterbench.results.errors import (
    DatabaseUnreachableError,
    MissingReferenceError,
    StoreError,
)

GUARD_FUNCTION = "meterbench_append_only"
CONNECT_TIMEOUT_S = 10


def redacted(url: str) -> str:
    """The URL without its password, for messages and `location`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a name (stable across processes and versions)."""
    digest = hashlib.sha256(f"meterbench:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresConnector:
    """One connection to a PostgreSQL database; a lock keeps one transaction at a time, so
    it may be used from a worker thread as the SQLite connector is."""

    dialect = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.location = redacted(url)
        self.read_only = read_only
        self._lock = threading.RLock()
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise DatabaseUnreachableError(self.location, _first_line(exc)) from None
        if read_only:
            self.execute("SET default_transaction_read_only = on")

    def execute(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        statement = sql.replace("%", "%%").replace("?", "%s") if params else sql
        with self._lock:
            try:
                cursor = self._conn.execute(statement, tuple(params) if params else None)  # type: ignore[arg-type]
                return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            except pg_errors.IntegrityError as exc:
                raise MissingReferenceError(
                    f"the database refused a row: {_first_line(exc)}"
                ) from None
            except psycopg.OperationalError as exc:
                raise DatabaseUnreachableError(self.location, _first_line(exc)) from None
            except psycopg.Error as exc:
                raise StoreError(f"{self.location}: {_first_line(exc)}") from None

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        with self._lock:
            self.execute(begin)
            try:
                yield
                self.execute("COMMIT")
            except BaseException:
                if not self._conn.closed:
                    self._conn.execute("ROLLBACK")
                raise

    def write(self) -> AbstractContextManager[None]:
        if self.read_only:
            raise StoreError(f"{self.location} is open only for reading")
        return self._transaction("BEGIN ISOLATION LEVEL READ COMMITTED")

    def lock(self, name: str) -> None:
        """Serialize the writers of ``name`` (a run's chain, the schema) until commit."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))

    def snapshot(self) -> AbstractContextManager[None]:
        return self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def table_names(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        return {str(name) for (name,) in rows}

    def install_append_only_guards(self, tables: Iterable[str]) -> None:
        """Triggers that make UPDATE, DELETE and TRUNCATE fail: the store issues none of them.

        Like SQLite's, they stop mistakes, not someone who may drop them: the hash chain and
        the lab's signature are what detect that."""
        wanted = [
            (f"{table}_append_only{suffix}", table, what)
            for table in tables
            for suffix, what in (("", "UPDATE OR DELETE"), ("_truncate", "TRUNCATE"))
        ]
        present = {
            str(name)
            for (name,) in self.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        }
        if all(name in present for name, _, _ in wanted):
            return
        with self.write():
            self.lock("schema")
            self.execute(
                f"CREATE OR REPLACE FUNCTION {GUARD_FUNCTION}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'results are append-only'; END $$"
            )
            present = {
                str(name)
                for (name,) in self.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            }
            for name, table, what in wanted:
                if name in present:
                    continue
                each = "STATEMENT" if what == "TRUNCATE" else "ROW"
                self.execute(
                    f"CREATE TRIGGER {name} BEFORE {what} ON {table} "
                    f"FOR EACH {each} EXECUTE FUNCTION {GUARD_FUNCTION}()"
                )

    def integrity_check(self) -> list[str]:
        """PostgreSQL checks its own pages; here: the server answers and the schema is there."""
        self.execute("SELECT 1")
        return ["ok"]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
