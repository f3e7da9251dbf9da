"""`meterbench report` and `meterbench certificate` through the installed console command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, RUN_OPEN, RUN_X, build_database  # noqa: E402

COMMAND = Path(sys.executable).with_name("meterbench")
if not COMMAND.exists():  # an installation without the venv layout
    COMMAND = Path(shutil.which("meterbench") or "meterbench")


def meterbench(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("METERBENCH_DB", None)
    if env_db is not None:
        env["METERBENCH_DB"] = str(env_db)
    return subprocess.run(
        [str(COMMAND), *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_database(tmp_path_factory.mktemp("cli") / "results.db")


def _one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meterbench: ") and text in lines[0], lines
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def results(db, tmp_path_factory):
    """Every invocation of this module, run side by side once."""
    out = tmp_path_factory.mktemp("out")
    calls = {
        "record": (
            "report",
            RUN_A,
            "--format",
            "pdf",
            "--meter",
            "SN0001",
            "--out",
            str(out),
            "--db",
            str(db),
        ),
        "certificates": ("certificate", RUN_A, "--out", str(out), "--lang", "en", "--db", str(db)),
        "json": ("report", RUN_A, "-f", "json", "--out", str(out), "--db", str(db)),
        "skipped": ("certificate", RUN_X, "--out", str(out), "--db", str(db)),
        "csv": ("report", RUN_A, "-f", "csv", "--meter", "SN0002", "--out", str(out / "csv")),
        "unknown_run": ("report", "RUN-NONE", "--out", str(out), "--db", str(db)),
        "unknown_meter": (
            "certificate",
            RUN_A,
            "--meter",
            "SN9999",
            "--out",
            str(out),
            "--db",
            str(db),
        ),
        "no_db": ("report", RUN_A, "--out", str(out), "--db", str(out / "missing.db")),
        "open_run": ("certificate", RUN_OPEN, "--out", str(out / "open"), "--db", str(db)),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(lambda call: meterbench(*call, env_db=db), calls.values())
        return dict(zip(calls, done, strict=True)), out


def test_record_pdf(results):
    result = results[0]["record"]
    assert result.returncode == 0, result.stderr
    (pdf,) = [Path(line) for line in result.stdout.splitlines()]
    assert pdf.name == f"record-{RUN_A}-pos01-SN0001-zh.pdf"
    document = pypdfium2.PdfDocument(pdf.read_bytes())
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert "原始记录" in text and "SN0001" in text


def test_certificate_and_notice(results):
    result = results[0]["certificates"]
    assert result.returncode == 0, result.stderr
    names = sorted(Path(line).name for line in result.stdout.splitlines())
    assert names == [
        "certificate-sim-1p-24-2026-C00001-en.pdf",
        "notice-sim-1p-24-2026-N00002-en.pdf",
    ]
    skipped = results[0]["skipped"]
    assert skipped.returncode == 0, skipped.stderr
    assert len(skipped.stdout.splitlines()) == 2
    assert "skipped: meter SN0003" in skipped.stderr


def test_json_export(results):
    result = results[0]["json"]
    assert result.returncode == 0, result.stderr
    data = json.loads(Path(result.stdout.strip()).read_text("utf-8"))
    assert data["run"]["run_id"] == RUN_A and len(data["rows"]) == 14


def test_csv_of_one_meter_from_the_default_database(results):
    """No --db: the database comes from $METERBENCH_DB, as for `meterbench runs`."""
    result = results[0]["csv"]
    assert result.returncode == 0, result.stderr
    (path,) = [Path(line) for line in result.stdout.splitlines()]
    assert path.name == f"run-{RUN_A}-pos02-SN0002.csv"
    lines = path.read_text("utf-8-sig").splitlines()
    assert lines[0].startswith("row_type,run_id,final_hash") and len(lines) == 1 + 7


def test_clear_one_line_errors(results):
    found, out = results
    _one_line_error(found["unknown_run"], "no run 'RUN-NONE'")
    _one_line_error(
        found["unknown_meter"], "has no meter 'SN9999' (serial numbers: SN0001, SN0002)"
    )
    _one_line_error(found["no_db"], "no results database at")
    _one_line_error(found["open_run"], "is running")
    assert not (out / "missing.db").exists() and not (out / "open").exists()
