"""The register test recovers from controller faults the way the error test does.

A controller restart during the register run loses the pulse count of its positions: they
are run again, not left without a result. Noise on a controller's link (0.2 % of bytes lost
and 0.2 % damaged) costs resends, never a "meter did not pulse" for a pulsing meter. Each
scenario is the fault-free bench plus one fault table, run with the register plan, and must
conclude exactly as the fault-free run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hil_support import BENCHES, METERS, Record, meterbench, read_record

PLAN = BENCHES / "plan-register.toml"
RESET = """
[[sim.faults]]
kind = "controller_reset"
controller = "C1"
at_s = 300
"""
NOISE = """
[[sim.faults]]
kind = "link_noise"
controller = "C1"
at_s = 0
duration_s = 1000000
probability = 0.002
drop = 0.002
"""


def _run(tmp_path: Path, name: str, fault: str) -> Record:
    benches = tmp_path / "benches"  # a copy: the bench names meter types beside it
    shutil.copytree(BENCHES, benches)
    bench = benches / f"register-{name}.toml"
    bench.write_text((BENCHES / "hil-1p-4.toml").read_text(encoding="utf-8") + fault)
    db = tmp_path / f"{name}.db"
    result = meterbench(
        "run", "--bench", bench, "--plan", PLAN, "--meters", METERS, "--db", db, "--plain"
    )
    assert result.returncode == 0, result.stderr
    return read_record(db)


def _verdicts(record: Record) -> dict[tuple[int, str, str], str]:
    return {key: value[0] for key, value in record.conclusions.items()}


@pytest.fixture(scope="module")
def register_fault_free(tmp_path_factory: pytest.TempPathFactory) -> Record:
    return _run(tmp_path_factory.mktemp("register"), "fault-free", "")


@pytest.mark.slow
def test_a_controller_restart_during_the_register_run_costs_a_second_run(
    tmp_path: Path, register_fault_free: Record
) -> None:
    record = _run(tmp_path, "reset", RESET)
    assert record.status == "completed" and record.chain_ok
    resets = record.events_of("controller_reset")
    assert {(e.position, e.step_key) for e in resets} == {(1, "register"), (2, "register")}
    assert _verdicts(record) == _verdicts(register_fault_free)
    assert all(value[0] in ("pass", "fail") for value in record.conclusions.values())


@pytest.mark.slow
def test_link_noise_during_the_register_run_costs_resends_not_results(
    tmp_path: Path, register_fault_free: Record
) -> None:
    record = _run(tmp_path, "noise", NOISE)
    assert record.status == "completed" and record.chain_ok
    assert _verdicts(record) == _verdicts(register_fault_free)
    assert not [r for r in record.reasons.values() if r and "did not pulse" in r]
