"""The meter list of a run as its record holds it.

A resumed run takes its meters from the stored positions (serial, asset, address, customer
and the nameplate of the meter type), never from the meter-list file: the file may have been
moved or edited since, and the record must never contradict itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from meterbench.bench_open import runs_on_virtual_time
from meterbench.config.bench import BenchConfig
from meterbench.config.errors import issues_from_validation
from meterbench.config.meter_types import MeterType, _meter_type_model
from meterbench.plan.model import PlanExpansion
from meterbench.results import Position, ResultsStore, StoreError
from meterbench.results.canonical import JsonValue
from meterbench.results.models import Run
from meterbench.runner.meters import MeterEntry


class RecordError(Exception):
    """The stored record cannot be turned back into a meter list (names the position)."""


def meter_type_from_record(position: int, nameplate: Any) -> MeterType:
    """The meter type as snapshotted when the run started."""
    if not isinstance(nameplate, dict):
        raise RecordError(f"position {position}: the record holds no meter type")
    kind = nameplate.get("kind") or ("water" if "q3_m3h" in nameplate else "electricity")
    model = _meter_type_model(kind)
    if model is None:
        raise RecordError(f"position {position}: unknown meter kind {kind!r} in the record")
    return cast("MeterType", model.model_validate(nameplate))


def recorded_meters(positions: list[Position]) -> list[MeterEntry]:
    """One MeterEntry per stored position, in position order (as ``load_meters`` gives)."""
    entries = []
    for p in sorted(positions, key=lambda p: p.position):
        meter_type = meter_type_from_record(p.position, p.nameplate)
        entries.append(
            MeterEntry(
                position=p.position,
                type_name=p.meter_type,
                type_path=Path(f"{p.meter_type}.toml"),
                meter_type=meter_type,
                serial=p.serial_no or "",
                asset=p.asset_no or "",
                address=p.address,
                customer=p.customer or "",
                row=f"position {p.position} of the record",
            )
        )
    return entries


_FILES = ("bench_file", "plan_file", "meters_file")


@dataclass(frozen=True)
class ResumeInputs:
    """What a resumed run is rebuilt from, all taken from its record."""

    bench: BenchConfig
    files: dict[str, Path]  # bench_file, plan_file, meters_file as the run started with them
    meters: list[MeterEntry]
    expansions: dict[str, PlanExpansion]


def resume_inputs(
    run: Run, snapshots: dict[str, JsonValue], positions: list[Position]
) -> ResumeInputs:
    """The bench, meters and plan of a stored run; RecordError naming everything the record
    lacks (a record made by hand or by another program), so nothing starts on half a run."""
    problems: list[str] = []
    bench = _validated(snapshots, "bench_config", "a bench config", BenchConfig, problems)
    plan = snapshots.get("plan")
    expansions: dict[str, PlanExpansion] = {}
    if plan is None:
        problems.append("no plan snapshot")
    elif not isinstance(plan, dict) or not plan:
        problems.append("the plan snapshot holds no plan expansion")
    else:
        for key, value in plan.items():
            try:
                expansions[key] = PlanExpansion.model_validate(value)
            except ValidationError as exc:
                problems.append(
                    f"the plan snapshot's {key!r} is not a plan expansion ({_first(exc)})"
                )
                break
    meters: list[MeterEntry] = []
    if not positions:
        problems.append("no positions")
    else:
        try:
            meters = recorded_meters(positions)
        except (RecordError, ValidationError) as exc:
            problems.append(str(exc) if isinstance(exc, RecordError) else _first(exc))
    extra = dict(run.extra)
    absent = [name for name in _FILES if not isinstance(extra.get(name), str)]
    if absent:
        problems.append(f"no {', '.join(absent)} in the run's extra fields")
    if problems or bench is None:
        raise RecordError(
            f"run {run.run_id} cannot be resumed from its record: {'; '.join(problems)}"
        )
    files = {name: Path(cast("str", extra[name])) for name in _FILES}
    return ResumeInputs(bench, files, meters, expansions)


def _validated(
    snapshots: dict[str, JsonValue], name: str, what: str, model: Any, problems: list[str]
) -> Any:
    content = snapshots.get(name)
    if content is None:
        problems.append(f"no {name} snapshot")
        return None
    try:
        return model.model_validate(content)
    except ValidationError as exc:
        problems.append(f"the {name} snapshot is not {what} ({_first(exc)})")
        return None


def _first(exc: ValidationError) -> str:
    issues = issues_from_validation(exc)
    more = f" and {len(issues) - 1} more" if len(issues) > 1 else ""
    first = issues[0]
    return f"field '{first.field}': {first.message}{more}" if first.field else first.message + more


__all__ = [
    "RecordError",
    "ResumeInputs",
    "last_stored_time",
    "meter_type_from_record",
    "recorded_meters",
    "recorded_virtual",
    "resume_inputs",
]


def recorded_virtual(store: ResultsStore, run_id: str) -> bool:
    """Whether the run's stored bench runs on virtual time (``bench_open``); False if the
    record cannot tell (resume then reports what is wrong with the record)."""
    try:
        bench = BenchConfig.model_validate(store.snapshots(run_id).get("bench_config"))
    except (StoreError, ValueError):
        return False
    return runs_on_virtual_time(bench)


def last_stored_time(store: ResultsStore, run_id: str) -> dt.datetime | None:
    """The latest time the run's record holds: a resumed simulated run starts its clock there,
    so its timestamps go on instead of going back."""
    times = [s.at for s in store.statuses(run_id)]
    times += [e.at for e in store.events(run_id)]
    times += [r.at for r in store.readings(run_id)]
    times += [c.at for c in store.conclusions(run_id)]
    times += [b.at for b in store.batch_statistics(run_id)]
    return max(times, default=None)
