"""`meterbench demo` explains itself: it names the positions with injected faults and what
they should fail, and its run can be found again with the commands it prints."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from meterbench.kinds.electricity.simulator import SimulatedBench

REPO = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).with_name("meterbench")
if not COMMAND.exists():
    COMMAND = Path(shutil.which("meterbench") or "meterbench")

SHORT_PLAN = """
[plan]
id = "demo-short"
title = "communication only"
regulation = "jjg596-2012"
verification = "initial"
kind = "electricity"

[[items]]
type = "communication"
checks = ["read_address"]
"""


def _meterbench(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=900
    )


def test_the_demo_bench_names_each_injected_fault_and_its_expected_failure() -> None:
    bench = SimulatedBench.from_file(REPO / "bench_configs" / "sim-1p-24.toml")
    try:
        notes = bench.fault_notes(range(1, 25))
    finally:
        shutil.rmtree(bench.workdir, ignore_errors=True)
    by_position = {int(n.split()[1].rstrip(":")): n for n in notes}
    # the bench file's faults; positions 2, 5, 9, 11, 14, 20 err within their class
    assert sorted(by_position) == [3, 7, 10, 15, 18, 22]
    for position, item in [
        (3, "basic error"),
        (7, "creep should fail"),
        (10, "starting should fail"),
        (15, "clock should fail"),
        (18, "register should fail"),
        (22, "communication should fail"),
    ]:
        assert item in by_position[position], by_position[position]


def test_the_demo_says_where_its_run_is_and_those_commands_find_it(tmp_path: Path) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / "short.toml").write_text(SHORT_PLAN, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "200", "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("METERBENCH_DB", None)
    demo = _meterbench(work, "demo", "--plan", "short.toml", "--plain", env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "simulated fault: position 22: never answers on its bus" in demo.stdout
    assert "simulated fault: position 3: pulses +2.6 % off" in demo.stdout
    lines = demo.stdout.splitlines()
    run_id = next(line.split()[1] for line in lines if line.endswith(" completed"))
    commands = [shlex.split(line.strip())[1:] for line in lines if line.startswith("  meterbench ")]
    assert [c[0] for c in commands] == ["runs", "report"], lines
    # from another directory, exactly as printed
    runs = _meterbench(elsewhere, *commands[0], env=env)
    assert runs.returncode == 0 and run_id in runs.stdout, runs.stdout + runs.stderr
    report = _meterbench(elsewhere, *commands[1], "-f", "json", "--out", "r", env=env)
    assert report.returncode == 0, report.stderr
    assert run_id in (elsewhere / report.stdout.split()[0]).read_text(encoding="utf-8")
    # the default database was not touched: the demo keeps its own
    assert not (tmp_path / "data" / "meterbench" / "results.db").exists()


def test_a_demo_into_the_default_database_is_listed_by_plain_runs(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    env["METERBENCH_DB"] = str(tmp_path / "lab.db")
    (tmp_path / "short.toml").write_text(SHORT_PLAN, encoding="utf-8")
    demo = _meterbench(tmp_path, "demo", "--plan", "short.toml", "--plain", env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    run_id = next(
        line.split()[1] for line in demo.stdout.splitlines() if line.endswith(" completed")
    )
    assert f"database: {tmp_path / 'lab.db'} (the default" in demo.stdout
    runs = _meterbench(tmp_path, "runs", env=env)
    assert run_id in runs.stdout, runs.stdout + runs.stderr
