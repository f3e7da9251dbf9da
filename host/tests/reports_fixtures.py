"""Stored runs for the report tests: the results package's sample run, stored in a temporary
database with a bench config snapshot in the real `BenchConfig` shape, plus variants (an open
run, a run with an incomplete meter and hostile text, a second run of the same bench)."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.results import (
    Conclusion,
    Event,
    Outcome,
    Position,
    Reading,
    ReadingStatus,
    ResultsStore,
    RunStatus,
    Severity,
)
from meterbench.results.sample import BASIC, SNAPSHOTS, START, sample_records, sample_run

STANDARD_CERT = "DLj2025-0117"
BENCH = BenchConfig.model_validate(
    {
        "bench": {"id": "sim-1p-24", "name": "simulated 24-position bench", "location": "lab 2"},
        "standard": {
            "name": "three-phase reference standard",
            "model": "RS-3000",
            "serial": "RS-0042",
            "accuracy_class": "0.05",
            "certificate": STANDARD_CERT,
            "valid_until": "2027-01-31",
            "constant_imp_per_kwh": 2000000,
        },
        "source": {"url": "socket://127.0.0.1:1"},
        "controllers": [{"id": "C1", "url": "socket://127.0.0.1:2"}],
        "position_groups": [{"numbers": "1-24", "controller": "C1"}],
        "certificates": {
            "number_format": "{bench}-{year}-{kind}{seq:05d}",
            "issuer": "Example Metrology Institute",
        },
    }
)
BENCH_SNAPSHOT = BENCH.model_dump(mode="json", by_alias=True)
SNAPSHOTS_FULL = {
    **SNAPSHOTS,
    "bench_config": BENCH_SNAPSHOT,
    "regulation_profile": {
        "profile": {"id": "jjg596-2012", "basis": "JJG596-2012《电子式交流电能表》", "version": 1}
    },
}
EXTRA = {"approver": "Wang Fang", "certificate_valid_months": 12}

RUN_A = "RUN-A"  # sample run, full snapshots, completed
RUN_B = "RUN-B"  # sample run, the sample's own minimal snapshots, completed (same bench)
RUN_OPEN = "RUN-OPEN"  # sample run left running
RUN_X = "RUN-X"  # another bench: an incomplete third meter, hostile text, an invalid reading
HOSTILE = "<script>alert('x')</script> & 断线"


def store_run(
    store: ResultsStore,
    run_id: str,
    snapshots=SNAPSHOTS_FULL,
    *,
    close=True,
    bench: str | None = None,
    extra=None,
    more=(),
) -> None:
    run = sample_run(run_id)
    changes = {"extra": EXTRA if extra is None else extra}
    if bench:
        changes["bench"] = bench
    run = dataclasses.replace(run, **changes)
    store.create_run(run, snapshots)
    for record in sample_records(run_id):
        store.append(record)
    for record in more:
        store.append(record)
    if close:
        store.set_status(run_id, RunStatus.COMPLETED, START + timedelta(hours=1))


def extra_meter(run_id: str) -> list:
    """Position 3: one invalid reading, basic error without a result, a log entry with markup."""
    t = START + timedelta(minutes=5)
    return [
        Position(
            run_id=run_id,
            position=3,
            meter_type="DDZY-1",
            serial_no="SN0003",
            customer="客户 A",
            nameplate={"class": "2"},
        ),
        Reading(
            run_id=run_id,
            position=3,
            step_key=BASIC,
            index=0,
            at=t,
            raw={"m": 0, "N": 0},
            value=None,
            unit="%",
            status=ReadingStatus.INVALID,
        ),
        Conclusion(
            run_id=run_id,
            position=3,
            step_key=BASIC,
            at=t,
            outcome=Outcome.NO_RESULT,
            reason="no pulses from the meter",
            unit="%",
        ),
        Event(
            run_id=run_id,
            at=t,
            severity=Severity.ERROR,
            kind="fault",
            message=HOSTILE,
            position=3,
            step_key=BASIC,
            trace=[{"direction": "tx", "hex": "68 AA"}, {"direction": "rx", "hex": "E5"}],
        ),
    ]


def build_database(path: Path) -> Path:
    with ResultsStore.open(path) as store:
        store_run(store, RUN_A)
        store_run(store, RUN_B, SNAPSHOTS)
        store_run(store, RUN_OPEN, close=False)
        store_run(store, RUN_X, bench="bench-x", more=extra_meter(RUN_X))
    return path


def tamper(path: Path, sql: str, *params: object) -> None:
    """Edit the file as someone with write access would: drop the guards, change rows."""
    raw = sqlite3.connect(path)
    triggers = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for (name,) in triggers:
        raw.execute(f"DROP TRIGGER {name}")
    raw.execute(sql, params)
    raw.commit()
    raw.close()


ROUNDED = {1: "+0.2", 2: "-0.4"}
MEANS = {1: Decimal("0.15"), 2: Decimal("-0.30")}


def sample_documents(db: Path) -> tuple[dict[str, Any], Any]:
    """The sample run's batch report, a record, a certificate and a notice, and one font cut
    for all four (what the PDF renderer comparisons render)."""
    from meterbench.reports.certificate import build_certificate
    from meterbench.reports.context import load_context
    from meterbench.reports.fonts import subset_fonts
    from meterbench.reports.pdf import pdf_text
    from meterbench.reports.render import report_documents

    path = build_database(db)
    with ResultsStore.open(path, create=False) as store:
        ctx = load_context(store, RUN_A, "zh")
    docs = {"batch": report_documents(ctx)[0], "record": report_documents(ctx, "SN0002")[0]}
    docs["certificate"] = build_certificate(ctx, ctx.meter("SN0001"))
    docs["notice"] = build_certificate(ctx, ctx.meter("SN0002"))
    return docs, subset_fonts("".join(pdf_text(d) for d in docs.values()))
