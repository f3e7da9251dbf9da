"""The simulated heat bench (``benches/heat-4.toml``): commissioning finds every device of the
heat part (baths, reference thermometers, calculator tester) and the one meter that never
answers; a run of the heat scenario plan concludes the sound meters as on a fault-free bench
and ends the silent meter's points without a result, nothing stored twice, chain intact.
Always simulated, so it runs on the bench PC as well."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hil_support import BENCHES, meterbench, read_record

BENCH = BENCHES / "heat-4.toml"
METERS = BENCHES / "meters-heat-4.csv"
PLAN = BENCHES / "plan-heat.toml"
POINTS = ("heat_complete/qp/dtmin", "heat_sensor_pair/10-20K", "communication")


def test_commissioning_finds_the_heat_devices_and_the_silent_meter() -> None:
    result = meterbench("selftest", "--bench", BENCH, "--meters", METERS, "--json")
    assert result.returncode == 1, result.stderr  # one check fails: the silent meter
    checks = json.loads(result.stdout)["checks"]
    (heat,) = [c for c in checks if c["kind"] == "heat"]
    assert heat["passed"], heat
    assert "supply bath 40" in heat["detail"] and "calculator tester" in heat["detail"]
    ports = {c["position"]: c["passed"] for c in checks if c["kind"] == "meter_port"}
    assert ports == {1: True, 2: True, 3: True, 4: False}


@pytest.mark.slow
def test_a_heat_run_concludes_the_sound_meters_and_not_the_silent_one(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    result = meterbench(
        "run", "--bench", BENCH, "--plan", PLAN, "--meters", METERS, "--db", db, "--plain"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    record = read_record(db)
    assert record.status == "completed" and record.chain_ok
    for position in (1, 2, 3):
        for key in POINTS:
            outcome, *_ = record.conclusions[(position, key, "mpe")]
            assert outcome == "pass", (position, key, record.reasons[(position, key, "mpe")])
    silent = {key: record.conclusions[(4, key, "mpe")][0] for key in POINTS}
    assert silent == {
        "heat_complete/qp/dtmin": "no_result",
        "heat_sensor_pair/10-20K": "no_result",
        "communication": "fail",
    }
    assert "no reply" in (record.reasons[(4, "communication", "mpe")] or "")
    assert not [r for r in record.readings if r.position == 4]
