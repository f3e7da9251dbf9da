"""Commissioning: is every part of the bench under test (``--bench``) there and working?

The checks are those of ``meterbench selftest`` (``meterbench.selftest``), run here one by one
against the session's bench. On a simulated bench the expected exceptions come from its [sim]
section (a meter configured silent must fail its port check, a dead one its pulse check); on
a real bench every check must pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hil_support import BenchUnderTest, meterbench

from meterbench import selftest as st
from meterbench.kinds.electricity import selftest as est
from meterbench.selftest import Devices

OPTIONS = st.Options()


def _failed(checks: list[st.Check]) -> set[int]:
    return {c.position for c in checks if c.passed is False and c.position is not None}


def test_every_device_of_the_bench_opens(devices: Devices) -> None:
    assert [c.detail for c in devices.failed] == []
    assert set(devices.controllers) == {c.id for c in devices.config.controllers}
    assert set(devices.buses) == {b.id for b in devices.config.buses}


def test_every_controller_answers_hello_with_its_firmware(
    bench: BenchUnderTest, devices: Devices
) -> None:
    checks = bench.run(st.check_controllers(devices))
    assert [c.subject for c in checks] == [c.id for c in bench.config.controllers]
    for check in checks:
        assert check.passed, check.detail
        assert check.data["fw_version"] and check.data["fw_hash"], check.data
    assert len({c.data["fw_hash"] for c in checks}) == 1, "controllers run different firmware"


def test_the_source_reaches_its_setpoint_and_reads_it_back(
    bench: BenchUnderTest, devices: Devices
) -> None:
    load = est.load_for(bench.config, bench.meters, OPTIONS)
    (check,) = bench.run(est.check_source(devices, load, OPTIONS))
    assert check.passed, check.detail
    assert check.data["deviation_pct"] <= OPTIONS.source_tolerance_pct


def test_every_position_counts_pulses_against_the_reference(
    bench: BenchUnderTest, devices: Devices
) -> None:
    load = est.load_for(bench.config, bench.meters, OPTIONS)
    checks = bench.run(est.check_pulses(devices, bench.meters, load, OPTIONS))
    assert [c.position for c in checks] == [p.number for p in bench.config.positions]
    assert _failed(checks) == bench.expected_dead()
    for check in checks:
        if check.passed:
            assert check.data["pulses"] == OPTIONS.pulses and check.data["ref_count"] > 0
            assert abs(check.data["error_pct"]) <= OPTIONS.tolerance_pct


def test_every_meter_port_answers_a_read_address(bench: BenchUnderTest, devices: Devices) -> None:
    checks = bench.run(est.check_meter_ports(devices, bench.meters))
    with_bus = [p.number for p in bench.config.positions if p.bus is not None]
    assert [c.position for c in checks] == with_bus
    assert _failed(checks) == bench.expected_silent()
    skipped = [c.position for c in checks if c.passed is None]
    assert skipped == [], "meter addresses unknown: give --meters FILE for a real bench"
    for check in checks:
        if check.passed:
            assert check.data["address"] == bench.meters[check.position].address  # type: ignore[index]


def test_the_clock_reference_input_is_present(bench: BenchUnderTest, devices: Devices) -> None:
    checks = bench.run(est.check_clock_reference(devices, bench.meters, OPTIONS))
    assert [c.subject for c in checks] == [c.id for c in bench.config.controllers]
    for check in checks:
        assert check.passed, check.detail
        frequency = bench.config.timebase.frequency_hz
        assert abs(check.data["counts_per_second"] - frequency) <= frequency * 0.01


@pytest.mark.hw
def test_controllers_run_with_their_watchdog(bench: BenchUnderTest, devices: Devices) -> None:
    """A real controller must run its hardware watchdog (a hung board restarts by itself)."""
    from meterproto.link import messages as m

    for check in bench.run(st.check_controllers(devices)):
        assert check.data["flags"] & m.FLAG_WDT, f"{check.subject}: no watchdog"


@pytest.mark.hw
def test_controllers_run_the_firmware_built_here(bench: BenchUnderTest, devices: Devices) -> None:
    """The firmware on every controller is the one ``meterbench firmware build`` made."""
    manifest = Path(__file__).resolve().parents[1] / "build" / "firmware" / "manifest.json"
    if not manifest.is_file():
        pytest.skip(f"{manifest} not found: run 'meterbench firmware build' first")
    wanted = json.loads(manifest.read_text())["hash"][:16]  # HELLO carries its first 16
    for check in bench.run(st.check_controllers(devices)):
        assert check.data["fw_hash"] == wanted, f"{check.subject} runs {check.data['fw_hash']}"


def test_meterbench_selftest_reports_the_same_for_an_operator(bench: BenchUnderTest) -> None:
    """The command runs the same checks on its own copy of the bench and prints them."""
    if not bench.simulated:
        pytest.skip("the session holds the real bench's ports: run 'meterbench selftest' by hand")
    result = meterbench("selftest", "--bench", bench.path, "--json")
    report = json.loads(result.stdout)
    failed = {(c["kind"], c["position"]) for c in report["checks"] if c["passed"] is False}
    expected = {("meter_port", p) for p in bench.expected_silent()}
    expected |= {("pulses", p) for p in bench.expected_dead()}
    assert failed == expected
    assert result.returncode == (1 if expected else 0), result.stderr
    assert report["passed"] is not bool(expected)
    positions = {c["position"] for c in report["checks"] if c["kind"] == "pulses"}
    assert positions == {p.number for p in bench.config.positions}
