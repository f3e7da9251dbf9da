"""Every read and write the lab server makes to the database, in one place.

The server never touches SQL or `ResultsStore` elsewhere, so pointing it at another store
backend is a change to this module alone. Chained run rows go through `ResultsStore.append`;
the server's own tables (users, sessions, audit trail, bench workers) are plain rows on the
same connection. One connection serves every request thread (the connector serialises them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from meterbench.results import (
    Event,
    JsonValue,
    Position,
    ResultsStore,
    RunRecord,
    RunStatus,
    RunSummary,
)
from meterbench.results.models import ManualResult, Signoff
from meterbench.results.signing import LabKey
from meterbench.runner.control import request


@dataclass(frozen=True, slots=True)
class UserRow:
    username: str
    full_name: str
    roles: frozenset[str]
    password_hash: str
    active: bool


@dataclass(frozen=True, slots=True)
class SessionRow:
    username: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WorkerRow:
    bench_id: str
    pid: int
    run_id: str | None
    started_at: datetime
    command: str


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    username: str | None
    action: str
    target: str | None
    outcome: str
    detail: str | None
    client: str | None


@dataclass(frozen=True, slots=True)
class PositionLive:
    """One position's row of the live table, straight from the newest stored rows."""

    position: int
    serial: str | None
    meter_type: str
    step_key: str | None
    result: str | None
    unit: str | None
    fails: int
    passes: int
    problems: int
    last_error: str | None
    link: str
    taken_out: bool


@dataclass(frozen=True, slots=True)
class MeterHit:
    run_id: str
    position: int
    serial: str
    meter_type: str
    lot: str | None
    started_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat()


class LabStore:
    """The lab server's view of one results database."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.results = ResultsStore.open(path)
        self._db = self.results.connector
        self._lock = threading.RLock()

    def close(self) -> None:
        self.results.close()

    @contextmanager
    def consistent(self) -> Iterator[None]:
        """Several reads as one snapshot."""
        with self._lock, self._db.snapshot():
            yield

    # -- runs ------------------------------------------------------------------------------

    def list_runs(self) -> list[RunSummary]:
        return self.results.list_runs()

    def load_run(self, run_id: str) -> RunRecord:
        return self.results.load_run(run_id)

    def status(self, run_id: str) -> RunStatus | None:
        return self.results.status(run_id)

    def append(self, *records: Event | ManualResult | Signoff) -> int:
        return self.results.append(*records)

    def control_request(
        self, run_id: str, kind: str, message: str, position: int | None = None
    ) -> None:
        """An operator request into the run's control channel (`runner.control`)."""
        request(self.results, run_id, kind, message, position=position)

    def set_status(self, run_id: str, status: RunStatus, reason: str) -> None:
        self.results.set_status(run_id, status, datetime.now(UTC), reason)

    def live_positions(self, run_id: str) -> list[PositionLive]:
        """Per position: the newest reading, the verdicts so far, the last problem."""
        db = self._db
        with self.consistent():
            positions = self.results.positions(run_id)
            last = {
                int(p): (str(k), v, str(u))  # type: ignore[arg-type]
                for p, k, v, u in db.execute(
                    "SELECT r.position_no, r.step_key, r.result_value, r.unit FROM reading r "
                    "JOIN (SELECT position_no, MAX(seq) AS s FROM reading WHERE run_id = ? "
                    "GROUP BY position_no) m ON r.position_no = m.position_no AND r.seq = m.s "
                    "WHERE r.run_id = ?",
                    [run_id, run_id],
                )
            }
            verdicts: dict[int, dict[str, int]] = {}
            for p, outcome, n in db.execute(
                "SELECT position_no, outcome, COUNT(*) FROM conclusion "
                "WHERE run_id = ? AND limit_kind = 'mpe' GROUP BY position_no, outcome",
                [run_id],
            ):
                verdicts.setdefault(int(p), {})[str(outcome)] = int(n)  # type: ignore[arg-type]
            events: dict[int, tuple[str, str, str]] = {}
            for p, kind, severity, message in db.execute(
                "SELECT position_no, kind, severity, message FROM run_event "
                "WHERE run_id = ? AND position_no IS NOT NULL ORDER BY seq",
                [run_id],
            ):
                if str(severity) != "info" or str(kind) == "operator_take_out":
                    events[int(p)] = (str(kind), str(severity), str(message))  # type: ignore[arg-type]
            taken = {
                int(p)  # type: ignore[arg-type]
                for (p,) in db.execute(
                    "SELECT position_no FROM run_event WHERE run_id = ? AND kind = ?",
                    [run_id, "operator_take_out"],
                )
            }
        rows = []
        for pos in positions:
            step_key, value, unit = last.get(pos.position, (None, None, None))
            counts = verdicts.get(pos.position, {})
            kind, severity, message = events.get(pos.position, (None, None, None))
            if pos.position in taken:
                link = "taken out"
            elif kind in ("isolated", "fault"):
                link = "lost"
            elif kind in ("timeout", "retry", "reconnect"):
                link = "retrying" if kind != "reconnect" else "ok"
            else:
                link = "ok"
            rows.append(
                PositionLive(
                    position=pos.position,
                    serial=pos.serial_no,
                    meter_type=pos.meter_type,
                    step_key=step_key,
                    result=None if value is None else str(value),
                    unit=unit,
                    fails=counts.get("fail", 0),
                    passes=counts.get("pass", 0),
                    problems=counts.get("error", 0) + counts.get("no_result", 0),
                    last_error=None if severity in (None, "info") else f"{kind}: {message}",
                    link=link,
                    taken_out=pos.position in taken,
                )
            )
        return rows

    def recent_events(self, run_id: str, limit: int = 12) -> list[tuple[str, str, str, str]]:
        """(time, severity, kind, message) of the newest events, newest first."""
        rows = self._db.execute(
            "SELECT recorded_at, severity, kind, message FROM run_event WHERE run_id = ? "
            "ORDER BY seq DESC LIMIT ?",
            [run_id, limit],
        )
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    def started_steps(self, run_id: str) -> list[tuple[str, str, str]]:
        """(step_key, item, point) in the order the run started them."""
        rows = self._db.execute(
            "SELECT step_key, item_kind, point_key FROM step WHERE run_id = ? ORDER BY seq",
            [run_id],
        )
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def last_row_time(self, run_id: str) -> str | None:
        rows = self._db.execute("SELECT MAX(recorded_at) FROM reading WHERE run_id = ?", [run_id])
        return None if rows[0][0] is None else str(rows[0][0])

    def reading_count(self, run_id: str | None = None) -> int:
        if run_id is None:
            rows = self._db.execute("SELECT COUNT(*) FROM reading")
        else:
            rows = self._db.execute("SELECT COUNT(*) FROM reading WHERE run_id = ?", [run_id])
        return int(rows[0][0])  # type: ignore[arg-type]

    def sign_head(self, run_id: str, key: LabKey) -> None:
        self.results.sign_head(run_id, key)

    def signoffs(self, run_id: str) -> list[Signoff]:
        """The run's sign-offs in chain order (without loading the whole run)."""
        rows = self._db.execute(
            "SELECT stage, recorded_at, username, full_name, note FROM signoff "
            "WHERE run_id = ? ORDER BY seq",
            [run_id],
        )
        return [
            Signoff(
                run_id=run_id,
                stage=str(stage),
                at=datetime.fromisoformat(str(at)),
                username=str(user),
                name=str(name),
                note=None if note is None else str(note),
            )
            for stage, at, user, name, note in rows
        ]

    def snapshots(self, run_id: str) -> dict[str, JsonValue]:
        return self.results.snapshots(run_id)

    def positions(self, run_id: str) -> list[Position]:
        return self.results.positions(run_id)

    def final_hash(self, run_id: str) -> str:
        return self.results.final_hash(run_id)

    def verify_chain(self, run_id: str, expected_final_hash: str | None = None):  # noqa: ANN201
        return self.results.verify_chain(run_id, expected_final_hash)

    def find_meters(self, text: str, limit: int = 200) -> list[MeterHit]:
        """Positions whose serial, asset number or lot contains ``text``."""
        like = f"%{text}%"
        rows = self._db.execute(
            "SELECT p.run_id, p.position_no, p.serial_no, p.meter_type, p.lot, r.started_at "
            "FROM meter_position p JOIN run r ON r.run_id = p.run_id "
            "WHERE p.serial_no LIKE ? OR p.asset_no LIKE ? OR p.lot LIKE ? "
            "ORDER BY r.started_at DESC LIMIT ?",
            [like, like, like, limit],
        )
        return [
            MeterHit(str(a), int(b), str(c), str(d), None if e is None else str(e), str(f))  # type: ignore[arg-type]
            for a, b, c, d, e, f in rows
        ]

    def runs_of_serial(self, serial: str) -> list[str]:
        """Runs that verified a meter with exactly this serial number, newest first."""
        rows = self._db.execute(
            "SELECT p.run_id FROM meter_position p JOIN run r ON r.run_id = p.run_id "
            "WHERE p.serial_no = ? ORDER BY r.started_at DESC",
            [serial],
        )
        return [str(r[0]) for r in rows]

    def approval_hash(self, run_id: str) -> str | None:
        """The chain hash of the run's approval: what its certificates print."""
        rows = self._db.execute(
            "SELECT row_hash FROM signoff WHERE run_id = ? AND stage = 'approve'", [run_id]
        )
        return str(rows[0][0]) if rows else None

    def approved_runs(self) -> list[str]:
        rows = self._db.execute(
            "SELECT s.run_id FROM signoff s JOIN run r ON r.run_id = s.run_id "
            "WHERE s.stage = 'approve' ORDER BY r.started_at DESC"
        )
        return [str(r[0]) for r in rows]

    def lots(self) -> list[tuple[str, str, str, str]]:
        """(lot, run_id, verdict, consequence) of every lot verdict, newest first."""
        rows = self._db.execute(
            "SELECT lot, run_id, verdict, consequence FROM lot_verdict ORDER BY recorded_at DESC"
        )
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    # -- users and sessions ----------------------------------------------------------------

    def user(self, username: str) -> UserRow | None:
        rows = self._db.execute(
            "SELECT username, full_name, roles, password_hash, active FROM lab_user "
            "WHERE username = ?",
            [username],
        )
        if not rows:
            return None
        name, full, roles, digest, active = rows[0]
        return UserRow(
            str(name), str(full), frozenset(str(roles).split(",")) - {""}, str(digest), bool(active)
        )

    def users(self) -> list[UserRow]:
        rows = self._db.execute("SELECT username FROM lab_user ORDER BY username")
        return [u for (name,) in rows if (u := self.user(str(name))) is not None]

    def add_user(self, username: str, full_name: str, roles: Sequence[str], digest: str) -> None:
        with self._db.write():
            self._db.execute(
                "INSERT INTO lab_user (username, full_name, roles, password_hash, active, "
                "created_at) VALUES (?, ?, ?, ?, 1, ?)",
                [username, full_name, ",".join(sorted(roles)), digest, _now()],
            )

    def set_password(self, username: str, digest: str) -> None:
        with self._db.write():
            self._db.execute(
                "UPDATE lab_user SET password_hash = ? WHERE username = ?", [digest, username]
            )
            # A new password ends every session the old one opened.
            self._db.execute("DELETE FROM lab_session WHERE username = ?", [username])

    def add_session(
        self, token_hash: str, username: str, csrf_token: str, expires_at: datetime
    ) -> None:
        with self._db.write():
            self._db.execute(
                "INSERT INTO lab_session (token_hash, username, csrf_token, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?)",
                [token_hash, username, csrf_token, _now(), expires_at.isoformat()],
            )

    def session(self, token_hash: str) -> SessionRow | None:
        rows = self._db.execute(
            "SELECT username, csrf_token, expires_at FROM lab_session WHERE token_hash = ?",
            [token_hash],
        )
        if not rows:
            return None
        name, csrf, expires = rows[0]
        return SessionRow(str(name), str(csrf), datetime.fromisoformat(str(expires)))

    def drop_session(self, token_hash: str) -> None:
        with self._db.write():
            self._db.execute("DELETE FROM lab_session WHERE token_hash = ?", [token_hash])

    # -- audit trail -----------------------------------------------------------------------

    def audit(
        self,
        username: str | None,
        action: str,
        target: str | None,
        outcome: str,
        detail: str | None = None,
        client: str | None = None,
    ) -> None:
        with self._db.write():
            self._db.execute(
                "INSERT INTO audit_log (recorded_at, username, action, target, outcome, detail, "
                "client) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_now(), username, action, target, outcome, detail, client],
            )

    def audit_trail(self, limit: int = 500) -> list[AuditRow]:
        rows = self._db.execute(
            "SELECT recorded_at, username, action, target, outcome, detail, client "
            "FROM audit_log ORDER BY recorded_at DESC LIMIT ?",
            [limit],
        )
        return [
            AuditRow(
                datetime.fromisoformat(str(a)),
                None if b is None else str(b),
                str(c),
                None if d is None else str(d),
                str(e),
                None if f is None else str(f),
                None if g is None else str(g),
            )
            for a, b, c, d, e, f, g in rows
        ]

    # -- bench workers ---------------------------------------------------------------------

    def worker(self, bench_id: str) -> WorkerRow | None:
        rows = self._db.execute(
            "SELECT bench_id, pid, run_id, started_at, command FROM bench_worker "
            "WHERE bench_id = ?",
            [bench_id],
        )
        if not rows:
            return None
        bench, pid, run_id, started, command = rows[0]
        return WorkerRow(
            str(bench),
            int(pid),  # type: ignore[arg-type]
            None if run_id is None else str(run_id),
            datetime.fromisoformat(str(started)),
            str(command),
        )

    def set_worker(self, bench_id: str, pid: int, run_id: str | None, command: str) -> None:
        with self._db.write():
            self._db.execute("DELETE FROM bench_worker WHERE bench_id = ?", [bench_id])
            self._db.execute(
                "INSERT INTO bench_worker (bench_id, pid, run_id, started_at, command) "
                "VALUES (?, ?, ?, ?, ?)",
                [bench_id, pid, run_id, _now(), command],
            )

    def set_worker_run(self, bench_id: str, run_id: str) -> None:
        with self._db.write():
            self._db.execute(
                "UPDATE bench_worker SET run_id = ? WHERE bench_id = ?", [run_id, bench_id]
            )

    def newest_open_run(self, bench_id: str) -> str | None:
        """The bench's newest run that is still running or interrupted."""
        for summary in reversed(self.list_runs()):
            if summary.bench == bench_id and summary.status in (
                RunStatus.RUNNING,
                RunStatus.INTERRUPTED,
            ):
                return summary.run_id
        return None


__all__ = ["AuditRow", "LabStore", "MeterHit", "PositionLive", "SessionRow", "UserRow"]
