"""A whole run as read back from the store: what `show`, reports and exports work from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from meterbench.results.canonical import JsonValue
from meterbench.results.kinds import RunStatus
from meterbench.results.models import (
    BatchStatistic,
    Conclusion,
    Event,
    LotStatistic,
    LotVerdict,
    ManualResult,
    Position,
    Reading,
    Run,
    RunStatusChange,
    Signoff,
    Step,
    to_plain,
)


def status_of(changes: tuple[RunStatusChange, ...]) -> RunStatus | None:
    return changes[-1].status if changes else None


def finished_of(changes: tuple[RunStatusChange, ...]) -> datetime | None:
    """When the run was closed (completed or aborted); None while it can still go on."""
    return changes[-1].at if changes and changes[-1].status.closed else None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of `meterbench runs`."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    bench: str
    plan: str
    regulation: str
    status: RunStatus | None
    meters: int
    final_hash: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Every stored row of one run, in append order, and the run's final hash."""

    run: Run
    statuses: tuple[RunStatusChange, ...]
    snapshots: Mapping[str, JsonValue]
    positions: tuple[Position, ...]
    steps: tuple[Step, ...]
    readings: tuple[Reading, ...]
    conclusions: tuple[Conclusion, ...]
    events: tuple[Event, ...]
    batch_statistics: tuple[BatchStatistic, ...]
    final_hash: str
    rows: int
    manual_results: tuple[ManualResult, ...] = ()
    lot_statistics: tuple[LotStatistic, ...] = ()
    lot_verdicts: tuple[LotVerdict, ...] = ()
    signoffs: tuple[Signoff, ...] = ()

    @property
    def status(self) -> RunStatus | None:
        return status_of(self.statuses)

    @property
    def finished_at(self) -> datetime | None:
        return finished_of(self.statuses)

    def readings_for(self, position: int, step_key: str) -> tuple[Reading, ...]:
        return tuple(r for r in self.readings if r.position == position and r.step_key == step_key)

    def conclusions_for(self, position: int) -> tuple[Conclusion, ...]:
        return tuple(c for c in self.conclusions if c.position == position)

    def to_plain(self) -> dict[str, JsonValue]:
        """JSON-ready dict (Decimals and times as exact text): the basis of `show --json`."""
        return {
            "run": to_plain(self.run),
            "status": self.status.value if self.status else None,
            "finished_at": to_plain(self.finished_at),
            "final_hash": self.final_hash,
            "rows": self.rows,
            "statuses": to_plain(self.statuses),
            "snapshots": to_plain(dict(self.snapshots)),
            "positions": to_plain(self.positions),
            "steps": to_plain(self.steps),
            "readings": to_plain(self.readings),
            "conclusions": to_plain(self.conclusions),
            "events": to_plain(self.events),
            "batch_statistics": to_plain(self.batch_statistics),
            "manual_results": to_plain(self.manual_results),
            "lot_statistics": to_plain(self.lot_statistics),
            "lot_verdicts": to_plain(self.lot_verdicts),
            "signoffs": to_plain(self.signoffs),
        }
