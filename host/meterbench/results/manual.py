"""Manual items in a stored run: which ones the plan asks for, what was recorded, what is
missing. Read from the record alone (the plan snapshot and the manual results), so reports,
certificates and lot statistics agree on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meterbench.results.kinds import Outcome
from meterbench.results.models import ManualResult
from meterbench.results.record import RunRecord


@dataclass(frozen=True, slots=True)
class PlannedManual:
    """A manual item as the plan snapshot of one meter type lists it."""

    item: str
    step_id: str
    title: str
    mandatory: bool


def planned_manual_items(record: RunRecord, meter_type: str) -> list[PlannedManual]:
    """The manual steps of a meter type's plan expansion, in plan order."""
    plan = record.snapshots.get("plan")
    expansion = plan.get(meter_type) if isinstance(plan, Mapping) else None
    steps = expansion.get("steps") if isinstance(expansion, Mapping) else None
    out = []
    for step in steps or ():
        if isinstance(step, Mapping) and step.get("type") == "manual":
            out.append(
                PlannedManual(
                    item=str(step.get("item")),
                    step_id=str(step.get("id")),
                    title=str(step.get("title") or step.get("item")),
                    mandatory=bool(step.get("mandatory", True)),
                )
            )
    return out


def latest_manual_results(record: RunRecord, position: int) -> dict[str, ManualResult]:
    """The latest entry per item for one position (a later entry supersedes an earlier)."""
    latest: dict[str, ManualResult] = {}
    for result in sorted(record.manual_results, key=lambda r: r.at):
        if result.position == position:
            latest[result.item] = result
    return latest


def missing_manual_items(record: RunRecord, position: int) -> list[str]:
    """Mandatory manual items of the position's plan with no recorded outcome."""
    meter_type = next((p.meter_type for p in record.positions if p.position == position), None)
    if meter_type is None:
        return []
    done = latest_manual_results(record, position)
    return [
        m.item
        for m in planned_manual_items(record, meter_type)
        if m.mandatory and m.item not in done
    ]


def manual_outcomes(record: RunRecord, position: int) -> set[Outcome]:
    """The outcomes of the latest manual entries of a position (for its overall verdict)."""
    return {r.outcome for r in latest_manual_results(record, position).values()}


def as_plain(result: ManualResult) -> dict[str, Any]:
    return {
        "item": result.item,
        "outcome": result.outcome.value,
        "verifier": result.verifier,
        "note": result.note,
    }
