"""Bad input is refused at the door: one line, exit 2, nothing started.

Every case runs the installed ``meterbench`` command. A run refused here opens no bench and
stores no run; setpoints the bench cannot deliver and an expired reference standard are
refused before anything is switched on.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).with_name("meterbench")
if not COMMAND.exists():
    COMMAND = Path(shutil.which("meterbench") or "meterbench")
BENCHES = Path(__file__).parent / "benches"


def meterbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("METERBENCH_DB", None)
    return subprocess.run(
        [str(COMMAND), *args], capture_output=True, text=True, env=env, timeout=120, cwd=cwd
    )


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    line = result.stderr.strip()
    assert line.count("\n") == 0 and "Traceback" not in line, line
    for word in words:
        assert word in line, line


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    for name in ("runner-1p-8.toml", "plan-short.toml", "meters-8.csv"):
        shutil.copy(BENCHES / name, tmp_path / name)
    shutil.copytree(BENCHES / "meter_types", tmp_path / "meter_types")
    return tmp_path


def _run_args(folder: Path, *extra: str) -> tuple[str, ...]:
    return (
        "run",
        "--bench",
        str(folder / "runner-1p-8.toml"),
        "--plan",
        str(folder / "plan-short.toml"),
        "--meters",
        str(folder / "meters-8.csv"),
        "--db",
        str(folder / "results.db"),
        "--plain",
        *extra,
    )


def _stored_runs(db: Path) -> int:
    if not db.exists():
        return 0
    return sqlite3.connect(db).execute("SELECT COUNT(*) FROM run").fetchone()[0]


def test_run_options_out_of_range(bench_dir: Path) -> None:
    cases = {
        ("--time-scale", "0"): "--time-scale",
        ("--time-scale", "nan"): "--time-scale",
        ("--temperature", "150"): "--temperature",
        ("--humidity", "120"): "--humidity",
        ("--humidity", "-1"): "--humidity",
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda extra: meterbench(*_run_args(bench_dir, *extra)), cases))
    for (extra, word), result in zip(cases.items(), results, strict=True):
        _refused(result, word)
        assert extra[1] in result.stderr
    assert not (bench_dir / "results.db").exists()  # nothing was opened or created


def test_other_commands_refuse_bad_numbers(bench_dir: Path) -> None:
    bench = str(bench_dir / "runner-1p-8.toml")
    calls = [
        (("demo", "--time-scale", "0", "--out", str(bench_dir / "demo")), "--time-scale"),
        (("selftest", "--bench", bench, "--current", "-5"), "--current"),
        (("selftest", "--bench", bench, "--time-scale", "-1"), "--time-scale"),
        (("sim", "serve", "--bench", bench, "--time-scale", "0"), "--time-scale"),
        (("sim", "meter", "--listen", "127.0.0.1:0", "--current", "-1"), "--current"),
        (("meter", "read", "FFFFFFFF", "--port", "socket://127.0.0.1:9"), "FFFFFFFF"),
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda call: meterbench(*call[0]), calls))
    for (_args, word), result in zip(calls, results, strict=True):
        _refused(result, word)
    assert not (bench_dir / "demo").exists()


def test_setpoints_beyond_the_source_stop_the_run_before_it_starts(bench_dir: Path) -> None:
    path = bench_dir / "runner-1p-8.toml"
    path.write_text(path.read_text().replace("max_current_a = 100", "max_current_a = 10"))
    result = meterbench(*_run_args(bench_dir))
    _refused(result, "runner-1p-8.toml", "bench.max_current_a", "60 A", "at most 10")
    assert _stored_runs(bench_dir / "results.db") == 0


def test_an_expired_standard_stops_the_run_before_it_starts(bench_dir: Path) -> None:
    path = bench_dir / "runner-1p-8.toml"
    path.write_text(
        path.read_text().replace("valid_until = 2030-01-01", "valid_until = 2020-01-01")
    )
    result = meterbench(*_run_args(bench_dir))
    _refused(result, "runner-1p-8.toml", "standard.valid_until", "2020-01-01")
    assert _stored_runs(bench_dir / "results.db") == 0
