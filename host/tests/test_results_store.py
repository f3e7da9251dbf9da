"""Results store: append-only rules, idempotent keys, resume queries, schema versions, files.

Every test that takes ``store`` runs twice: on SQLite and on the session's PostgreSQL server."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal

import pytest

from meterbench.results import (
    ClosedRunError,
    Conclusion,
    ConflictError,
    CorruptDatabaseError,
    DatabaseMissingError,
    Event,
    MissingReferenceError,
    NotAResultsDatabaseError,
    Outcome,
    Position,
    Reading,
    ResultsStore,
    RunStatus,
    SchemaTooNewError,
    Severity,
    StatusTransitionError,
    Step,
    StoreError,
    UnknownRunError,
)
from meterbench.results.migrations import MIGRATIONS, Migration
from meterbench.results.sample import BASIC, START, sample_run, store_sample_run
from meterbench.results.schema import SCHEMA_TABLE, TABLES

T0 = START


@pytest.fixture
def store(db_location):
    with ResultsStore.open(db_location) as s:
        yield s


@pytest.fixture
def sqlite_store(tmp_path):
    with ResultsStore.open(tmp_path / "results.db") as s:
        yield s


def _raw_columns(location: str, table: str) -> list[str]:
    """Column names in table order, asked of the database itself (not through the store)."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location) as raw:
            rows = raw.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s ORDER BY ordinal_position",
                (table,),
            ).fetchall()
        return [str(r[0]) for r in rows]
    with sqlite3.connect(location) as raw:
        return [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]


@pytest.fixture
def open_run(store):
    """A running run with two meters and the sample steps."""
    return store_sample_run(store, close=False).run_id


def _reading(run_id: str, index: int, value: str = "0.10", **extra: object) -> Reading:
    fields: dict[str, object] = dict(
        run_id=run_id,
        position=1,
        step_key="creep",
        index=index,
        at=T0 + timedelta(seconds=index),
        raw={"m": 1000 + index, "N": 10},
        value=Decimal(value),
        unit="%",
    )
    fields.update(extra)
    return Reading(**fields)  # type: ignore[arg-type]


def test_the_database_is_wal_with_full_sync_and_versioned(tmp_path, sqlite_store):
    store = sqlite_store
    raw = sqlite3.connect(tmp_path / "results.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    version = raw.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}").fetchone()[0]
    assert version == MIGRATIONS[-1].version == store.schema_version
    raw.close()
    # synchronous is a per-connection setting: check the store's own connection.
    assert store._db.execute("PRAGMA synchronous")[0][0] == 2  # FULL


def test_schema_matches_the_table_specs(db_location, store):
    assert store.schema_version == MIGRATIONS[-1].version
    for table in TABLES:
        columns = _raw_columns(db_location, table.name)
        # a column added by a later migration (ALTER TABLE) comes after the chain columns
        chain = ["seq", "prev_hash", "row_hash"]
        assert [c for c in columns if c not in chain] == list(table.columns), table.name
        assert [c for c in columns if c in chain] == chain, table.name


def test_reappending_identical_records_is_a_no_op(store, open_run):
    before = store.load_run(open_run)
    assert store.create_run(sample_run()) is False
    assert store.append(*before.positions, *before.steps, *before.readings) == 0
    assert store.append(*before.conclusions, *before.events, *before.batch_statistics) == 0
    after = store.load_run(open_run)
    assert after == before
    assert store.verify_chain(open_run).ok


def test_a_batch_mixing_replays_and_new_rows_inserts_only_the_new(store, open_run):
    first = _reading(open_run, 0)
    assert store.append(first) == 1
    assert store.append(first, _reading(open_run, 1), _reading(open_run, 2)) == 2
    assert [r.index for r in store.readings(open_run, step_key="creep")] == [0, 1, 2]


def test_same_key_with_different_content_is_refused_and_nothing_of_the_batch_is_kept(
    store, open_run
):
    store.append(_reading(open_run, 0, "0.10"))
    head = store.final_hash(open_run)
    with pytest.raises(ConflictError, match="result_value"):
        store.append(_reading(open_run, 1), _reading(open_run, 0, "0.11"))
    assert store.final_hash(open_run) == head
    assert store.next_reading_index(open_run, 1, "creep") == 1


def test_a_retry_is_a_new_attempt_not_an_overwrite(store, open_run):
    store.append(_reading(open_run, 0, "9.99", status="invalid"))
    store.append(_reading(open_run, 0, "0.10", attempt=1, status="retried"))
    readings = store.readings(open_run, step_key="creep", position=1)
    assert [(r.index, r.attempt, r.status.value) for r in readings] == [
        (0, 0, "invalid"),
        (0, 1, "retried"),
    ]


def test_rows_must_refer_to_appended_positions_and_steps(store, open_run):
    with pytest.raises(MissingReferenceError, match="position or step"):
        store.append(_reading(open_run, 0, position=7))
    with pytest.raises(MissingReferenceError, match="position or step"):
        store.append(_reading(open_run, 0, step_key="nope"))
    with pytest.raises(UnknownRunError):
        store.append(_reading("ghost", 0))


def test_status_changes_are_appended_and_checked(store, open_run):
    with pytest.raises(StatusTransitionError, match="running to running"):
        store.set_status(open_run, "running", T0 + timedelta(minutes=1))
    store.set_status(open_run, "interrupted", T0 + timedelta(minutes=2), "power cut")
    assert store.status(open_run) is RunStatus.INTERRUPTED
    store.set_status(open_run, "running", T0 + timedelta(minutes=3), "resumed")
    store.set_status(open_run, "completed", T0 + timedelta(minutes=4))
    assert [s.status.value for s in store.statuses(open_run)] == [
        "running",
        "interrupted",
        "running",
        "completed",
    ]
    # replay of the closing change is fine; anything new is refused
    assert store.set_status(open_run, "completed", T0 + timedelta(minutes=4)) is False
    with pytest.raises(ClosedRunError, match="completed"):
        store.append(_reading(open_run, 0))
    with pytest.raises(ClosedRunError):
        store.set_status(open_run, "aborted", T0 + timedelta(minutes=5))


def test_the_database_refuses_update_delete_and_truncate(postgres_url):
    import psycopg

    with ResultsStore.open(postgres_url) as store:
        store_sample_run(store, "RUN-PG", close=False)
    for sql in (
        "UPDATE reading SET result_value = '0' WHERE run_id = 'RUN-PG'",
        "DELETE FROM run_status",
        "TRUNCATE run_event CASCADE",
    ):
        with (
            psycopg.connect(postgres_url) as raw,
            pytest.raises(psycopg.Error, match="append-only"),
        ):
            raw.execute(sql)


def test_the_sqlite_file_refuses_update_and_delete(tmp_path, sqlite_store):
    open_run = store_sample_run(sqlite_store, close=False).run_id
    raw = sqlite3.connect(tmp_path / "results.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE reading SET result_value = '0' WHERE run_id = ?", (open_run,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM run_status")
    raw.close()


def test_resume_queries(store, open_run):
    done = store.completed_steps(open_run)
    assert done == {1: frozenset({"creep", BASIC, "register"}), 2: done[2]}
    assert done[2] == frozenset({"creep", BASIC, "register"})
    store.append(
        Position(run_id=open_run, position=3, meter_type="DDZY-1", serial_no="SN0003"),
        Step(run_id=open_run, step_key="clock", ordinal=3, item="clock", point="1 Hz"),
    )
    store.append(_reading(open_run, 0, position=3, step_key="clock"))
    store.append(_reading(open_run, 1, position=3, step_key="clock"))
    assert store.completed_steps(open_run)[3] == frozenset()
    assert store.next_reading_index(open_run, 3, "clock") == 2
    assert store.next_reading_index(open_run, 2, "clock") == 0
    assert [r.index for r in store.readings(open_run, step_key="clock", position=3)] == [0, 1]
    assert set(store.snapshots(open_run)) == {
        "bench_config",
        "plan",
        "meter_types",
        "regulation_profile",
        "firmware_versions",
    }
    assert [s.step_key for s in store.steps(open_run)][-1] == "clock"
    conclusions = store.conclusions(open_run, step_key=BASIC, position=2)
    assert [c.limit_kind.value for c in conclusions] == ["mpe", "acceptance"]
    assert store.get_run(open_run) == sample_run()


def test_events_replay_without_duplicates(store, open_run):
    event = Event(
        run_id=open_run, at=T0, severity=Severity.ERROR, kind="fault", message="lost pulses"
    )
    assert store.append(event) == 1
    assert store.append(event) == 0
    assert sum(e.kind == "fault" for e in store.events(open_run)) == 1


def test_list_and_load_runs(store):
    first = store_sample_run(store, "RUN-A")
    second = store_sample_run(store, "RUN-B", close=False)
    summaries = store.list_runs()
    assert [s.run_id for s in summaries] == [first.run_id, second.run_id]
    assert summaries[0].status is RunStatus.COMPLETED and summaries[0].meters == 2
    assert summaries[1].status is RunStatus.RUNNING and summaries[1].finished_at is None
    assert summaries[0].final_hash == store.final_hash("RUN-A")
    record = store.load_run("RUN-B")
    assert record.final_hash == store.verify_chain("RUN-B").final_hash
    assert record.rows == store.verify_chain("RUN-B").rows
    assert [r.value for r in record.readings_for(2, BASIC)] == [Decimal("-0.35"), Decimal("-0.25")]
    plain = record.to_plain()
    assert plain["readings"][0]["value"] == "0.14"
    with pytest.raises(UnknownRunError):
        store.load_run("RUN-C")


def test_runs_are_independent_chains(store):
    store_sample_run(store, "RUN-A", close=False)
    store_sample_run(store, "RUN-B", close=False)
    store.append(_reading("RUN-A", 0))
    assert store.verify_chain("RUN-A").ok and store.verify_chain("RUN-B").ok
    assert store.verify_chain("RUN-A").rows == store.verify_chain("RUN-B").rows + 1


# -- schema versions ------------------------------------------------------------------------

EXTRA = Migration(
    MIGRATIONS[-1].version + 1,
    "test: an extra table",
    ("CREATE TABLE lab_note (run_id TEXT NOT NULL, note TEXT NOT NULL)",),
)


def test_an_older_database_is_upgraded_and_keeps_its_records(tmp_path):
    path = tmp_path / "old.db"
    with ResultsStore.open(path) as old:
        store_sample_run(old, "RUN-A")
        before = old.load_run("RUN-A")
    with ResultsStore.open(path, migrations=(*MIGRATIONS, EXTRA)) as new:
        assert new.schema_version == EXTRA.version
        assert new.load_run("RUN-A") == before
        assert new.verify_chain("RUN-A").ok
    raw = sqlite3.connect(path)
    versions = [r[0] for r in raw.execute(f"SELECT version FROM {SCHEMA_TABLE} ORDER BY version")]
    assert versions == [*(m.version for m in MIGRATIONS), EXTRA.version]
    assert raw.execute("SELECT COUNT(*) FROM lab_note").fetchone()[0] == 0
    raw.close()


def test_an_empty_file_gets_every_migration(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with ResultsStore.open(path, create=False) as store:
        assert store.schema_version == MIGRATIONS[-1].version


def test_a_newer_database_is_refused_untouched(tmp_path):
    path = tmp_path / "new.db"
    with ResultsStore.open(path, migrations=(*MIGRATIONS, EXTRA)) as newer:
        store_sample_run(newer, "RUN-A")
    size = path.stat().st_size
    with pytest.raises(SchemaTooNewError, match=rf"version {EXTRA.version}.*upgrade meterbench"):
        ResultsStore.open(path)
    assert path.stat().st_size == size
    with ResultsStore.open(path, migrations=(*MIGRATIONS, EXTRA)) as again:
        assert again.verify_chain("RUN-A").ok


def test_a_failing_migration_leaves_the_old_version(tmp_path):
    path = tmp_path / "r.db"
    ResultsStore.open(path).close()
    broken = Migration(EXTRA.version, "broken", ("CREATE TABLE t (a TEXT)", "NOT SQL"))
    with pytest.raises(StoreError):
        ResultsStore.open(path, migrations=(*MIGRATIONS, broken))
    with ResultsStore.open(path) as store:
        assert store.schema_version == MIGRATIONS[-1].version
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == []
    raw.close()


# -- files ------------------------------------------------------------------------------------


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(DatabaseMissingError, match="no results database"):
        ResultsStore.open(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an sqlite file at all" * 100)
    with pytest.raises(CorruptDatabaseError, match="not a readable results database"):
        ResultsStore.open(junk)
    foreign = tmp_path / "foreign.db"
    raw = sqlite3.connect(foreign)
    raw.execute("CREATE TABLE customers (name TEXT)")
    raw.close()
    with pytest.raises(NotAResultsDatabaseError, match="not a meterbench results database"):
        ResultsStore.open(foreign)


def test_parent_directories_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "results.db"
    ResultsStore.open(path).close()
    assert path.exists()


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    from meterbench.results import default_db_path

    monkeypatch.setenv("METERBENCH_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("METERBENCH_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "meterbench" / "results.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local/share/meterbench/results.db"


def test_conclusion_without_limits_and_new_run_ids():
    from meterbench.results import new_run_id

    c = Conclusion(run_id="R", position=1, step_key="visual", at=T0, outcome=Outcome.NO_RESULT)
    assert c.lower is None and c.limit_kind.value == "mpe"
    a, b = new_run_id(T0, "sim 1p/24"), new_run_id(T0, "sim 1p/24")
    assert a != b and a.startswith("20260302T083000Z-sim-1p-24-")


def test_appends_from_a_worker_thread_of_an_event_loop(store, open_run):
    """The runner may keep fsyncs off its event loop with asyncio.to_thread."""
    import asyncio

    async def main() -> list[int]:
        return await asyncio.gather(
            *(asyncio.to_thread(store.append, _reading(open_run, i)) for i in range(8))
        )

    assert asyncio.run(main()) == [1] * 8
    assert store.next_reading_index(open_run, 1, "creep") == 8
    assert store.verify_chain(open_run).ok
