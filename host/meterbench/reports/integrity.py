"""Tamper evidence for reports: verify the run's hash chain and the lab's signature over it
before anything is printed.

With the lab's published key (``public_key``) a closed run must be signed by it up to its
last row; without it, the signatures stored with the run are checked against their own key.

A record whose chain does not verify is not evidence. By default reports refuse such a run;
with ``on_broken="mark"`` they are made but carry a warning banner on every page and in every
export, so an altered record can be looked at without being mistaken for a valid one.
Certificates and result notices are never issued from a broken chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from meterbench.reports.errors import ChainBrokenError, SignatureInvalidError
from meterbench.results import ResultsStore, RunRecord, RunStatus
from meterbench.results.signing import PublicKey, SignedHead

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
    chain_ok: bool = True
    signed: SignedHead | None = None  # the lab's signature over exactly the printed head
    signature_problem: str | None = None

    @property
    def closed(self) -> bool:
        return self.status is not None and self.status.closed


def check(store: ResultsStore, record: RunRecord, public_key: PublicKey | None = None) -> Integrity:
    """Recompute the chain of a loaded run.

    The printed hash is the loaded record's own final hash (the last row the documents show).
    The check reads the chain again afterwards; a still running run may have grown meanwhile,
    which is fine: the loaded rows are then a verified prefix.
    """
    run_id = record.run.run_id
    result = store.verify_run(run_id, public_key=public_key)
    report, signatures = result.chain, result.signatures
    head = signatures.head
    covering = head if head is not None and head.final_hash == record.final_hash else None
    problem = None if report.problem is None else report.problem.message
    return Integrity(
        run_id=run_id,
        ok=result.ok,
        final_hash=record.final_hash,
        rows=record.rows,
        problem=problem or signatures.problem,
        status=record.status,
        chain_ok=report.ok,
        signed=covering if signatures.state == "signed" else None,
        signature_problem=signatures.problem,
    )


def require(integrity: Integrity, on_broken: OnBroken) -> None:
    """Raise `ChainBrokenError` unless the chain verifies or marking was asked for."""
    if integrity.ok or on_broken == "mark":
        return
    if not integrity.chain_ok:
        raise ChainBrokenError(integrity.run_id, integrity.problem or "unknown problem")
    raise SignatureInvalidError(integrity.run_id, integrity.signature_problem or "unknown")
