"""Errors of the results store, each with a one-line message an operator can act on."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: anything the store refuses or cannot do."""


class DatabaseMissingError(StoreError):
    def __init__(self, path: str) -> None:
        super().__init__(f"no results database at {path} (give --db PATH or set METERBENCH_DB)")
        self.path = path


class CorruptDatabaseError(StoreError):
    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path} is not a readable results database: {detail}")
        self.path = path


class NotAResultsDatabaseError(StoreError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is an SQLite database, but not a meterbench results database")
        self.path = path


class SchemaTooNewError(StoreError):
    """The database was written by a newer meterbench: never guess at its meaning."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        super().__init__(
            f"{path} has results schema version {found}, but this meterbench supports up to "
            f"{supported}: upgrade meterbench to read it (the database was left untouched)"
        )
        self.found = found
        self.supported = supported


class UnknownRunError(StoreError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run {run_id!r} in this database (`meterbench runs` lists them)")
        self.run_id = run_id


class ConflictError(StoreError):
    """A row with the same key exists with different content: a record is never overwritten."""

    def __init__(self, what: str, columns: list[str]) -> None:
        super().__init__(
            f"{what} is already stored with different {', '.join(columns)}; "
            "records are append-only (take a new attempt or a new run instead)"
        )
        self.columns = columns


class ClosedRunError(StoreError):
    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id!r} is {status}: its record is closed to new rows")
        self.run_id = run_id


class SignoffNotAllowedError(StoreError):
    """A sign-off vouches for a finished record: only a completed run takes one."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} is {status}; only a completed run can be signed off")


class StatusTransitionError(StoreError):
    def __init__(self, run_id: str, current: str | None, new: str) -> None:
        super().__init__(f"run {run_id!r}: status cannot change from {current} to {new}")


class MissingReferenceError(StoreError):
    """A row refers to a run, position or step that was not appended first."""


class DatabaseGoneError(StoreError):
    """The database file was deleted or replaced while this store had it open.

    SQLite would go on writing into the unlinked file (or the old inode) and every later
    record would vanish with the process: the run must stop instead."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            f"{path} was {detail} while the run was writing to it; the run stops here "
            "(restore the file and 'meterbench resume' the run, or start a new one)"
        )
        self.path = path


class ReadOnlyUpgradeError(StoreError):
    """A database opened only for reading has an older schema: reading never migrates."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        what = "holds no results schema" if found == 0 else f"has results schema version {found}"
        super().__init__(
            f"{path} {what} (this meterbench reads version {supported}) and is opened only "
            "for reading, so it is left untouched"
        )


class DatabaseUnreachableError(StoreError):
    """A database server that cannot be reached or refused the connection."""

    def __init__(self, location: str, detail: str) -> None:
        super().__init__(f"cannot use the results database {location}: {detail}")
        self.location = location


class UnsignableChainError(StoreError):
    """The lab signs only a chain that verifies, and only the head it checked."""

    def __init__(self, run_id: str, why: str) -> None:
        super().__init__(f"run {run_id!r} was not signed: {why}")
        self.run_id = run_id
