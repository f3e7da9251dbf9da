"""`meterbench runs`, `show` and `records verify`, through the installed console command."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from meterbench.results import ResultsStore
from meterbench.results.sample import store_sample_run

COMMAND = Path(sys.executable).with_name("meterbench")
if not COMMAND.exists():  # an installation without the venv layout
    COMMAND = Path(shutil.which("meterbench") or "meterbench")


def meterbench(*args: str, db: Path | None = None, env_db: Path | None = None):
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("METERBENCH_DB", None)
    if env_db is not None:
        env["METERBENCH_DB"] = str(env_db)
    argv = [str(COMMAND), *args, *(["--db", str(db)] if db else [])]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "results.db"
    with ResultsStore.open(path) as store:
        store_sample_run(store, "RUN-A")
        store_sample_run(store, "RUN-B", close=False)
        hashes = {run: store.final_hash(run) for run in ("RUN-A", "RUN-B")}
    return path, hashes


def meterbench_all(*calls: tuple[tuple[str, ...], dict]) -> list:
    """Several independent invocations at once (each start-up costs a fraction of a second)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: meterbench(*call[0], **call[1]), calls))


def _one_line_error(result, text: str) -> None:
    assert result.returncode == 2, result
    assert result.stderr.startswith("meterbench: ") and text in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_runs_lists_every_run(db):
    path, hashes = db
    result = meterbench("runs", env_db=path)  # default database from $METERBENCH_DB
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    row_a = next(line for line in lines if "RUN-A" in line)
    row_b = next(line for line in lines if "RUN-B" in line)
    for cell in ("2026-03-02 08:30", "sim-1p-24", "jjg596-2012-initial", " 2 "):
        assert cell in row_a
    assert "completed" in row_a and hashes["RUN-A"][:12] in row_a
    assert "running" in row_b and hashes["RUN-B"][:12] in row_b


def test_show_prints_the_record(db):
    path, hashes = db
    result = meterbench("show", "RUN-A", db=path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("SN0001", "A00000002", "+0.14 +0.16", "-0.35 -0.25", "[-1.2, +1.2] acceptance"):
        assert text in out
    assert "register ran ahead of the pulses" in out
    assert "20.3 °C, 48 %RH, lab 2" in out
    assert hashes["RUN-A"] in out
    assert "(1 frame attached)" in out


def test_show_json_has_every_row_with_exact_numbers(db):
    path, hashes = db
    result = meterbench("show", "RUN-A", "--json", db=path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["final_hash"] == hashes["RUN-A"] and data["status"] == "completed"
    assert [r["value"] for r in data["readings"][:2]] == ["0.14", "0.16"]
    assert data["batch_statistics"][0]["std"] == "0.3181980515339463"
    assert data["snapshots"]["firmware_versions"] == {"controller-1": "0.3.1"}
    assert data["rows"] == 29


def test_records_verify_intact_and_tampered(tmp_path):
    path = tmp_path / "r.db"
    with ResultsStore.open(path) as store:
        store_sample_run(store, "RUN-A")
        final = store.final_hash("RUN-A")
        seq = next(r.seq for r in store.chain_rows("RUN-A") if r.table == "reading")
    good, expected = meterbench_all(
        (("records", "verify", "RUN-A"), {"db": path}),
        (("records", "verify", "RUN-A", "--expect", final), {"db": path}),
    )
    assert good.returncode == 0, good.stderr
    chain_line, signature_line = good.stdout.strip().splitlines()
    assert chain_line == f"chain intact, final hash {final} (29 rows)"
    assert signature_line == "not signed (no lab key given, none stored)"
    assert expected.returncode == 0

    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER reading_no_update")
    raw.execute("UPDATE reading SET result_value = '0.10' WHERE seq = ?", (seq,))
    raw.commit()
    raw.close()
    bad = meterbench("records", "verify", "RUN-A", db=path)
    assert bad.returncode == 1
    assert f"content changed: reading seq {seq} (position_no=1," in bad.stdout


def test_expect_catches_a_different_final_hash(db):
    path, hashes = db
    result = meterbench("records", "verify", "RUN-B", "--expect", hashes["RUN-A"], db=path)
    assert result.returncode == 1
    assert "final hash" in result.stdout and hashes["RUN-A"] in result.stdout


def test_clear_errors(db, tmp_path):
    path, _ = db
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 512)
    missing, unknown_show, unknown_verify, corrupt = meterbench_all(
        (("runs",), {"db": tmp_path / "absent.db"}),
        (("show", "RUN-Z"), {"db": path}),
        (("records", "verify", "RUN-Z"), {"db": path}),
        (("runs",), {"db": junk}),
    )
    _one_line_error(missing, "no results database at")
    assert not (tmp_path / "absent.db").exists()
    _one_line_error(unknown_show, "no run 'RUN-Z'")
    _one_line_error(unknown_verify, "no run 'RUN-Z'")
    _one_line_error(corrupt, "is not a readable results database")


def test_an_empty_database_has_no_runs(tmp_path):
    path = tmp_path / "empty.db"
    ResultsStore.open(path).close()
    result = meterbench("runs", db=path)
    assert result.returncode == 0 and result.stdout.strip() == f"no runs in {path}"
