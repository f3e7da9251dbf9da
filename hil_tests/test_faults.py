"""Fault scenarios on the simulated bench: what a real bench does to a run, and what the run
makes of it.

Every scenario runs ``meterbench run`` on a bench file of ``benches/`` (the fault-free
``hil-1p-4.toml`` plus one [[sim.faults]] table or one changed meter) with the short plan
``plan-faults.toml``, in its own process, and reads the stored record back. For each: the run
completes or stops with one clear line; no reading is stored twice (the store refuses it, and
``read_record`` checks it); the readings a fault touched are retried (status ``retried``) or
marked (``invalid``) with an event saying why; and where the fault is recoverable, every stored
conclusion equals the fault-free run's (noise-free meters with errors mid-way between rounding
steps, so the rounded values are exact). Controller C1 and bus M1 serve positions 1-2; C2 and
M2 serve positions 3-4, the untouched control group.
"""

from __future__ import annotations

from pathlib import Path

from hil_support import Record, read_record, run_scenario

from meterbench.results import ReadingStatus

IB = "basic_error/P+/all/Ib/1.0"
LOW = "basic_error/P+/all/0.1Ib/1.0"
STEPS = ("communication", IB, LOW, "communication_end")
# The fault-free verdicts, known in advance: position 3 is 3 % fast, beyond class 2's ±2 %.
EXPECTED_ERRORS = {1: "0.4", 2: "-0.8", 3: "3.0", 4: "-0.2"}


def _scenario(name: str, tmp_path: Path, returncode: int = 0) -> tuple[Record, str]:
    db = tmp_path / "results.db"
    result = run_scenario(name, db)
    assert result.returncode == returncode, result.stderr
    return read_record(db), result.stderr


def _assert_complete_like(record: Record, fault_free: Record) -> None:
    """Completed, intact, with every conclusion and every usable-reading count of the
    fault-free run."""
    assert record.status == "completed"
    assert record.chain_ok
    assert record.conclusions == fault_free.conclusions
    assert record.usable() == fault_free.usable()


def _link_events(record: Record) -> dict[str, str]:
    return {e.step_key: e.message for e in record.events_of("link")}


def test_the_fault_free_run_gives_the_known_results(fault_free: Record) -> None:
    assert fault_free.status == "completed" and fault_free.chain_ok
    for position, rounded in EXPECTED_ERRORS.items():
        for step in (IB, LOW):
            outcome, value, lower, upper = fault_free.conclusions[(position, step, "mpe")]
            assert (value, lower, upper) == (rounded, "-2", "2")
            assert outcome == ("fail" if position == 3 else "pass")
        for step in ("communication", "communication_end"):
            assert fault_free.conclusions[(position, step, "mpe")][0] == "pass"
    assert {(p, s) for p, s in fault_free.usable()} == {
        (p, s) for p in EXPECTED_ERRORS for s in STEPS
    }
    assert all(r.status == ReadingStatus.OK for r in fault_free.readings)
    assert fault_free.events == []


def test_noise_on_a_controller_link_costs_resends_not_results(
    tmp_path: Path, fault_free: Record
) -> None:
    record, _ = _scenario("link-noise", tmp_path)
    _assert_complete_like(record, fault_free)
    assert all(r.status == ReadingStatus.OK for r in record.readings)
    assert {e.kind for e in record.events} == {"link"}
    messages = [e.message for e in record.events]
    assert all(m.startswith("controller C1: ") for m in messages), messages


def test_noise_on_a_meter_bus_costs_retries_not_results(tmp_path: Path, fault_free: Record) -> None:
    record, _ = _scenario("bus-noise", tmp_path)
    _assert_complete_like(record, fault_free)
    assert all(r.status == ReadingStatus.OK for r in record.readings)
    # The noise is seeded per meter, so the same replies are lost or damaged in every run,
    # never three times running (which would fail a check).
    assert _link_events(record) == {
        "communication": "bus M1: requests sent again 2x, replies damaged 2x",
        "communication_end": "bus M1: requests sent again 6x, replies damaged 2x, "
        "replies missing 4x",
    }
    assert {e.kind for e in record.events} == {"link"}


def test_a_controller_reset_mid_reading_retakes_the_lost_reading(
    tmp_path: Path, fault_free: Record
) -> None:
    record, _ = _scenario("controller-reset", tmp_path)
    _assert_complete_like(record, fault_free)
    retried = record.with_status(ReadingStatus.RETRIED)
    assert {(p, s) for p, s, _ in retried} == {(1, LOW), (2, LOW)}  # C1's, once each
    assert record.with_status(ReadingStatus.INVALID) == set()
    resets = record.events_of("controller_reset")
    assert sorted((e.position, e.step_key) for e in resets) == [(1, LOW), (2, LOW)]
    assert all("controller C1 restarted" in e.message for e in resets)
    assert _link_events(record) == {LOW: "controller C1: controller restarted 1x"}


def test_a_vanished_controller_port_that_returns_loses_nothing(
    tmp_path: Path, fault_free: Record
) -> None:
    record, _ = _scenario("controller-vanish", tmp_path)
    _assert_complete_like(record, fault_free)
    assert all(r.status == ReadingStatus.OK for r in record.readings)
    (event,) = record.events
    assert (event.kind, event.step_key) == ("link", LOW)
    assert event.message.startswith("controller C1: ") and "port lost 1x" in event.message
    assert "port reopened 1x" in event.message


def test_a_controller_gone_for_good_stops_the_run_with_a_clear_error(
    tmp_path: Path, fault_free: Record
) -> None:
    record, stderr = _scenario("controller-lost", tmp_path, returncode=1)
    (line,) = stderr.splitlines()
    assert line.startswith(f"meterbench: run {record.run_id} stopped: controller C1 ")
    assert line.endswith(f"'meterbench resume {record.run_id}'")
    assert record.status == "interrupted" and record.chain_ok
    # Everything measured before the loss is kept; C1's positions lack only the point it
    # was measuring, and nothing after it was started.
    kept = {k: v for k, v in fault_free.conclusions.items() if k[1] in ("communication", IB)}
    kept |= {k: v for k, v in fault_free.conclusions.items() if k[1] == LOW and k[0] in (3, 4)}
    assert record.conclusions == kept
    assert all(r.status == ReadingStatus.OK for r in record.readings)
    (stop,) = record.events_of("controller_lost")
    assert stop.severity.value == "error" and "controller C1" in stop.message


def test_a_vanished_meter_bus_adapter_that_returns_loses_nothing(
    tmp_path: Path, fault_free: Record
) -> None:
    record, _ = _scenario("bus-vanish", tmp_path)
    _assert_complete_like(record, fault_free)
    assert all(r.status == ReadingStatus.OK for r in record.readings)
    assert _link_events(record) == {"communication_end": "bus M1: port lost 1x, port reopened 1x"}
    assert {e.kind for e in record.events} == {"link"}


def test_a_meter_that_stops_answering_fails_only_its_own_check(
    tmp_path: Path, fault_free: Record
) -> None:
    record, _ = _scenario("meter-silent", tmp_path)
    assert record.status == "completed" and record.chain_ok
    key = (2, "communication_end", "mpe")
    assert record.conclusions[key][0] == "fail"
    assert "no reply to read 04000401" in (record.reasons[key] or "")
    assert {k: v for k, v in record.conclusions.items() if k != key} == {
        k: v for k, v in fault_free.conclusions.items() if k != key
    }
    (timeout,) = record.events_of("timeout")
    assert (timeout.severity.value, timeout.position, timeout.step_key) == (
        "error",
        2,
        "communication_end",
    )
    assert len(timeout.trace) > 0  # the raw frames on the bus are attached
    assert "replies missing 3x" in _link_events(record)["communication_end"]


def test_readings_taken_while_the_source_wandered_are_marked_and_taken_again(
    tmp_path: Path, fault_free: Record
) -> None:
    record, _ = _scenario("source-unstable", tmp_path)
    _assert_complete_like(record, fault_free)
    invalid = record.with_status(ReadingStatus.INVALID)
    assert {s for _, s, _ in invalid} == {LOW}
    assert {p for p, _, _ in invalid} == {1, 2, 3, 4}  # one source: every position
    events = {(e.position, e.message) for e in record.events_of("source_unstable")}
    assert events == {
        (p, f"reading {i} was taken while the source reports its output unstable; taken again")
        for p, _, i in invalid
    }
    assert {e.kind for e in record.events} == {"source_unstable"}


def test_a_source_that_never_settles_stops_the_run_with_a_clear_error(
    tmp_path: Path, fault_free: Record
) -> None:
    record, stderr = _scenario("source-unstable-long", tmp_path, returncode=1)
    (line,) = stderr.splitlines()
    assert line.startswith(f"meterbench: run {record.run_id} stopped: source not stable")
    assert line.endswith(f"'meterbench resume {record.run_id}'")
    assert record.status == "interrupted" and record.chain_ok
    kept = {k: v for k, v in fault_free.conclusions.items() if k[1] in ("communication", IB)}
    assert record.conclusions == kept
    invalid = record.with_status(ReadingStatus.INVALID)
    assert invalid and {s for _, s, _ in invalid} == {LOW}
    stops = [e for e in record.events_of("source_unstable") if e.severity.value == "error"]
    assert [e.message.split(":")[0] for e in stops] == ["run stopped"]
