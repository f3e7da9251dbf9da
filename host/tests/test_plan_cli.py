"""``meterbench plan show`` through the real console command, for every example meter type."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "meterbench"

EXAMPLES = [
    ("jjg596-2012-initial", "1p-class2-5-60a"),
    ("jjg596-2012-initial", "1p-class1-10-100a"),
    ("jjg596-2012-initial", "3p4w-class0.5s-ct-1.5-6a"),
    ("jjg596-2012-initial", "3p4w-class1-5-60a"),
    ("jjg162-2019-water", "water-dn15-q3-2.5-r160"),
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "plan", "show", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("plan", "meter"), EXAMPLES)
def test_plan_show_json_for_each_example_type(plan, meter):
    result = run(
        f"bench_configs/plans/{plan}.toml",
        "--meter-type",
        f"bench_configs/meter_types/{meter}.toml",
        "--json",
        "--reference-constant",
        "1.6e8",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "meterbench/plan-expansion/1"
    assert data["plan"]["id"] == plan and data["meter_type"]["id"] == meter
    assert data["bench"]["reference_constant"] == "160000000"
    assert data["steps"] and isinstance(data["unconfirmed"], list)
    for step in data["steps"]:
        assert {"id", "type", "why", "unconfirmed"} <= set(step)
        for point in step.get("points", []):
            if step["type"] == "std_dev":
                assert point["readings"] == 5 and point["limit"] == "0.1"
                point = point["point"]
            assert "limits" in point and "rounding_interval" in point
            if step["type"] == "basic_error":
                assert point["pulses"]["pulses_per_reading"] >= 1
                assert point["readings"]["base"] >= 1
                assert point["limits"]["mpe"] and point["voltage_v"] and point["pf"]
            if step["type"] == "water_error":
                assert point["volume_l"] and point["duration_s"]


def test_json_values_for_the_single_phase_meter():
    result = run("jjg596-2012-initial", "-m", "1p-class2-5-60a", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["creep"]["duration_s"] == 1819 and steps["creep"]["voltage_v"] == "253"
    assert steps["starting"]["t0_s"] == "654.545"
    ib = next(p for p in steps["basic_error"]["points"] if p["key"] == "P+/all/Ib/1.0")
    assert ib["limits"] == {"mpe": "2", "acceptance": None, "acceptance_basis": None}
    assert ib["rounding_interval"] == "0.2"
    assert ib["pulses"]["reference_constant"] is None  # not given on this call
    assert steps["clock"]["total_s"] == "300"
    assert [s["id"] for s in data["skipped"]] == ["std_dev"]


def test_table_output_without_json():
    result = run("jjg162-2019-water", "--meter-type", "water-dn15-q3-2.5-r160")
    assert result.returncode == 0, result.stderr
    assert "water_error" in result.stdout and "15.625" in result.stdout
    assert "unconfirmed values used" in result.stdout
    result = run("jjg596-2012-initial", "-m", "3p4w-class0.5s-ct-1.5-6a", "--max-current", "5")
    assert result.returncode == 0, result.stderr
    assert "basic_error" in result.stdout and "(!)" in result.stdout
    assert "warning:" in result.stdout


def test_bad_meter_type_file_names_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'class = "2"\nconnection = "direct"\nwiring = "1p"\nun_v = 220\nib_a = 5\n'
        "imax_a = 5\nconstant_imp_per_kwh = 1200\n",
        encoding="utf-8",
    )
    result = run("jjg596-2012-initial", "--meter-type", str(bad), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "bad.toml: field 'imax_a': must be greater than ib_a" in result.stderr


def test_missing_files_and_bad_options():
    result = run("no-such-plan", "-m", "1p-class2-5-60a")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "no-such-plan: no such file, and no shipped plan has that name" in result.stderr
    assert "jjg596-2012-initial" in result.stderr  # what is shipped is listed
    result = run("jjg596-2012-initial", "-m", "no-such-type")
    assert result.returncode == 2 and "shipped meter type" in result.stderr
    assert "1p-class2-5-60a" in result.stderr
    result = run("jjg596-2012-initial", "-m", "1p-class2-5-60a", "--reference-constant", "abc")
    assert result.returncode == 2 and "not a number" in result.stderr
