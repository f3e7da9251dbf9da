"""The results store on a PostgreSQL server: bench workers appending at once, store
selection by URL, `meterbench db migrate --url`, `records verify` on a server database."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from meterbench.cli import app
from meterbench.results import ResultsStore
from meterbench.results.connector_pg import lock_key, redacted
from meterbench.results.migrations import MIGRATIONS
from meterbench.results.sample import store_sample_run

WORKER = Path(__file__).with_name("pg_append_worker.py")
PER_WORKER = 150


def _start_worker(url: str, run_id: str, position: int) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), url, run_id, str(position), str(PER_WORKER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    return worker


def _waiting_for_lock(url: str, key: int) -> int:
    """How many sessions wait for the run's advisory lock right now."""
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    with psycopg.connect(url) as probe:
        row = probe.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid::bigint = %s AND objid::bigint = %s",
            (classid, objid),
        ).fetchone()
    return int(row[0]) if row else 0


def test_two_workers_appending_to_one_run_leave_a_chain_that_verifies(postgres_url):
    with ResultsStore.open(postgres_url) as store:
        run_id = store_sample_run(store, "SHARED", close=False).run_id
        rows_before = store.verify_chain(run_id).rows
    key = lock_key(f"run:{run_id}")
    # Hold the run's chain lock, so both workers' first appends are in flight at once and
    # are released together: without the lock both would read the same head.
    holder = psycopg.connect(postgres_url)
    holder.execute("BEGIN")
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
    workers = [_start_worker(postgres_url, run_id, position) for position in (1, 2)]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    while _waiting_for_lock(postgres_url, key) < 2:
        assert time.monotonic() < deadline, "the workers never reached the chain lock"
    holder.execute("COMMIT")
    holder.close()
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert [o.split()[-1] for o in outputs] == [str(PER_WORKER)] * 2
    with ResultsStore.open(postgres_url, read_only=True) as store:
        report = store.verify_chain(run_id)
        rows = store.chain_rows(run_id)
    assert report.ok, report.summary()
    assert report.rows == rows_before + 2 * PER_WORKER
    assert [r.seq for r in rows] == list(range(report.rows))
    added = [int(str(r.content["position_no"])) for r in rows[rows_before:]]
    assert sorted(added) == [1] * PER_WORKER + [2] * PER_WORKER


def test_db_migrate_by_url_then_every_command_takes_the_url(postgres_url, tmp_path):
    cli = CliRunner()
    first = cli.invoke(app, ["db", "migrate", "--url", postgres_url])
    assert first.exit_code == 0, first.output
    assert f"0 -> {MIGRATIONS[-1].version}" in first.output
    again = cli.invoke(app, ["db", "migrate", "--url", postgres_url])
    assert again.exit_code == 0 and "up to date" in again.output
    with ResultsStore.open(postgres_url) as store:
        store_sample_run(store, "RUN-A")
    listed = cli.invoke(app, ["runs", "--db", postgres_url])
    assert listed.exit_code == 0 and "RUN-A" in listed.output
    verified = cli.invoke(app, ["records", "verify", "RUN-A", "--db", postgres_url])
    assert verified.exit_code == 0 and "chain intact" in verified.output


def test_db_migrate_creates_an_sqlite_file_too(tmp_path):
    path = tmp_path / "lab.db"
    result = CliRunner().invoke(app, ["db", "migrate", "--db", str(path)])
    assert result.exit_code == 0, result.output
    with ResultsStore.open(path, read_only=True) as store:
        assert store.schema_version == MIGRATIONS[-1].version


def test_an_unreachable_server_is_one_line_and_exit_2(postgres_cluster):
    url = postgres_cluster.url("no_such_database")
    result = CliRunner().invoke(app, ["runs", "--db", url])
    assert result.exit_code == 2
    assert "cannot use the results database" in result.output
    assert "no_such_database" in result.output


def test_passwords_never_appear_in_messages():
    assert redacted("postgresql://lab:secret@db.example:5433/results") == (
        "postgresql://lab:***@db.example:5433/results"
    )
    assert redacted("postgresql://lab@db/results") == "postgresql://lab@db/results"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_both_url_schemes_select_the_server(postgres_cluster, scheme):
    url = postgres_cluster.new_database().replace("postgresql://", f"{scheme}://", 1)
    with ResultsStore.open(url) as store:
        assert store._db.dialect == "postgresql"
