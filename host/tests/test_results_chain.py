"""Tamper evidence: any change to a stored run is found and the first altered row is named."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import replace

import pytest

from meterbench.results import Problem, ResultsStore
from meterbench.results.chain import (
    GENESIS,
    ChainedRow,
    ChainProblem,
    ChainReport,
    row_hash,
    verify_rows,
)
from meterbench.results.sample import store_sample_run
from meterbench.results.schema import TABLES


def _problem(report: ChainReport) -> ChainProblem:
    """The report's problem (the test failing plainly when the chain was found intact)."""
    assert report.problem is not None, "the chain was reported intact"
    return report.problem


# The sample run's final hash. It pins the chain algorithm: if this changes, every database
# written before would fail `records verify`, so a change needs a new, versioned scheme.
SAMPLE_FINAL_HASH = "305a27fbd9b652ffa5a638c2396597bb86b48a131256c7f3871ac92dc3d954aa"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "results.db"
    with ResultsStore.open(path) as store:
        run = store_sample_run(store)
    return path, run.run_id


def _verify(path, run_id, expected=None):
    with ResultsStore.open(path, create=False) as store:
        return store.verify_chain(run_id, expected)


def _rows(path, run_id) -> list[ChainedRow]:
    with ResultsStore.open(path, create=False) as store:
        return store.chain_rows(run_id)


def _tamper(path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Edit the file as someone with write access would: drop the guards, change rows."""
    raw = sqlite3.connect(path)
    for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        raw.execute(f"DROP TRIGGER {name}")
    for sql, params in statements:
        raw.execute(sql, params)
    raw.commit()
    raw.close()


def _seq_of(path, run_id, table: str, n: int = 0) -> int:
    return [r.seq for r in _rows(path, run_id) if r.table == table][n]


def _renumber_from(run_id: str, seq: int, delta: int) -> list[tuple[str, tuple[object, ...]]]:
    """Shift every row from ``seq`` on (in two passes, so no two rows ever share a seq)."""
    out: list[tuple[str, tuple[object, ...]]] = []
    for t in TABLES:
        out.append(
            (
                f"UPDATE {t.name} SET seq = -(seq + ?) WHERE run_id = ? AND seq >= ?",
                (delta, run_id, seq),
            )
        )
    for t in TABLES:
        out.append((f"UPDATE {t.name} SET seq = -seq WHERE run_id = ? AND seq < 0", (run_id,)))
    return out


def _forge(row: ChainedRow, seq: int, prev: str, **changes: object) -> tuple[str, tuple]:
    """An INSERT of a row copied from ``row`` with new content, hashed correctly onto ``prev``."""
    content = {**row.content, **changes}
    digest = row_hash(row.table, prev, content)
    columns = [*content, "seq", "prev_hash", "row_hash"]
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {row.table} ({', '.join(columns)}) VALUES ({marks})"
    return sql, (*content.values(), seq, prev, digest)


def test_an_untouched_run_verifies_and_its_final_hash_is_pinned(db):
    path, run_id = db
    report = _verify(path, run_id, SAMPLE_FINAL_HASH)
    assert report.ok, report.summary()
    assert report.final_hash == SAMPLE_FINAL_HASH
    assert report.summary() == f"chain intact, final hash {SAMPLE_FINAL_HASH} (29 rows)"


def test_the_hash_is_the_documented_formula(db):
    path, run_id = db
    prev = GENESIS
    for row in _rows(path, run_id):
        content = {k: v for k, v in row.content.items() if v is not None}
        material = json.dumps(
            {"prev": prev, "row": content, "table": row.table},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert row.prev_hash == prev
        assert row.row_hash == hashlib.sha256(material.encode()).hexdigest()
        prev = row.row_hash
    assert prev == SAMPLE_FINAL_HASH


def test_a_changed_value_is_found(db):
    path, run_id = db
    seq = _seq_of(path, run_id, "reading", 2)
    _tamper(path, ("UPDATE reading SET result_value = '-0.34' WHERE seq = ?", (seq,)))
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.CONTENT_CHANGED
    assert (_problem(report).table, _problem(report).seq) == ("reading", seq)
    assert f"reading seq {seq} (position_no=2," in report.summary()


def test_every_single_stored_value_is_covered(db):
    """Change each column of each row in turn (in memory): always caught, at that row."""
    path, run_id = db
    rows = _rows(path, run_id)
    for i, row in enumerate(rows):
        for column, value in row.content.items():
            altered = (
                "x" if value is None else (value + 1 if isinstance(value, int) else value + " ")
            )
            tampered = [
                *rows[:i],
                replace(row, content={**row.content, column: altered}),
                *rows[i + 1 :],
            ]
            report = verify_rows(run_id, tampered)
            assert report.problem is not None, (row.describe(), column)
            assert (_problem(report).table, _problem(report).seq) == (row.table, row.seq)
            assert _problem(report).kind is Problem.CONTENT_CHANGED


def test_a_deleted_reading_is_found(db):
    path, run_id = db
    seq = _seq_of(path, run_id, "reading", 1)
    _tamper(path, ("DELETE FROM reading WHERE seq = ?", (seq,)))
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.ROW_MISSING
    assert f"seq {seq} absent" in _problem(report).message
    assert report.rows == seq


def test_a_deleted_reading_with_the_rest_renumbered_is_found(db):
    path, run_id = db
    seq = _seq_of(path, run_id, "reading", 1)
    _tamper(path, ("DELETE FROM reading WHERE seq = ?", (seq,)), *_renumber_from(run_id, seq, -1))
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.LINK_BROKEN
    assert _problem(report).seq == seq
    assert f"was not appended after reading seq {seq - 1}" in _problem(report).message


def test_two_swapped_rows_are_found(db):
    path, run_id = db
    a, b = _seq_of(path, run_id, "reading", 0), _seq_of(path, run_id, "reading", 1)
    _tamper(
        path,
        ("UPDATE reading SET seq = -1 WHERE seq = ?", (a,)),
        ("UPDATE reading SET seq = ? WHERE seq = ?", (a, b)),
        ("UPDATE reading SET seq = ? WHERE seq = -1", (b,)),
    )
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.ROWS_REORDERED
    assert _problem(report).seq == a
    assert f"was appended after reading seq {b}" in _problem(report).message


def test_rows_swapped_across_tables_are_found(db):
    path, run_id = db
    a = _seq_of(path, run_id, "conclusion", 0)
    b = _seq_of(path, run_id, "run_event", 0)
    _tamper(
        path,
        ("UPDATE conclusion SET seq = -1 WHERE seq = ?", (a,)),
        ("UPDATE run_event SET seq = ? WHERE seq = ?", (a, b)),
        ("UPDATE conclusion SET seq = ? WHERE seq = -1", (b,)),
    )
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.ROWS_REORDERED
    assert (_problem(report).table, _problem(report).seq) == ("run_event", a)


def test_values_swapped_between_rows_are_found(db):
    path, run_id = db
    a, b = _seq_of(path, run_id, "reading", 0), _seq_of(path, run_id, "reading", 1)
    _tamper(
        path,
        ("UPDATE reading SET result_value = '0.16' WHERE seq = ?", (a,)),
        ("UPDATE reading SET result_value = '0.14' WHERE seq = ?", (b,)),
    )
    report = _verify(path, run_id)
    assert (_problem(report).kind, _problem(report).seq) == (Problem.CONTENT_CHANGED, a)


def test_a_forged_row_sharing_a_sequence_number_is_found(db):
    path, run_id = db
    rows = _rows(path, run_id)
    reading = next(r for r in rows if r.table == "reading")
    template = next(r for r in rows if r.table == "run_event")
    forged = _forge(template, reading.seq, reading.prev_hash, event_key="forged", message="ok")
    _tamper(path, forged)
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.EXTRA_ROW
    assert (_problem(report).table, _problem(report).seq) == ("run_event", reading.seq)
    assert "event_key=forged" in _problem(report).message


def test_a_forged_row_inserted_in_the_middle_is_found(db):
    """Even with a correct hash and everything after it renumbered."""
    path, run_id = db
    rows = _rows(path, run_id)
    original = next(r for r in rows if r.table == "reading")
    forged = _forge(original, original.seq, original.prev_hash, attempt=5)
    _tamper(path, *_renumber_from(run_id, original.seq, 1), forged)
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.EXTRA_ROW
    assert (_problem(report).table, _problem(report).seq) == ("reading", original.seq)
    assert "attempt=5" in _problem(report).message


def test_a_row_altered_and_rehashed_breaks_the_next_link(db):
    path, run_id = db
    rows = _rows(path, run_id)
    i = next(i for i, r in enumerate(rows) if r.table == "reading")
    target = rows[i]
    content = {**target.content, "result_value": "0.01"}
    digest = row_hash(target.table, target.prev_hash, content)
    _tamper(
        path,
        (
            "UPDATE reading SET result_value = ?, row_hash = ? WHERE seq = ?",
            ("0.01", digest, target.seq),
        ),
    )
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.LINK_BROKEN
    assert _problem(report).seq == target.seq + 1
    assert f"not appended after reading seq {target.seq}" in _problem(report).message
    assert "altered and re-hashed" in _problem(report).message


def test_a_forged_row_after_the_run_was_closed_is_found(db):
    path, run_id = db
    rows = _rows(path, run_id)
    template = next(r for r in rows if r.table == "reading")
    last = rows[-1]
    _tamper(path, _forge(template, last.seq + 1, last.row_hash, attempt=9))
    report = _verify(path, run_id)
    assert _problem(report).kind is Problem.ROW_AFTER_CLOSE
    assert _problem(report).seq == last.seq + 1


def test_the_printed_final_hash_anchors_the_end(tmp_path):
    path = tmp_path / "r.db"
    with ResultsStore.open(path) as store:
        run_id = store_sample_run(store, close=False).run_id
        printed = store.final_hash(run_id)
    rows = _rows(path, run_id)
    # dropping the last row leaves a consistent prefix: only the printed hash can tell
    _tamper(path, (f"DELETE FROM {rows[-1].table} WHERE seq = ?", (rows[-1].seq,)))
    assert _verify(path, run_id).ok
    report = _verify(path, run_id, printed)
    assert _problem(report).kind is Problem.FINAL_HASH_MISMATCH
    assert printed in _problem(report).message


def test_a_moved_row_is_missing_from_one_run_and_extra_in_the_other(tmp_path):
    path = tmp_path / "r.db"
    with ResultsStore.open(path) as store:
        store_sample_run(store, "RUN-A")
        store_sample_run(store, "RUN-B")
    seq = _seq_of(path, "RUN-A", "reading", 0)
    _tamper(
        path,
        (
            "UPDATE reading SET run_id = 'RUN-B', attempt = 3, seq = ? "
            "WHERE run_id = 'RUN-A' AND seq = ?",
            (_seq_of(path, "RUN-B", "conclusion", 0), seq),
        ),
    )
    assert _problem(_verify(path, "RUN-A")).kind is Problem.ROW_MISSING
    moved = _problem(_verify(path, "RUN-B"))
    assert (moved.kind, moved.table) == (Problem.EXTRA_ROW, "reading")
