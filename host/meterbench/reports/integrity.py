"""Tamper evidence for reports: verify the run's hash chain before anything is printed.

A record whose chain does not verify is not evidence. By default reports refuse such a run;
with ``on_broken="mark"`` they are made but carry a warning banner on every page and in every
export, so an altered record can be looked at without being mistaken for a valid one.
Certificates and result notices are never issued from a broken chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from meterbench.reports.errors import ChainBrokenError
from meterbench.results import ResultsStore, RunRecord, RunStatus

OnBroken = Literal["refuse", "mark"]


@dataclass(frozen=True, slots=True)
class Integrity:
    """What the chain check said, and what goes on the documents."""

    run_id: str
    ok: bool
    final_hash: str
    rows: int
    problem: str | None
    status: RunStatus | None

    @property
    def closed(self) -> bool:
        return self.status is not None and self.status.closed


def check(store: ResultsStore, record: RunRecord) -> Integrity:
    """Recompute the chain of a loaded run.

    The printed hash is the loaded record's own final hash (the last row the documents show).
    The check reads the chain again afterwards; a still running run may have grown meanwhile,
    which is fine: the loaded rows are then a verified prefix.
    """
    run_id = record.run.run_id
    report = store.verify_chain(run_id)
    return Integrity(
        run_id=run_id,
        ok=report.ok,
        final_hash=record.final_hash,
        rows=record.rows,
        problem=None if report.problem is None else report.problem.message,
        status=record.status,
    )


def require(integrity: Integrity, on_broken: OnBroken) -> None:
    """Raise `ChainBrokenError` unless the chain verifies or marking was asked for."""
    if not integrity.ok and on_broken != "mark":
        raise ChainBrokenError(integrity.run_id, integrity.problem or "unknown problem")
