"""End to end on the simulated gas bench (``bench_configs/sim-gas-6.toml``): six CJ/T 188 gas
meters in series on a bell prover, the JJG 577 plan (tightness, error at qmax, 0.2 qmax and
qmin, pressure loss). Meters with injected errors and faults fail only their own points; every
stored error recomputes from its raw counts and air conditions; batch statistics, lot verdicts,
certificates and notices come out of the same store as for the other kinds."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meterbench.cli import app
from meterbench.regulations.gas import bell_volume_at_meter, gas_error
from meterbench.reports import render_run
from meterbench.results import LimitKind, Outcome, ReadingStatus, ResultsStore, RunStatus
from meterbench.runner.engine import RunError, RunOptions, run_batch
from meterbench.sim import virtual_loop

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-gas-6.toml"
PLAN = REPO / "bench_configs" / "plans" / "jjg577-gas.toml"
METERS = REPO / "bench_configs" / "meters" / "sim-gas-6.csv"
POINTS = ("gas_error/qmax", "gas_error/0.2qmax", "gas_error/qmin")
TIGHT, LOSS = "gas_tightness", "gas_pressure_loss"

# Error (%) per position at qmax, 0.2 qmax, qmin as set in sim-gas-6.toml's curves.
CURVES = {
    1: ("-0.3", "-0.2", "1.2"),
    2: ("-0.5", "-0.4", "-3.8"),  # beyond the lower zone's 3 % at qmin only
    3: ("-0.9", "-1.1", "2.6"),
    4: ("2.0", "0.3", "0.4"),  # beyond the upper zone's 1.5 % at qmax only
    5: ("-0.3", "-0.2", "1.2"),  # leaks: fails the tightness test only
    6: ("-0.3", "-0.2", "1.2"),  # 260 Pa at qmax: fails the pressure loss only
}
FAILS = {(2, "gas_error/qmin"), (4, "gas_error/qmax"), (5, TIGHT), (6, LOSS)}
# A run's register advance is read in whole 0.2 L steps: one step in the smallest run.
RESOLUTION = {"gas_error/qmax": Decimal("0.16"), "gas_error/0.2qmax": Decimal("0.16")}


def _mpe(record: Any) -> dict[tuple[int, str], Any]:
    return {
        (c.position, c.step_key): c for c in record.conclusions if c.limit_kind is LimitKind.MPE
    }


@pytest.fixture(scope="module")
def gas_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResultsStore, Any]:
    """The documented bench, started as an operator would: ``meterbench run ...``."""
    db = tmp_path_factory.mktemp("gas") / "results.db"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--bench", str(BENCH),
            "--plan", str(PLAN),
            "--meters", str(METERS),
            "--db", str(db),
            "--plain",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # a completed run, whatever the verdicts
    store = ResultsStore.open(db)
    return store, store.load_run(store.list_runs()[-1].run_id)


def test_the_run_completes_with_every_item_for_every_meter(gas_run: Any) -> None:
    store, record = gas_run
    assert record.status == RunStatus.COMPLETED
    keys = {TIGHT, LOSS, *POINTS}
    assert {s.step_key for s in record.steps} == keys
    assert set(_mpe(record)) == {(p, k) for p in range(1, 7) for k in keys}
    assert store.verify_chain(record.run.run_id).ok


@pytest.mark.parametrize("position", sorted(CURVES))
def test_injected_errors_fail_only_their_own_points(gas_run: Any, position: int) -> None:
    _, record = gas_run
    conclusions = _mpe(record)
    for key, expected in zip(POINTS, CURVES[position], strict=True):
        conclusion = conclusions[(position, key)]
        # the register is read in whole 0.2 L steps: one step of the run's volume
        tolerance = RESOLUTION.get(key, Decimal("0.31"))
        assert abs(conclusion.mean - Decimal(expected)) <= tolerance, (position, key)
        assert conclusion.details["zone"] == ("lower" if key.endswith("qmin") else "upper")
    for key in (*POINTS, TIGHT, LOSS):
        wanted = Outcome.FAIL if (position, key) in FAILS else Outcome.PASS
        conclusion = conclusions[(position, key)]
        assert conclusion.outcome is wanted, (position, key, conclusion.reason)


def test_limits_are_the_profiles_mpe_per_zone(gas_run: Any) -> None:
    _, record = gas_run
    conclusions = _mpe(record)
    assert conclusions[(1, "gas_error/qmin")].upper == Decimal(3)
    assert conclusions[(1, "gas_error/0.2qmax")].upper == Decimal("1.5")
    assert conclusions[(1, "gas_error/qmax")].lower == Decimal("-1.5")


def test_errors_recompute_from_raw_counts_and_air_conditions(gas_run: Any) -> None:
    store, record = gas_run
    readings = [
        r
        for r in store.readings(record.run.run_id)
        if r.step_key in POINTS and r.status is ReadingStatus.OK
    ]
    assert len(readings) == 6 * len(POINTS)
    for reading in readings:
        raw = reading.raw
        bell_l = Fraction(raw["reference_counts"]) * Fraction("0.01") / Fraction("1.0002")
        actual = bell_volume_at_meter(
            bell_l,
            Fraction(sum(raw["reference_pressure_pa"]), 2),
            sum(Fraction(t) for t in raw["reference_temperature_c"]) / 2,
            Fraction(sum(raw["line_pressure_pa"]), 2),
            sum(Fraction(t) for t in raw["line_temperature_c"]) / 2,
            1,
            1,
        )
        indicated = Fraction(raw["register_after"]) - Fraction(raw["register_before"])
        error = gas_error(indicated, actual)
        assert abs(Fraction(reading.value) - error) < Fraction(1, 10000)
        # the bell's air (20.4 °C, +1600 Pa) reaches the meters at 19.8 °C, +1250 Pa
        assert actual != bell_l and abs(actual / bell_l - 1) < Fraction(1, 100)


def test_test_volume_is_whole_cyclic_volumes(gas_run: Any) -> None:
    _, record = gas_run
    conclusions = _mpe(record)
    # 0.2 L resolution over 0.1 of the MPE: 133.3 L -> 112 cycles of 1.2 L; qmin 66.7 -> 56
    assert conclusions[(1, "gas_error/qmax")].details["volume_l"] == "134.4"
    assert conclusions[(1, "gas_error/qmin")].details["volume_l"] == "67.2"


def test_tightness_and_pressure_loss_name_their_values(gas_run: Any) -> None:
    _, record = gas_run
    conclusions = _mpe(record)
    leak = conclusions[(5, TIGHT)]
    # 40 Pa/min over the hold: 180 s, and as much of the two reads' time as the line took
    # (every position is read in one request at each end)
    shortest, longest = (Decimal(str(s)) for s in leak.details["held_s"])
    assert 180 <= shortest <= longest
    assert shortest * 40 / 60 - 1 <= leak.mean <= longest * 40 / 60 + 1
    assert leak.upper == Decimal(0)
    assert conclusions[(1, TIGHT)].mean == 0
    loss = conclusions[(6, LOSS)]
    assert abs(loss.mean - Decimal(260)) <= Decimal("0.5") and loss.upper == Decimal(200)
    assert abs(conclusions[(1, LOSS)].mean - Decimal(120)) <= Decimal("0.5")


def test_batch_statistics_apply_the_mean_not_above_zero_rule(gas_run: Any) -> None:
    _, record = gas_run
    stats = {b.step_key: b for b in record.batch_statistics}
    assert set(stats) == set(POINTS)
    for key, stat in stats.items():
        means = [c.mean for (p, k), c in _mpe(record).items() if k == key]
        mean = sum(means, Decimal(0)) / len(means)
        assert stat.n == 6 and abs(stat.mean - mean) <= Decimal("0.000001")
        assert stat.verdict is (Outcome.PASS if mean <= 0 else Outcome.FAIL)
    # qmin: (3 x 1.2 + 2.6 + 0.4 - 3.8) / 6 = +0.47 %: every meter passes, the batch does not
    assert stats["gas_error/qmin"].verdict is Outcome.FAIL
    assert stats["gas_error/qmax"].verdict is Outcome.PASS
    (lot,) = record.lot_verdicts
    # the lot counts the accepted meters (1 and 3) at the error points: at qmin
    # (1.2 + 2.6) / 2 > 0, so the lot fails there
    assert lot.verdict is Outcome.FAIL
    assert "gas_error/qmin" in str(lot.failed_points)


def test_gas_records_and_certificates_render(gas_run: Any, tmp_path: Path) -> None:
    store, record = gas_run
    paths = render_run(store, record.run.run_id, tmp_path, lang="en", formats=("html", "json"))
    names = [p.name for p in paths]
    assert any(n.startswith("batch-report") for n in names)
    notices = [n for n in names if n.startswith("notice-")]
    certificates = [n for n in names if n.startswith("certificate-")]
    assert len(notices) == 4 and len(certificates) == 2
    text = next(p for p in paths if "pos02" in p.name).read_text(encoding="utf-8")
    assert "lower zone" in text and "L/count" in text


# -- master meter, class 1.0 -----------------------------------------------------------------------

GAS_BENCHES = Path(__file__).resolve().parent / "gas_benches"


@pytest.fixture(scope="module")
def master_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResultsStore, Any]:
    db = tmp_path_factory.mktemp("gas-master") / "results.db"
    options = RunOptions(
        GAS_BENCHES / "master-meter.toml",
        GAS_BENCHES / "plan-upper.toml",
        GAS_BENCHES / "meters-3.csv",
        db=db,
        verifier="test",
    )
    run_id = virtual_loop.run(run_batch(options))
    store = ResultsStore.open(db)
    return store, store.load_run(run_id)


def test_master_meter_volumes_carry_no_water_vapour_term(master_run: Any) -> None:
    store, record = master_run
    assert record.status == RunStatus.COMPLETED
    for reading in store.readings(record.run.run_id):
        raw = reading.raw
        assert raw["humidity_correction"] is False
        master_l = Fraction(raw["reference_counts"]) * Fraction("0.01") / Fraction("0.9995")
        actual = bell_volume_at_meter(
            master_l,
            Fraction(sum(raw["reference_pressure_pa"]), 2),
            sum(Fraction(t) for t in raw["reference_temperature_c"]) / 2,
            Fraction(sum(raw["line_pressure_pa"]), 2),
            sum(Fraction(t) for t in raw["line_temperature_c"]) / 2,
        )
        assert abs(Fraction(raw["actual_l"]) - actual) < Fraction(1, 10**5)


def test_class_1_same_sign_rule_fails_only_the_meter_whose_errors_share_a_sign(
    master_run: Any,
) -> None:
    _, record = master_run
    conclusions = _mpe(record)
    assert conclusions[(1, "gas_error/qmax")].upper == Decimal(1)  # class 1.0, upper zone
    failed = {k for k, c in conclusions.items() if c.outcome is Outcome.FAIL}
    assert failed == {(2, "gas_error/0.2qmax")}
    reason = conclusions[(2, "gas_error/0.2qmax")].reason
    assert "every error from qt to qmax is positive" in reason
    for position in (2, 3):  # each error alone is inside the class's 1 %
        for key in ("gas_error/qmax", "gas_error/0.2qmax"):
            assert abs(conclusions[(position, key)].mean) < 1


def test_a_run_outside_its_band_is_stored_invalid_and_taken_again(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    options = RunOptions(
        GAS_BENCHES / "flow-off.toml",
        GAS_BENCHES / "plan-upper.toml",
        GAS_BENCHES / "meters-3.csv",
        db=db,
        verifier="test",
    )
    run_id = virtual_loop.run(run_batch(options))
    store = ResultsStore.open(db)
    record = store.load_run(run_id)
    qmax = [r for r in store.readings(run_id) if r.step_key == "gas_error/qmax" and r.position == 1]
    # 5400..6000 L/h: 5700 set, 6156 delivered; then 5700 / 1.08 set, 5700 delivered
    assert [r.status for r in qmax] == [ReadingStatus.INVALID, ReadingStatus.OK]
    assert abs(Fraction(qmax[1].raw["flow_l_h"]) - 5700) < 1
    assert any(e.kind == "retry" for e in record.events)
    conclusions = _mpe(record)
    assert conclusions[(1, "gas_error/qmax")].outcome is Outcome.PASS
    assert conclusions[(2, "gas_error/0.2qmax")].outcome is Outcome.FAIL


def test_a_stuck_bell_stops_the_run_as_a_bench_fault(tmp_path: Path) -> None:
    bench = tmp_path / "stuck.toml"
    text = (GAS_BENCHES / "master-meter.toml").read_text(encoding="utf-8")
    bench.write_text(text.replace("[sim.reference]", "reference_stuck = true\n\n[sim.reference]"))
    (tmp_path / "meter_types").mkdir()
    for path in (GAS_BENCHES / "meter_types").iterdir():
        (tmp_path / "meter_types" / path.name).write_bytes(path.read_bytes())
    db = tmp_path / "results.db"
    options = RunOptions(
        bench, GAS_BENCHES / "plan-upper.toml", GAS_BENCHES / "meters-3.csv", db=db
    )
    with pytest.raises(RunError, match="the reference counted 0.0 L of .*fix the gas bench"):
        virtual_loop.run(run_batch(options))
    store = ResultsStore.open(db)
    record = store.load_run(store.list_runs()[-1].run_id)
    assert record.status == RunStatus.INTERRUPTED
    assert not record.conclusions and not record.readings
