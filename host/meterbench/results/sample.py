"""A small, complete, deterministic run record: for tests and for developing reports.

Two meters, three steps (creep, basic error at Ib PF 1 with an acceptance limit, register),
an error-log entry with a frame trace and batch statistics, so every record type appears.
Reports can be built against it before a bench or simulator is involved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from meterbench.results.kinds import LimitKind, Outcome, ReadingStatus, RunStatus, Severity
from meterbench.results.models import (
    BatchStatistic,
    Conclusion,
    Environment,
    Event,
    LotStatistic,
    LotVerdict,
    ManualResult,
    Position,
    Reading,
    Record,
    Run,
    Step,
)
from meterbench.results.store import ResultsStore

START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
BASIC = "basic_error/+P/ABC/Ib/1.0"


def sample_run(run_id: str = "20260302T083000Z-sim-1p-24-000001") -> Run:
    return Run(
        run_id=run_id,
        started_at=START,
        bench="sim-1p-24",
        plan="jjg596-2012-initial",
        regulation="JJG596-2012",
        regulation_version="1",
        software_version="0.1.0",
        verifier="Li Wei",
        checker="Zhang Min",
        task="T-2026-0042",
        environment=Environment(
            temperature_c=Decimal("20.3"), humidity_pct=Decimal("48"), place="lab 2"
        ),
    )


SNAPSHOTS = {
    "bench_config": {"name": "sim-1p-24", "positions": 24, "standard": {"cert": "DLj2025-0117"}},
    "plan": {"name": "jjg596-2012-initial", "items": ["creep", "basic_error", "register"]},
    "meter_types": {"DDZY-1": {"class": "2", "constant_imp_per_kwh": 1200, "ib_a": "5"}},
    "regulation_profile": {"name": "JJG596-2012", "version": "1"},
    "firmware_versions": {"controller-1": "0.3.1"},
}


def sample_records(run_id: str) -> list[Record]:
    """Everything after the run head, in the order a runner would append it."""
    t = START
    ms = timedelta(milliseconds=250)
    records: list[Record] = [
        Position(
            run_id=run_id,
            position=p,
            meter_type="DDZY-1",
            serial_no=f"SN{p:04d}",
            asset_no=f"A{p:08d}",
            address=f"{p:012d}",
            nameplate={"class": "2", "constant": "1200 imp/kWh", "rating": "5(60) A"},
        )
        for p in (1, 2)
    ]
    records += [
        Step(
            run_id=run_id,
            step_key="creep",
            ordinal=0,
            item="creep",
            point="1.15 Un",
            parameters={"voltage_v": "253", "duration_s": 900},
        ),
        Step(
            run_id=run_id,
            step_key=BASIC,
            ordinal=1,
            item="basic_error",
            point="Ib/1.0",
            parameters={"current_a": "5", "pf": "1.0", "pulses": 10},
        ),
        Step(
            run_id=run_id,
            step_key="register",
            ordinal=2,
            item="register",
            point="Imax/1.0",
            parameters={"energy_kwh": "1"},
        ),
    ]
    errors = {1: ("0.14", "0.16"), 2: ("-0.35", "-0.25")}
    for p in (1, 2):
        records.append(
            Conclusion(
                run_id=run_id,
                position=p,
                step_key="creep",
                at=t,
                outcome=Outcome.PASS,
                details={"pulses": 0},
            )
        )
        for i, text in enumerate(errors[p]):
            t += ms
            records.append(
                Reading(
                    run_id=run_id,
                    position=p,
                    step_key=BASIC,
                    index=i,
                    at=t,
                    raw={"m": 600_000 + i, "N": 10, "gate_ticks": 12_000_000 + 7 * i},
                    value=Decimal(text),
                    unit="%",
                    status=ReadingStatus.OK,
                )
            )
    means = {1: Decimal("0.15"), 2: Decimal("-0.30")}
    rounded = {1: Decimal("0.2"), 2: Decimal("-0.4")}  # class 2: interval 0.2, half-even
    limits = ((LimitKind.MPE, Decimal("2.0")), (LimitKind.ACCEPTANCE, Decimal("1.2")))
    for p in (1, 2):
        for kind, limit in limits:
            records.append(
                Conclusion(
                    run_id=run_id,
                    position=p,
                    step_key=BASIC,
                    limit_kind=kind,
                    at=t,
                    outcome=Outcome.PASS,
                    mean=means[p],
                    rounded=rounded[p],
                    lower=-limit,
                    upper=limit,
                    unit="%",
                )
            )
    records.append(
        Event(
            run_id=run_id,
            at=t,
            severity=Severity.WARNING,
            kind="timeout",
            message="meter at position 2 did not answer; retried",
            position=2,
            step_key="register",
            trace=[{"direction": "tx", "hex": "68 02 00 00 00 00 00 68 11 04"}],
        )
    )
    for p, (before, after) in ((1, ("100.00", "101.00")), (2, ("250.00", "251.01"))):
        records.append(
            Reading(
                run_id=run_id,
                position=p,
                step_key="register",
                index=0,
                at=t,
                raw={"register_before_kwh": before, "register_after_kwh": after},
                value=Decimal(after) - Decimal(before),
                unit="kWh",
            )
        )
        records.append(
            Conclusion(
                run_id=run_id,
                position=p,
                step_key="register",
                at=t,
                outcome=Outcome.PASS if p == 1 else Outcome.FAIL,
                reason=None if p == 1 else "register ran ahead of the pulses",
            )
        )
    records.append(
        BatchStatistic(
            run_id=run_id,
            meter_type="DDZY-1",
            step_key=BASIC,
            at=t,
            n=2,
            verdict=Outcome.PASS,
            mean=Decimal("-0.075"),
            std=Decimal("0.3181980515339463"),
            minimum=Decimal("-0.30"),
            maximum=Decimal("0.15"),
            unit="%",
            members=[{"position": 1, "mean": "0.15"}, {"position": 2, "mean": "-0.30"}],
        )
    )
    return records


def verdict_records(run_id: str) -> list[Record]:
    """Manual item results and the lot figures of the sample run (schema version 2), kept
    apart from ``sample_records`` so the sample's pinned final hash stays that of version 1."""
    t = START + timedelta(minutes=30)
    records: list[Record] = [
        ManualResult(
            run_id=run_id,
            position=p,
            item="visual",
            at=t,
            outcome=Outcome.PASS,
            verifier="Li Wei",
            note="seals intact" if p == 1 else None,
        )
        for p in (1, 2)
    ]
    # The lot (this run) over its accepted meter only: position 2 failed its register test.
    records.append(
        LotStatistic(
            run_id=run_id,
            lot=run_id,
            meter_type="DDZY-1",
            point=BASIC,
            at=t,
            n=1,
            n_all=2,
            verdict=Outcome.FAIL,
            mean=Decimal("0.15"),
            rounded=Decimal("0.2"),
            mean_all=Decimal("-0.075"),
            runs=[run_id],
            members=[{"run_id": run_id, "position": 1, "mean": "0.15"}],
        )
    )
    records.append(
        LotVerdict(
            run_id=run_id,
            lot=run_id,
            at=t,
            verdict=Outcome.FAIL,
            consequence="flag",
            failed_points=[BASIC],
        )
    )
    return records


def store_sample_run(store: ResultsStore, run_id: str | None = None, *, close: bool = True) -> Run:
    """Append the sample run (one record per call, as a runner would); close it if asked."""
    run = sample_run(run_id) if run_id else sample_run()
    store.create_run(run, SNAPSHOTS)
    for record in sample_records(run.run_id):
        store.append(record)
    if close:
        store.set_status(run.run_id, RunStatus.COMPLETED, START + timedelta(hours=1))
    return run
