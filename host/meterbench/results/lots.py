"""Lot statistics from the store: every run that holds meters of a lot, their accepted meters,
the plan's lot rule, into ``LotStatistic`` and ``LotVerdict`` records.

Only the store is needed, so the runner can call this at the end of a run and append the
records before it closes the run, and a report can recompute the same figures later. A meter
belongs to the lot its position names (``Position.lot``), else to the lot named after its run.
A meter re-tested in a later run counts with its latest result only. Aborted runs do not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from meterbench.regulations.lots import (
    DEFAULT_ITEMS,
    LotMember,
    LotOutcome,
    LotPointStatistics,
    LotRule,
    lot_statistics,
    lot_verdict,
)
from meterbench.results.kinds import LimitKind, Outcome, RunStatus
from meterbench.results.manual import manual_outcomes, missing_manual_items
from meterbench.results.models import LotStatistic, LotVerdict
from meterbench.results.record import RunRecord
from meterbench.results.store import ResultsStore

_OUTCOME = {"pass": Outcome.PASS, "fail": Outcome.FAIL, "no_result": Outcome.NO_RESULT}


def position_lot(record: RunRecord, position: int) -> str:
    found = next((p for p in record.positions if p.position == position), None)
    return found.lot if found is not None and found.lot else record.run.run_id


def accepted(record: RunRecord, position: int) -> bool:
    """The meter's verification conclusion is pass: every legal (MPE) conclusion and every
    recorded manual item passed, and no mandatory manual item is missing."""
    outcomes = {
        c.outcome
        for c in record.conclusions
        if c.position == position and c.limit_kind is LimitKind.MPE
    }
    outcomes |= manual_outcomes(record, position)
    return outcomes == {Outcome.PASS} and not missing_manual_items(record, position)


def lot_rule(record: RunRecord) -> LotRule:
    """The lot rule of the run's plan (the first meter type that has one), else the default."""
    plan = record.snapshots.get("plan")
    for expansion in plan.values() if isinstance(plan, Mapping) else ():
        rule = expansion.get("lot") if isinstance(expansion, Mapping) else None
        if isinstance(rule, Mapping):
            points = rule.get("points")
            return LotRule(
                items=tuple(rule.get("items") or DEFAULT_ITEMS),
                points=None if points is None else tuple(points),
                weighting=rule.get("weighting", "meter"),
                consequence=rule.get("consequence", "flag"),
            )
    return LotRule()


def lot_runs(store: ResultsStore, lot_id: str) -> list[RunRecord]:
    """Every run holding a meter of the lot, oldest first (aborted runs left out)."""
    runs = []
    for summary in store.list_runs():
        if summary.status is RunStatus.ABORTED:
            continue
        record = store.load_run(summary.run_id)
        if any(position_lot(record, p.position) == lot_id for p in record.positions):
            runs.append(record)
    return sorted(runs, key=lambda r: (r.run.started_at, r.run.run_id))


def lot_members(records: list[RunRecord], lot_id: str, rule: LotRule) -> list[LotMember]:
    """Every meter's mean error at every error point, the latest run of a meter winning."""
    items = set(rule.items) | set(DEFAULT_ITEMS)
    latest: dict[tuple[str, str], LotMember] = {}
    for record in records:
        steps = {s.step_key: s for s in record.steps}
        positions = {p.position: p for p in record.positions}
        for conclusion in record.conclusions:
            step = steps.get(conclusion.step_key)
            position = positions.get(conclusion.position)
            if (
                step is None
                or position is None
                or step.item not in items
                or conclusion.limit_kind is not LimitKind.MPE
                or conclusion.mean is None
                or conclusion.outcome not in (Outcome.PASS, Outcome.FAIL)
                or position_lot(record, position.position) != lot_id
            ):
                continue
            interval = conclusion.details.get("interval") if conclusion.details else None
            serial = position.serial_no or f"{record.run.run_id}#{position.position}"
            latest[(serial, step.step_key)] = LotMember(
                run_id=record.run.run_id,
                position=position.position,
                serial=serial,
                meter_type=position.meter_type,
                item=step.item,
                point=step.step_key,
                mean_error=conclusion.mean,
                accepted=accepted(record, position.position),
                interval=None if interval is None else Decimal(str(interval)),
            )
    return list(latest.values())


def compute_lot(store: ResultsStore, lot_id: str) -> tuple[list[LotPointStatistics], LotOutcome]:
    """The lot's statistics and verdict under the rule of its latest run's plan."""
    records = lot_runs(store, lot_id)
    rule = lot_rule(records[-1]) if records else LotRule()
    statistics = lot_statistics(lot_members(records, lot_id, rule), rule)
    return statistics, lot_verdict(statistics, rule)


def _stamp(store: ResultsStore, lot_id: str) -> tuple[str, datetime]:
    records = lot_runs(store, lot_id)
    if not records:
        raise KeyError(f"no run holds meters of lot {lot_id!r}")
    latest = records[-1]
    times = [c.at for r in records for c in r.conclusions] or [latest.run.started_at]
    return latest.run.run_id, max(times)


def lot_statistics_for(
    store: ResultsStore, lot_id: str, run_id: str | None = None, at: datetime | None = None
) -> list[LotStatistic]:
    """The lot's statistics as records to append to ``run_id`` (default: the lot's latest run),
    stamped ``at`` (default: the lot's latest conclusion), so a recomputation is a replay."""
    stamp_run, stamp_at = _stamp(store, lot_id)
    statistics, _ = compute_lot(store, lot_id)
    return [
        LotStatistic(
            run_id=run_id or stamp_run,
            lot=lot_id,
            meter_type=s.meter_type,
            point=s.point,
            at=at or stamp_at,
            n=s.n,
            n_all=s.n_all,
            verdict=_OUTCOME[s.verdict],
            counted=s.counted,
            mean=None if s.mean is None else s.mean.quantize(Decimal("0.000001")),
            rounded=s.rounded,
            mean_all=None if s.mean_all is None else s.mean_all.quantize(Decimal("0.000001")),
            runs=list(s.runs),
            members=[
                {
                    "run_id": m.run_id,
                    "position": m.position,
                    "serial": m.serial,
                    "mean": str(m.mean_error),
                    "accepted": m.accepted,
                }
                for m in s.members
            ],
        )
        for s in statistics
    ]


def lot_verdict_for(
    store: ResultsStore, lot_id: str, run_id: str | None = None, at: datetime | None = None
) -> LotVerdict:
    """The overall lot verdict and its consequence, as a record."""
    stamp_run, stamp_at = _stamp(store, lot_id)
    _, outcome = compute_lot(store, lot_id)
    return LotVerdict(
        run_id=run_id or stamp_run,
        lot=lot_id,
        at=at or stamp_at,
        verdict=_OUTCOME[outcome.verdict],
        consequence=outcome.consequence,
        failed_points=list(outcome.failed_points),
    )
