"""The simulated gas bench (bell prover on Modbus, CJ/T 188 gas meters) under meter faults:
a meter that never answers gets no result at its own points only, a meter reporting its
valve shut fails its own points only, and every other meter's verdicts are untouched. Its
commissioning names the silent meter's port. Runs on its own bench file, never on hardware."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hil_support import BENCHES, Record, meterbench, read_record

BENCH = BENCHES / "gas-faults.toml"
PLAN = BENCHES / "plan-gas.toml"
METERS = BENCHES / "meters-gas-4.csv"
POINTS = ("gas_error/qmax", "gas_error/0.2qmax")


@pytest.fixture(scope="module")
def gas_record(tmp_path_factory: pytest.TempPathFactory) -> Record:
    db = tmp_path_factory.mktemp("gas-faults") / "results.db"
    result = meterbench(
        "run", "--bench", BENCH, "--plan", PLAN, "--meters", METERS, "--db", db, "--plain"
    )
    assert result.returncode == 0, result.stderr
    return read_record(db)


def test_meter_faults_stay_at_their_own_positions(gas_record: Record) -> None:
    record = gas_record
    outcomes = {(p, s): v[0] for (p, s, kind), v in record.conclusions.items() if kind == "mpe"}
    assert record.status == "completed"
    for position in (1, 4):
        for key in (*POINTS, "gas_tightness"):
            assert outcomes[(position, key)] == "pass", (position, key)
    for key in POINTS:
        assert outcomes[(2, key)] == "no_result"
        assert outcomes[(3, key)] == "fail"
    reasons = record.reasons
    assert "valve" in str(reasons[(3, "gas_error/qmax", "mpe")])
    assert "gas meter" in str(reasons[(2, "gas_error/qmax", "mpe")])


def test_commissioning_names_the_silent_meter(tmp_path: Path) -> None:
    result = meterbench("selftest", "--bench", BENCH, "--meters", METERS, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    failed = {(c["kind"], c["position"]) for c in report["checks"] if c["passed"] is False}
    assert failed == {("meter_port", 2)}
    gas = next(c for c in report["checks"] if c["kind"] == "gas")
    assert gas["passed"] and "bell prover stopped" in gas["detail"]
