"""Lot statistics: per lot and point across every run of the lot, over the meters the
verification accepted, with the all-meter mean beside it; the rule and the consequence are
plan data; a rejected meter can no longer flip the lot verdict either way."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from meterbench.regulations.lots import LotMember, LotRule, lot_statistics, lot_verdict
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import (
    Conclusion,
    LimitKind,
    LotStatistic,
    ManualResult,
    Outcome,
    Position,
    ResultsStore,
    Run,
    RunStatus,
    Step,
)
from meterbench.results.connector import SQLiteConnector
from meterbench.results.lots import compute_lot, lot_statistics_for, lot_verdict_for
from meterbench.results.migrations import MIGRATIONS, upgrade
from meterbench.results.sample import store_sample_run
from meterbench.runner.meters import load_meters

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
IB = "basic_error/P+/all/Ib/1.0"
IMAX = "basic_error/P+/all/Imax/1.0"
INTERVAL = "0.1"  # class 1


def _store_run(
    store: ResultsStore,
    run_id: str,
    started: datetime,
    meters: dict[int, tuple[str, dict[str, str], bool]],
    *,
    lot: str | None = "LOT-7",
    plan: dict | None = None,
) -> None:
    """meters: position -> (serial, {step_key: mean error}, register passed)."""
    store.create_run(
        Run(
            run_id=run_id,
            started_at=started,
            bench="sim-1p-24",
            plan="p",
            regulation="JJG596-2012",
            software_version="0.1.0",
        ),
        {"plan": plan or {}},
    )
    store.append(
        *[
            Position(run_id=run_id, position=p, meter_type="T1", serial_no=serial, lot=lot)
            for p, (serial, _, _) in meters.items()
        ],
        *[
            Step(run_id=run_id, step_key=key, ordinal=i, item=item, point=key)
            for i, (key, item) in enumerate(
                ((IB, "basic_error"), (IMAX, "basic_error"), ("register", "register"))
            )
        ],
    )
    t = started
    for p, (_, errors, register_ok) in meters.items():
        for key, mean in errors.items():
            t += timedelta(seconds=1)
            m = Decimal(mean)
            mpe = Decimal("1.0")
            rounded = round_to_interval(m, INTERVAL)
            store.append(
                Conclusion(
                    run_id=run_id,
                    position=p,
                    step_key=key,
                    at=t,
                    outcome=Outcome.PASS if abs(rounded) <= mpe else Outcome.FAIL,
                    limit_kind=LimitKind.MPE,
                    mean=m,
                    rounded=rounded,
                    lower=-mpe,
                    upper=mpe,
                    unit="%",
                    details={"interval": INTERVAL},
                )
            )
        store.append(
            Conclusion(
                run_id=run_id,
                position=p,
                step_key="register",
                at=t,
                outcome=Outcome.PASS if register_ok else Outcome.FAIL,
            )
        )
    store.set_status(run_id, RunStatus.COMPLETED, t + timedelta(minutes=1))


def _two_runs(store: ResultsStore, reject_error: str) -> None:
    """Lot LOT-7 over two runs; one rejected meter per run at ``reject_error`` %."""
    _store_run(
        store,
        "R1",
        T0,
        {
            1: ("S1", {IB: "0.10", IMAX: "-0.20"}, True),
            2: ("S2", {IB: "0.06", IMAX: "-0.10"}, True),
            3: ("S3", {IB: reject_error, IMAX: reject_error}, False),  # register failed
        },
    )
    _store_run(
        store,
        "R2",
        T0 + timedelta(days=1),
        {
            1: ("S4", {IB: "0.12", IMAX: "-0.05"}, True),
            2: ("S5", {IB: reject_error, IMAX: reject_error}, False),
        },
    )
    # another lot in the same database must not leak in
    _store_run(store, "R3", T0, {1: ("S9", {IB: "0.90", IMAX: "0.90"}, True)}, lot="LOT-8")


def test_lot_statistics_equal_a_direct_computation_over_accepted_meters(tmp_path: Path) -> None:
    with ResultsStore.open(tmp_path / "r.db") as store:
        _two_runs(store, "-2.0")
        records = lot_statistics_for(store, "LOT-7")
    by_point = {r.point: r for r in records}
    accepted = {IB: ["0.10", "0.06", "0.12"], IMAX: ["-0.20", "-0.10", "-0.05"]}
    everyone = {IB: accepted[IB] + ["-2.0", "-2.0"], IMAX: accepted[IMAX] + ["-2.0", "-2.0"]}
    for point in (IB, IMAX):
        record = by_point[point]
        mean = sum(Fraction(v) for v in accepted[point]) / 3
        assert record.n == 3 and record.n_all == 5
        assert record.mean == Decimal(float(mean)).quantize(Decimal("0.000001"))
        assert record.rounded == round_to_interval(mean, INTERVAL)
        mean_all = sum(Fraction(v) for v in everyone[point]) / 5
        assert record.mean_all == Decimal(float(mean_all)).quantize(Decimal("0.000001"))
        assert list(record.runs) == ["R1", "R2"]
        assert record.run_id == "R2"  # appended to the lot's latest run
    # Ib: accepted mean +0.0933 % rounds to +0.1 % -> the lot fails there, although the
    # all-meter mean (-0.744 %) would have hidden it
    assert by_point[IB].verdict is Outcome.FAIL and by_point[IMAX].verdict is Outcome.PASS
    mean_all = by_point[IB].mean_all
    assert mean_all is not None and mean_all < 0


def test_a_rejected_meter_cannot_flip_the_lot_verdict(tmp_path: Path) -> None:
    """Both directions: a slow reject cannot hide a fast lot, a fast reject cannot fail a
    sound lot."""
    with ResultsStore.open(tmp_path / "slow.db") as store:
        _two_runs(store, "-2.0")
        verdict = lot_verdict_for(store, "LOT-7")
    assert verdict.verdict is Outcome.FAIL and list(verdict.failed_points) == [IB]
    with ResultsStore.open(tmp_path / "fast.db") as store:
        _store_run(
            store,
            "R1",
            T0,
            {
                1: ("S1", {IB: "-0.10", IMAX: "-0.20"}, True),
                2: ("S2", {IB: "0.04", IMAX: "0.00"}, True),
                3: ("S3", {IB: "3.0", IMAX: "3.0"}, False),  # rejected, far fast
            },
        )
        statistics, outcome = compute_lot(store, "LOT-7")
    assert outcome.verdict == "pass"
    assert all(s.mean_all is not None and s.mean_all > 0 for s in statistics)


def test_rule_points_weighting_and_consequence_are_plan_data(tmp_path: Path) -> None:
    rule = {
        "items": ["basic_error"],
        "points": ["P+/all/Imax/1.0"],
        "weighting": "run",
        "consequence": "withhold",
    }
    with ResultsStore.open(tmp_path / "r.db") as store:
        _store_run(
            store,
            "R1",
            T0,
            {
                1: ("S1", {IB: "0.30", IMAX: "-0.30"}, True),
                2: ("S2", {IB: "0.30", IMAX: "-0.10"}, True),
            },
        )
        _store_run(
            store,
            "R2",
            T0 + timedelta(hours=2),
            {1: ("S3", {IB: "0.30", IMAX: "0.20"}, True)},
            plan={"T1": {"lot": rule}},
        )
        statistics, outcome = compute_lot(store, "LOT-7")
    counted = {s.point: s.counted for s in statistics}
    assert counted == {IB: False, IMAX: True}  # Ib fails but does not count
    imax = next(s for s in statistics if s.point == IMAX)
    # run weighting: mean of the run means (-0.2 and +0.2), not of the three meters
    assert imax.mean == Decimal(0)
    assert outcome.verdict == "pass" and outcome.consequence == "withhold"
    failing = LotRule(consequence="withhold")
    members = [LotMember("R", 1, "S", "T1", "basic_error", IB, Decimal("0.5"), True)]
    result = lot_verdict(lot_statistics(members, failing), failing)
    assert result.verdict == "fail" and result.withholds_certificates


def test_a_retested_meter_counts_with_its_latest_result(tmp_path: Path) -> None:
    with ResultsStore.open(tmp_path / "r.db") as store:
        _store_run(store, "R1", T0, {1: ("S1", {IB: "0.50", IMAX: "0.50"}, True)})
        _store_run(
            store, "R2", T0 + timedelta(days=1), {1: ("S1", {IB: "-0.10", IMAX: "0.0"}, True)}
        )
        statistics, _ = compute_lot(store, "LOT-7")
    assert {s.point: (s.n, s.mean) for s in statistics}[IB] == (1, Decimal("-0.1"))


def test_a_failed_manual_item_makes_a_meter_not_accepted(tmp_path: Path) -> None:
    with ResultsStore.open(tmp_path / "r.db") as store:
        store.create_run(
            Run(
                run_id="R1",
                started_at=T0,
                bench="b",
                plan="p",
                regulation="r",
                software_version="0",
            ),
            {},
        )
        store.append(Position(run_id="R1", position=1, meter_type="T1", serial_no="S1"))
        store.append(Step(run_id="R1", step_key=IB, ordinal=0, item="basic_error", point=IB))
        store.append(
            Conclusion(
                run_id="R1",
                position=1,
                step_key=IB,
                at=T0,
                outcome=Outcome.PASS,
                mean=Decimal("0.3"),
            )
        )
        store.append(
            ManualResult(
                run_id="R1",
                position=1,
                item="visual",
                at=T0,
                outcome=Outcome.FAIL,
                verifier="Li Wei",
                note="seal broken",
            )
        )
        statistics, outcome = compute_lot(store, "R1")  # no lot column: the run is the lot
    assert statistics[0].n == 0 and statistics[0].n_all == 1
    assert outcome.verdict == "no_result"


def test_lot_records_round_trip_and_replay(tmp_path: Path) -> None:
    with ResultsStore.open(tmp_path / "r.db") as store:
        _two_runs(store, "-2.0")
        # the lot's runs are closed; the figures go on to a run still open
        _store_open = Run(
            run_id="R4",
            started_at=T0 + timedelta(days=2),
            bench="b",
            plan="p",
            regulation="r",
            software_version="0",
        )
        store.create_run(_store_open, {})
        records = lot_statistics_for(store, "LOT-7", run_id="R4")
        verdict = lot_verdict_for(store, "LOT-7", run_id="R4")
        assert store.append(*records, verdict) == len(records) + 1
        assert store.append(*records, verdict) == 0  # a recomputation is a replay
        loaded = store.load_run("R4")
    assert list(loaded.lot_statistics) == records and loaded.lot_verdicts == (verdict,)
    assert all(isinstance(r, LotStatistic) for r in records)


def test_a_version_1_database_upgrades_and_its_runs_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connector = SQLiteConnector(path, create=True)
    assert upgrade(connector, MIGRATIONS[:1]) == 1
    connector.close()
    raw = sqlite3.connect(path)
    assert "lot" not in [row[1] for row in raw.execute("PRAGMA table_info(meter_position)")]
    raw.close()
    with ResultsStore.open(path) as store:
        assert store.schema_version == MIGRATIONS[-1].version
        run = store_sample_run(store)
        assert store.verify_chain(run.run_id).ok


def test_the_meter_list_takes_an_optional_lot_column(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    listing = tmp_path / "meters.csv"
    listing.write_text(
        "position,type,serial,lot\n"
        f"1,{repo}/bench_configs/meter_types/1p-class1-5-60a.toml,S1,LOT-7\n"
        f"2,{repo}/bench_configs/meter_types/1p-class1-5-60a.toml,S2,\n"
    )
    entries = load_meters(listing)
    assert [e.lot for e in entries] == ["LOT-7", ""]


@pytest.mark.parametrize("bad", ["flag!", ""])
def test_lot_verdict_consequence_is_checked(bad: str) -> None:
    from meterbench.results import LotVerdict

    with pytest.raises(ValueError):
        LotVerdict(run_id="R", lot="L", at=T0, verdict=Outcome.PASS, consequence=bad)


def test_a_withheld_lot_gets_no_certificates_but_its_notices(tmp_path: Path) -> None:
    import sys

    from meterbench.reports import load_context
    from meterbench.reports.certificate import build_certificate
    from meterbench.reports.errors import LotWithheldError
    from meterbench.reports.render import certificate_documents
    from meterbench.results import LotVerdict
    from meterbench.results.sample import START

    sys.path.insert(0, str(Path(__file__).parent))
    from reports_fixtures import store_run

    withheld = LotVerdict(
        run_id="RUN-W",
        lot="RUN-W",
        at=START + timedelta(minutes=50),
        verdict=Outcome.FAIL,
        consequence="withhold",
        failed_points=["basic_error/+P/ABC/Ib/1.0"],
    )
    with ResultsStore.open(tmp_path / "r.db") as store:
        store_run(store, "RUN-W", more=[withheld])
        ctx = load_context(store, "RUN-W")
    with pytest.raises(LotWithheldError, match="SN0001.*lot RUN-W"):
        build_certificate(ctx, ctx.meter("SN0001"))
    docs, skipped = certificate_documents(ctx)
    assert len(docs) == 1 and docs[0].title.startswith("检定结果通知书")
    assert any("withheld" in line for line in skipped)
