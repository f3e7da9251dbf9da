"""Hash chain over a run's rows: how a row's hash is computed and how a chain is checked.

Every stored row of a run (head, status changes, snapshots, positions, steps, readings,
conclusions, events, batch statistics) has a per-run sequence number ``seq`` and

    row_hash = SHA-256( canonical_json({"prev": prev_hash, "row": content, "table": table}) )

where ``content`` maps each content column to its stored value (text or integer; NULL columns
left out, so a column added by a later migration does not change older hashes), canonical JSON
is sorted-key and compact (UTF-8), and ``prev_hash`` is the ``row_hash`` of the row with the
previous ``seq`` (64 zeros for seq 0, the run head). Order is proven by the links, not by
``seq``: ``seq`` only says where to look. The last row's hash is the run's final hash; printed on
records and certificates, it also anchors the end of the chain, which rows alone cannot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import groupby

from meterbench.results import schema
from meterbench.results.canonical import canonical_json
from meterbench.results.kinds import RunStatus

GENESIS = "0" * 64

Value = str | int | None


def row_hash(table: str, prev_hash: str, content: Mapping[str, Value]) -> str:
    """SHA-256 (hex) of one row's content chained to the previous row's hash."""
    row = {name: value for name, value in content.items() if value is not None}
    material = canonical_json({"prev": prev_hash, "row": row, "table": table})
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedRow:
    """A row as stored: its content columns plus the chain columns."""

    table: str
    seq: int
    prev_hash: str
    row_hash: str
    content: Mapping[str, Value] = field(default_factory=dict)

    def describe(self) -> str:
        """'reading seq 17 (position_no=3, step_key=..., reading_index=2, attempt=0)'."""
        spec = schema.TABLES_BY_NAME.get(self.table)
        keys = [k for k in spec.key if k != "run_id"] if spec else []
        shown = ", ".join(f"{k}={self.content.get(k)}" for k in keys)
        return f"{self.table} seq {self.seq}" + (f" ({shown})" if shown else "")

    def content_intact(self) -> bool:
        return row_hash(self.table, self.prev_hash, self.content) == self.row_hash


class Problem(StrEnum):
    CONTENT_CHANGED = "content_changed"
    ROW_MISSING = "row_missing"
    ROWS_REORDERED = "rows_reordered"
    EXTRA_ROW = "extra_row"
    LINK_BROKEN = "link_broken"
    ROW_AFTER_CLOSE = "row_after_close"
    FINAL_HASH_MISMATCH = "final_hash_mismatch"


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first place where the stored chain differs from what was appended."""

    kind: Problem
    message: str
    table: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of a check: ``rows`` and ``final_hash`` cover the intact prefix of the chain
    (the whole run when ``ok``)."""

    run_id: str
    rows: int
    final_hash: str
    problem: ChainProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is None:
            return f"chain intact, final hash {self.final_hash} ({self.rows} rows)"
        return f"chain broken in run {self.run_id}: {self.problem.message}"


def verify_rows(
    run_id: str, rows: Iterable[ChainedRow], expected_final_hash: str | None = None
) -> ChainReport:
    """Check a run's stored rows (any order) and report the first altered one."""
    ordered = sorted(rows, key=lambda r: (r.seq, r.table))
    owners = {row.row_hash: row for row in ordered}
    successors = {row.prev_hash for row in ordered}
    prev, expected_seq, closed_by = GENESIS, 0, None
    accepted: list[ChainedRow] = []  # index == seq
    count = 0

    def report(kind: Problem, message: str, row: ChainedRow | None) -> ChainReport:
        # `prev`/`count` describe the intact prefix before the problem
        where = ChainProblem(kind, message, row.table if row else None, row.seq if row else None)
        return ChainReport(run_id, count, prev, where)

    for seq, group in groupby(ordered, key=lambda r: r.seq):
        candidates = list(group)
        fitting = [r for r in candidates if r.prev_hash == prev and r.content_intact()]
        # Of several rows claiming one seq, the genuine one is what the next row links to.
        row = next((r for r in fitting if r.row_hash in successors), None)
        row = row or (fitting[0] if fitting else candidates[0])
        extra = [r for r in candidates if r is not row]
        if seq > expected_seq:
            missing = f"seq {expected_seq}" + (f"-{seq - 1}" if seq - 1 > expected_seq else "")
            return report(
                Problem.ROW_MISSING,
                f"row missing: {missing} absent (sequence gap before {row.describe()})",
                row,
            )
        if (seq == 0) != (row.table == schema.RUN.name):
            return report(
                Problem.EXTRA_ROW, f"{row.describe()}: only the run head may be seq 0", row
            )
        if not row.content_intact():
            return report(
                Problem.CONTENT_CHANGED,
                f"content changed: {row.describe()} no longer matches its hash",
                row,
            )
        if row.prev_hash != prev:
            return report(*_link_problem(row, accepted, owners.get(row.prev_hash)))
        if extra:
            return report(
                Problem.EXTRA_ROW,
                f"extra row: {extra[0].describe()} shares its sequence number with "
                f"{row.describe()} and is not part of the chain",
                extra[0],
            )
        if closed_by is not None and not _signs_off(row, closed_by):
            return report(
                Problem.ROW_AFTER_CLOSE,
                f"extra row: {row.describe()} comes after the run was closed "
                f"({closed_by.describe()})",
                row,
            )
        if row.table == schema.RUN_STATUS.name and _closes(row):
            closed_by = row
        prev, expected_seq = row.row_hash, expected_seq + 1
        accepted.append(row)
        count += 1

    if expected_final_hash is not None and prev != expected_final_hash.strip().lower():
        return report(
            Problem.FINAL_HASH_MISMATCH,
            f"final hash {prev} differs from the expected {expected_final_hash}: rows were "
            "removed from or added to the end, or the chain was rewritten",
            accepted[-1] if accepted else None,
        )
    return ChainReport(run_id, count, prev)


def _signs_off(row: ChainedRow, closed_by: ChainedRow) -> bool:
    """A sign-off is the one row a run takes after closing, and only a completed run."""
    return row.table == schema.SIGNOFF.name and closed_by.content.get("status") == "completed"


def _closes(row: ChainedRow) -> bool:
    status = row.content.get("status")
    return status in {s.value for s in RunStatus if s.closed}


def _link_problem(
    row: ChainedRow, accepted: list[ChainedRow], owner: ChainedRow | None
) -> tuple[Problem, str, ChainedRow]:
    """Explain why ``row`` is not chained to the row before it, and name the culprit."""
    after = accepted[-1].describe() if accepted else "the start of the chain"
    if owner is not None and owner.seq > row.seq:
        return (
            Problem.ROWS_REORDERED,
            f"rows reordered: {row.describe()} was appended after {owner.describe()}",
            row,
        )
    if owner is not None and owner.seq < row.seq - 1 and owner.seq + 1 < len(accepted):
        forged = accepted[owner.seq + 1]
        return (
            Problem.EXTRA_ROW,
            f"extra row: {forged.describe()} is not part of the chain "
            f"({row.describe()} was appended right after {owner.describe()})",
            forged,
        )
    return (
        Problem.LINK_BROKEN,
        f"link broken: {row.describe()} was not appended after {after}: that row was altered "
        "and re-hashed, a row between them was removed and the rest renumbered, or this row "
        "was forged",
        row,
    )
