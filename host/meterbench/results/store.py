"""The results store: append-only, hash-chained run records in SQLite (PostgreSQL later).

Writing: `create_run` once, then `append` records as they are measured. Each `append` call is
one committed transaction (several records in one call commit together), so a crash loses at
most the call in flight. Rows are identified by natural keys: appending a stored key with the
same content is a no-op (a resumed runner may replay), with different content an error; a
derived record (conclusion, batch statistic) computed again after a crash may differ in its
time alone and is then a replay too.

Reading: per-run queries for resuming (`completed_steps`, `readings`, `next_reading_index`,
`snapshots`), `list_runs`, `load_run` for reports, and `verify_chain` for tamper evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meterbench.results import schema
from meterbench.results.canonical import JsonValue, datetime_text, parse_datetime
from meterbench.results.chain import GENESIS, ChainedRow, ChainReport, row_hash, verify_rows
from meterbench.results.connector import Connector, open_connector
from meterbench.results.crash_hook import CrashHook
from meterbench.results.errors import (
    ClosedRunError,
    ConflictError,
    MissingReferenceError,
    ReadOnlyUpgradeError,
    SchemaTooNewError,
    SignoffNotAllowedError,
    StatusTransitionError,
    UnknownRunError,
    UnsignableChainError,
)
from meterbench.results.kinds import TRANSITIONS, RunStatus
from meterbench.results.migrations import MIGRATIONS, Migration, current_version, upgrade
from meterbench.results.models import (
    BatchStatistic,
    Conclusion,
    Event,
    LotStatistic,
    LotVerdict,
    ManualResult,
    Position,
    Reading,
    Record,
    Run,
    RunStatusChange,
    Signoff,
    Snapshot,
    Step,
)
from meterbench.results.paths import default_db_path
from meterbench.results.record import RunRecord, RunSummary, finished_of, status_of
from meterbench.results.rows import CODECS, Row, codec_for
from meterbench.results.signing import (
    LabKey,
    PublicKey,
    SignatureReport,
    SignedHead,
    check_heads,
    sign,
)

Where = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class RunVerification:
    """A run's chain check and signature check together (`ResultsStore.verify_run`)."""

    chain: ChainReport
    signatures: SignatureReport

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.signatures.ok

    def summary(self) -> str:
        return f"{self.chain.summary()}; {self.signatures.summary()}"


@dataclass(slots=True)
class _Head:
    """The end of one run's chain while a write transaction holds the lock."""

    seq: int
    hash: str
    status: RunStatus | None


class ResultsStore:
    """Append-only run records with per-run hash chains, over any `Connector`."""

    def __init__(
        self,
        connector: Connector,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        read_only: bool = False,
    ):
        self._db = connector
        self._crash_hook = CrashHook()
        self.rows_stored = 0  # by this process: the run's progress, as a watchdog sees it
        # The lab's key, where this process has it: every run it closes is signed at once.
        self.signer: LabKey | None = None
        try:
            if read_only:
                self.schema_version = _readable_version(connector, migrations)
            else:
                self.schema_version = upgrade(connector, migrations)
                connector.install_append_only_guards(
                    [*(table.name for table in schema.TABLES), schema.SIGNATURE_TABLE]
                )
        except BaseException:
            connector.close()
            raise

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        create: bool = True,
        migrations: Sequence[Migration] = MIGRATIONS,
        read_only: bool = False,
    ) -> ResultsStore:
        """Open (and with ``create``, create) a store; default: `default_db_path`.

        ``path`` is an SQLite file, or a ``postgresql://`` URL of a lab database (which must
        exist; its tables are created by the migrations). ``read_only`` (for commands that
        only read) writes nothing, never migrates, and opens copies on read-only media."""
        location = path if path is not None else default_db_path()
        connector = open_connector(location, create=create, read_only=read_only)
        return cls(connector, migrations=migrations, read_only=read_only)

    @property
    def location(self) -> str:
        return self._db.location

    @property
    def connector(self) -> Connector:
        """The database itself, for the lab server's own tables outside the run chains
        (users, sessions, audit trail); chained rows go through `append` only."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def create_run(self, run: Run, snapshots: Mapping[str, JsonValue] | None = None) -> bool:
        """Store the run head, its first status (running) and its snapshots, atomically.

        Returns False when exactly this run was already created (a replay), True otherwise.
        """
        records: list[Record] = [
            run,
            RunStatusChange(run_id=run.run_id, status=RunStatus.RUNNING, at=run.started_at),
        ]
        records += [
            Snapshot(run_id=run.run_id, name=name, recorded_at=run.started_at, content=content)
            for name, content in (snapshots or {}).items()
        ]
        return self._append(records) > 0

    def append(self, *records: Record) -> int:
        """Append records in one transaction; return how many were new (replays are skipped)."""
        for record in records:
            if isinstance(record, Run):
                raise TypeError("a run head is stored with create_run(), not append()")
        return self._append(records)

    def set_status(
        self, run_id: str, status: RunStatus | str, at: Any, reason: str | None = None
    ) -> bool:
        """Append a status change (the run head is never updated)."""
        change = RunStatusChange(run_id=run_id, status=RunStatus(status), at=at, reason=reason)
        return self.append(change) > 0

    def _append(self, records: Sequence[Record]) -> int:
        prepared = [(codec_for(r).table, codec_for(r).to_row(r), r) for r in records]
        if not prepared:
            return 0
        inserted = 0
        tables: dict[str, int] = {}
        closed: set[str] = set()
        with self._db.write():
            # Each run's chain has one writer at a time (in a fixed order: no deadlock); the
            # head and the stored keys are read only once the lock is held.
            for run_id in sorted({record.run_id for _, _, record in prepared}):
                self._db.lock(f"run:{run_id}")
            heads: dict[str, _Head | None] = {}
            for table, row, record in prepared:
                existing = self._find(table, row)
                if existing is not None:
                    changed = [c for c in table.columns if existing.get(c) != row.get(c)]
                    if changed and not _replay(table, changed):
                        raise ConflictError(_what(table, row), changed)
                    continue
                run_id = record.run_id
                if run_id not in heads:
                    heads[run_id] = self._head_of(run_id)
                head = heads[run_id]
                head = self._admit(record, head)
                seq = 0 if head is None else head.seq + 1
                prev = GENESIS if head is None else head.hash
                digest = row_hash(table.name, prev, row)
                self._insert(table, row, seq, prev, digest)
                status = head.status if head is not None else None
                if isinstance(record, RunStatusChange):
                    status = record.status
                    if status.closed:
                        closed.add(run_id)
                heads[run_id] = _Head(seq, digest, status)
                inserted += 1
                tables[table.name] = tables.get(table.name, 0) + 1
        self.rows_stored += inserted
        self._crash_hook.committed(tables)
        if self.signer is not None:
            for run_id in sorted(closed):
                self.sign_head(run_id, self.signer)
        return inserted

    def _admit(self, record: Record, head: _Head | None) -> _Head | None:
        """Refuse what a run cannot take in its present state."""
        if isinstance(record, Run):
            return None
        if head is None:
            raise UnknownRunError(record.run_id)
        if isinstance(record, Signoff):  # vouches for a finished record, so comes after it
            if head.status is not RunStatus.COMPLETED:
                current = head.status.value if head.status else "unknown"
                raise SignoffNotAllowedError(record.run_id, current)
            return head
        if head.status is not None and head.status.closed:
            raise ClosedRunError(record.run_id, head.status.value)
        if isinstance(record, RunStatusChange) and record.status not in TRANSITIONS[head.status]:
            current = head.status.value if head.status else None
            raise StatusTransitionError(record.run_id, current, record.status.value)
        return head

    def _insert(self, table: schema.Table, row: Row, seq: int, prev: str, digest: str) -> None:
        columns = (*table.columns, *schema.CHAIN_COLUMNS)
        values = [row[c] for c in table.columns] + [seq, prev, digest]
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        try:
            self._db.execute(sql, values)
        except MissingReferenceError as exc:
            raise MissingReferenceError(
                f"{_what(table, row)} refers to a position or step not appended yet ({exc})"
            ) from None

    def _find(self, table: schema.Table, row: Row) -> dict[str, Any] | None:
        where = {k: row[k] for k in table.key}
        found = self._select(table, str(row["run_id"]), where)
        return found[0] if found else None

    def _head_of(self, run_id: str) -> _Head | None:
        """Last (seq, hash) of a run and its current status; None for an unknown run."""
        subqueries = ", ".join(
            f"(SELECT MAX(seq) FROM {t.name} WHERE run_id = ?)" for t in schema.TABLES
        )
        maxima = self._db.execute(f"SELECT {subqueries}", [run_id] * len(schema.TABLES))[0]
        pairs = zip(maxima, schema.TABLES, strict=True)
        present = [(seq, table) for seq, table in pairs if seq is not None]
        if not present:
            return None
        seq, table = max(present, key=lambda pair: int(pair[0]))  # type: ignore[arg-type]
        (digest,) = self._db.execute(
            f"SELECT row_hash FROM {table.name} WHERE run_id = ? AND seq = ?", [run_id, seq]
        )[0]
        return _Head(int(seq), str(digest), self._status(run_id))  # type: ignore[arg-type]

    def _status(self, run_id: str) -> RunStatus | None:
        rows = self._db.execute(
            "SELECT status FROM run_status WHERE run_id = ? ORDER BY seq DESC LIMIT 1", [run_id]
        )
        return RunStatus(rows[0][0]) if rows else None

    # -- reading ---------------------------------------------------------------------------

    def _select(
        self, table: schema.Table, run_id: str, where: Where | None = None, chain: bool = False
    ) -> list[dict[str, Any]]:
        columns = table.columns + (schema.CHAIN_COLUMNS if chain else ())
        conditions = {"run_id": run_id, **(where or {})}
        clause = " AND ".join(f"{name} = ?" for name in conditions)
        sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {clause} ORDER BY seq"
        rows = self._db.execute(sql, list(conditions.values()))
        return [dict(zip(columns, values, strict=True)) for values in rows]

    def _records(self, kind: type, run_id: str, where: Where | None = None) -> list[Any]:
        codec = CODECS[kind]
        return [codec.from_row(row) for row in self._select(codec.table, run_id, where)]

    def _require(self, run_id: str) -> Run:
        found = self._records(Run, run_id)
        if not found:
            raise UnknownRunError(run_id)
        return found[0]

    def get_run(self, run_id: str) -> Run:
        """The run head; `UnknownRunError` if there is none."""
        return self._require(run_id)

    def status(self, run_id: str) -> RunStatus | None:
        self._require(run_id)
        return self._status(run_id)

    def statuses(self, run_id: str) -> list[RunStatusChange]:
        self._require(run_id)
        return self._records(RunStatusChange, run_id)

    def snapshots(self, run_id: str) -> dict[str, JsonValue]:
        """Inputs as they were when the run used them, by name (bench_config, plan, ...)."""
        self._require(run_id)
        return {s.name: s.content for s in self._records(Snapshot, run_id)}

    def positions(self, run_id: str) -> list[Position]:
        self._require(run_id)
        return self._records(Position, run_id)

    def steps(self, run_id: str) -> list[Step]:
        """Steps in the order they were started (sort by ``ordinal`` for plan order)."""
        self._require(run_id)
        return self._records(Step, run_id)

    def readings(
        self, run_id: str, *, step_key: str | None = None, position: int | None = None
    ) -> list[Reading]:
        """Stored readings (all attempts, every status) in the order they were taken."""
        self._require(run_id)
        return self._records(Reading, run_id, _where(step_key, position))

    def conclusions(
        self, run_id: str, *, step_key: str | None = None, position: int | None = None
    ) -> list[Conclusion]:
        self._require(run_id)
        return self._records(Conclusion, run_id, _where(step_key, position))

    def events(self, run_id: str) -> list[Event]:
        self._require(run_id)
        return self._records(Event, run_id)

    def batch_statistics(self, run_id: str) -> list[BatchStatistic]:
        self._require(run_id)
        return self._records(BatchStatistic, run_id)

    def completed_steps(self, run_id: str) -> dict[int, frozenset[str]]:
        """Per position, the steps that have a conclusion (every position listed).

        A step counts as done for a position once any conclusion is stored, so a runner
        appends all conclusions of one position and step in a single `append` call.
        """
        self._require(run_id)
        done: dict[int, set[str]] = {p.position: set() for p in self._records(Position, run_id)}
        rows = self._db.execute(
            "SELECT DISTINCT position_no, step_key FROM conclusion WHERE run_id = ?", [run_id]
        )
        for position, step_key in rows:
            done.setdefault(int(position), set()).add(str(step_key))  # type: ignore[arg-type]
        return {position: frozenset(keys) for position, keys in sorted(done.items())}

    def next_reading_index(self, run_id: str, position: int, step_key: str) -> int:
        """The first reading index not yet stored for this position and step."""
        self._require(run_id)
        rows = self._db.execute(
            "SELECT MAX(reading_index) FROM reading "
            "WHERE run_id = ? AND position_no = ? AND step_key = ?",
            [run_id, position, step_key],
        )
        top = rows[0][0]
        return 0 if top is None else int(top) + 1  # type: ignore[call-overload]

    def final_hash(self, run_id: str) -> str:
        """Hash of the run's last stored row (printed on records and certificates)."""
        with self._db.snapshot():
            head = self._head_of(run_id)
        if head is None:
            raise UnknownRunError(run_id)
        return head.hash

    def list_runs(self) -> list[RunSummary]:
        """Every run, oldest first."""
        with self._db.snapshot():
            ids = [str(r[0]) for r in self._db.execute("SELECT run_id FROM run")]
            summaries = [self._summary(run_id) for run_id in ids]
        return sorted(summaries, key=lambda s: (s.started_at, s.run_id))

    def _summary(self, run_id: str) -> RunSummary:
        run = self._require(run_id)
        changes = tuple(self._records(RunStatusChange, run_id))
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM meter_position WHERE run_id = ?", [run_id]
        )[0]
        head = self._head_of(run_id)
        return RunSummary(
            run_id=run.run_id,
            started_at=run.started_at,
            finished_at=finished_of(changes),
            bench=run.bench,
            plan=run.plan,
            regulation=run.regulation,
            status=status_of(changes),
            meters=int(count),  # type: ignore[call-overload]
            final_hash=head.hash if head else GENESIS,
        )

    def load_run(self, run_id: str) -> RunRecord:
        """Everything stored for one run, read in one consistent snapshot."""
        with self._db.snapshot():
            run = self._require(run_id)
            parts = {kind: tuple(self._records(kind, run_id)) for kind in CODECS if kind is not Run}
            head = self._head_of(run_id)
        assert head is not None
        snapshots = {s.name: s.content for s in parts[Snapshot]}
        return RunRecord(
            run=run,
            statuses=parts[RunStatusChange],
            snapshots=snapshots,
            positions=parts[Position],
            steps=parts[Step],
            readings=parts[Reading],
            conclusions=parts[Conclusion],
            events=parts[Event],
            batch_statistics=parts[BatchStatistic],
            manual_results=parts[ManualResult],
            lot_statistics=parts[LotStatistic],
            lot_verdicts=parts[LotVerdict],
            signoffs=parts[Signoff],
            final_hash=head.hash,
            rows=1 + sum(len(rows) for rows in parts.values()),
        )

    # -- tamper evidence -------------------------------------------------------------------

    def chain_rows(self, run_id: str) -> list[ChainedRow]:
        """The run's rows exactly as stored (content + chain columns), in chain order."""
        rows: list[ChainedRow] = []
        with self._db.snapshot():
            for table in schema.TABLES:
                for stored in self._select(table, run_id, chain=True):
                    rows.append(
                        ChainedRow(
                            table=table.name,
                            seq=int(stored["seq"]),
                            prev_hash=str(stored["prev_hash"]),
                            row_hash=str(stored["row_hash"]),
                            content={c: stored[c] for c in table.columns},
                        )
                    )
        if not rows:
            raise UnknownRunError(run_id)
        return sorted(rows, key=lambda r: (r.seq, r.table))

    def verify_chain(self, run_id: str, expected_final_hash: str | None = None) -> ChainReport:
        """Recompute the run's chain from the stored rows and name the first altered row.

        ``expected_final_hash`` (e.g. the one printed on a certificate) also proves that no
        row was removed from or added to the end.
        """
        return verify_rows(run_id, self.chain_rows(run_id), expected_final_hash)

    # -- the lab's signatures ----------------------------------------------------------------

    def signed_heads(self, run_id: str) -> list[SignedHead]:
        """Every stored signature of the run's chain head, oldest head first."""
        columns = schema.SIGNATURE_COLUMNS
        rows = self._db.execute(
            f"SELECT {', '.join(columns)} FROM {schema.SIGNATURE_TABLE} WHERE run_id = ? "
            "ORDER BY row_count, signed_at",
            [run_id],
        )
        heads = []
        for values in rows:
            row = dict(zip(columns, values, strict=True))
            heads.append(
                SignedHead(
                    run_id=str(row["run_id"]),
                    rows=int(str(row["row_count"])),
                    final_hash=str(row["final_hash"]),
                    signed_at=parse_datetime(str(row["signed_at"])),
                    key_id=str(row["key_id"]),
                    public_key=str(row["public_key"]),
                    signature=str(row["signature"]),
                )
            )
        return heads

    def sign_head(self, run_id: str, key: LabKey) -> SignedHead:
        """Sign the run's current chain head with the lab's key and store the signature.

        Call it after appending to a closed run (a sign-off) as the runner does when it
        closes one; signing the same head again returns the stored signature. A chain that
        does not verify is never signed (`UnsignableChainError`)."""
        report = self.verify_chain(run_id)
        if not report.ok:
            raise UnsignableChainError(run_id, report.summary())
        head = sign(key, run_id, report.rows, report.final_hash)
        with self._db.write():
            self._db.lock(f"run:{run_id}")
            now = self._head_of(run_id)
            if now is None or now.seq + 1 != report.rows or now.hash != report.final_hash:
                raise UnsignableChainError(run_id, "rows were appended while it was checked")
            stored = self._db.execute(
                f"SELECT final_hash, signed_at FROM {schema.SIGNATURE_TABLE} "
                "WHERE run_id = ? AND row_count = ? AND key_id = ?",
                [run_id, head.rows, head.key_id],
            )
            if stored:
                if str(stored[0][0]) != head.final_hash:
                    raise UnsignableChainError(run_id, "a different head of as many rows is signed")
                return next(h for h in self.signed_heads(run_id) if h.rows == head.rows)
            values = [
                head.run_id,
                head.rows,
                head.final_hash,
                datetime_text(head.signed_at),
                head.key_id,
                head.public_key,
                head.signature,
            ]
            marks = ", ".join("?" for _ in values)
            self._db.execute(
                f"INSERT INTO {schema.SIGNATURE_TABLE} ({', '.join(schema.SIGNATURE_COLUMNS)}) "
                f"VALUES ({marks})",
                values,
            )
        return head

    def verify_run(
        self,
        run_id: str,
        expected_final_hash: str | None = None,
        public_key: PublicKey | None = None,
    ) -> RunVerification:
        """The chain and the lab's signatures of one run, checked together.

        With ``public_key`` (the lab's published key) a closed run must be signed by it up
        to its last row; without it, stored heads are checked against their own key, which
        still catches removed rows and a rewritten chain that was not signed again."""
        rows = self.chain_rows(run_id)
        report = verify_rows(run_id, rows, expected_final_hash)
        status = self._status(run_id)
        signatures = check_heads(
            report,
            rows,
            self.signed_heads(run_id),
            closed=status is not None and status.closed,
            trusted=public_key,
        )
        return RunVerification(report, signatures)

    def integrity_check(self) -> list[str]:
        """The database engine's own consistency check (``["ok"]`` when sound)."""
        return self._db.integrity_check()


# Records the runner derives from stored readings: after a crash it computes them again from
# the same readings, so one equal in everything but the time it was computed is a replay
# (the first one stands). Measured rows (readings) and status changes carry their own time.
_DERIVED = frozenset({schema.CONCLUSION.name, schema.BATCH_STATISTIC.name})
_TIME_COLUMNS = frozenset({"recorded_at"})


def _replay(table: schema.Table, changed: list[str]) -> bool:
    """Is a stored row that differs from a new one only in ``changed`` the same record?"""
    return table.name in _DERIVED and set(changed) <= _TIME_COLUMNS


def _readable_version(db: Connector, migrations: Sequence[Migration]) -> int:
    """The schema version of a database opened only for reading: it must be the current one,
    since reading never migrates."""
    latest = migrations[-1].version if migrations else 0
    found = current_version(db)
    if found > latest:
        raise SchemaTooNewError(db.location, found, latest)
    if found < latest:
        raise ReadOnlyUpgradeError(db.location, found, latest)
    return found


def _where(step_key: str | None, position: int | None) -> dict[str, object]:
    where: dict[str, object] = {}
    if position is not None:
        where["position_no"] = position
    if step_key is not None:
        where["step_key"] = step_key
    return where


def _what(table: schema.Table, row: Row) -> str:
    key = ", ".join(f"{k}={row[k]}" for k in table.key)
    return f"{table.name} ({key})"
