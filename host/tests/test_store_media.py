"""The store on media it does not own: read-only copies, files that vanish, replays.

An auditor's copy of a completed database on read-only media must open for every reading
command without a single write; a database deleted or replaced under a running run must stop
the run instead of letting it write into an unlinked file and report "completed"; and a
record stored again after a crash, equal apart from its timestamp, is the same record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from meterbench.results import ResultsStore
from meterbench.results.errors import DatabaseGoneError
from meterbench.results.models import BatchStatistic
from meterbench.results.sample import sample_records, store_sample_run
from meterbench.runner.context import NullObserver
from meterbench.runner.engine import RunOptions, run_batch

COMMAND = Path(sys.executable).with_name("meterbench")
if not COMMAND.exists():
    COMMAND = Path(shutil.which("meterbench") or "meterbench")
NOBODY = 65534
BENCHES = Path(__file__).parent / "benches"


def _as_reader(argv: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run as a user who may not write the copy (root may write anything, so drop to nobody)."""
    if os.geteuid() == 0:
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    env = {**os.environ, "COLUMNS": "200", "HOME": str(home), "MPLCONFIGDIR": str(home)}
    env.pop("METERBENCH_DB", None)
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def read_only_copy() -> Iterator[tuple[Path, str, Path]]:
    """A completed database in a directory nobody but its owner may write, like a CD-R."""
    top = Path(tempfile.mkdtemp(prefix="meterbench-ro-"))
    media, out = top / "media", top / "out"
    media.mkdir()
    out.mkdir()
    path = media / "results.db"
    with ResultsStore.open(path) as store:
        run = store_sample_run(store)
    os.chmod(path, 0o444)
    os.chmod(media, 0o555)
    os.chmod(top, 0o755)
    os.chmod(out, 0o777)
    try:
        yield path, run.run_id, out
    finally:
        os.chmod(media, 0o755)
        shutil.rmtree(top)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_read_only_copy_opens_for_every_reading_command(read_only_copy) -> None:
    path, run_id, out = read_only_copy
    before = _digest(path.parent)
    db = ["--db", str(path)]
    calls = {
        "runs": ["runs", *db],
        "show": ["show", run_id, *db],
        "verify": ["records", "verify", run_id, *db],
        "report": ["report", run_id, "--out", str(out), *db],
    }
    for name, args in calls.items():
        result = _as_reader([str(COMMAND), *args], out)
        assert result.returncode == 0, (name, result.stderr)
        assert "Traceback" not in result.stderr
    assert run_id in _as_reader([str(COMMAND), *calls["runs"]], out).stdout
    assert any(out.iterdir())  # the report was written where it was asked for
    assert _digest(path.parent) == before  # not one byte written, no -wal or -shm left


def test_reading_a_writable_database_never_migrates_it(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    with ResultsStore.open(path) as store:
        run = store_sample_run(store)
    sqlite3.connect(path).executescript("DROP TRIGGER reading_no_update;")
    with ResultsStore.open(path, read_only=True) as store:
        assert store.verify_chain(run.run_id).ok
    names = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='trigger'")
    assert "reading_no_update" not in {n for (n,) in names}  # reading put nothing back


def _open_run(tmp_path: Path) -> tuple[ResultsStore, str]:
    store = ResultsStore.open(tmp_path / "results.db")
    run = store_sample_run(store, close=False)
    return store, run.run_id


def _late_event(run_id: str):
    from meterbench.results.models import Event, Severity

    return Event(
        run_id=run_id,
        at=dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC),
        severity=Severity.INFO,
        kind="note",
        message="still running",
    )


def test_a_deleted_database_stops_the_next_write(tmp_path: Path) -> None:
    store, run_id = _open_run(tmp_path)
    try:
        for name in ("results.db", "results.db-wal", "results.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        with pytest.raises(DatabaseGoneError, match="results.db"):
            store.append(_late_event(run_id))
    finally:
        store.close()
    assert not (tmp_path / "results.db").exists()  # nothing was quietly created again


def test_a_replaced_database_stops_the_next_write(tmp_path: Path) -> None:
    store, run_id = _open_run(tmp_path)
    try:
        other = tmp_path / "other.db"
        ResultsStore.open(other).close()
        os.replace(other, tmp_path / "results.db")
        with pytest.raises(DatabaseGoneError, match="replaced"):
            store.append(_late_event(run_id))
    finally:
        store.close()


def test_a_statistic_stored_again_after_a_crash_is_a_replay(tmp_path: Path) -> None:
    """The run crashed after its batch statistics and before "completed": on resume they are
    computed again from the same readings and only their timestamp differs."""
    store, run_id = _open_run(tmp_path)
    try:
        stored = [r for r in sample_records(run_id) if isinstance(r, BatchStatistic)]
        assert stored
        later = [dataclasses.replace(r, at=r.at + dt.timedelta(hours=1)) for r in stored]
        assert store.append(*later) == 0
        assert store.batch_statistics(run_id) == stored  # the first record stands
        changed = dataclasses.replace(stored[0], n=stored[0].n + 1)
        with pytest.raises(Exception, match="already stored with different n"):
            store.append(changed)
    finally:
        store.close()


class _DeleteDatabaseAfterFirstStep(NullObserver):
    """Deletes the database (and its journal files) once the first step is stored."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.deleted = False

    def step_done(self, key: str, started: float, finished: float) -> None:
        if not self.deleted:
            self.deleted = True
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.db}{suffix}").unlink(missing_ok=True)


def test_a_run_whose_database_is_deleted_stops_instead_of_completing(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    observer = _DeleteDatabaseAfterFirstStep(db)
    options = RunOptions(
        BENCHES / "runner-1p-8.toml", BENCHES / "plan-short.toml", BENCHES / "meters-8.csv", db=db
    )
    with pytest.raises(DatabaseGoneError, match="deleted"):
        asyncio.run(asyncio.wait_for(run_batch(options, observer), 600))
    assert observer.deleted and not db.exists()
