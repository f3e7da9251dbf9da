"""The meter list of a run as its record holds it.

A resumed run takes its meters from the stored positions (serial, asset, address, customer
and the nameplate of the meter type), never from the meter-list file: the file may have been
moved or edited since, and the record must never contradict itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

from meterbench.bench_open import runs_on_virtual_time
from meterbench.config.bench import BenchConfig
from meterbench.config.meter_types import MeterType, _meter_type_model
from meterbench.results import Position, ResultsStore, StoreError
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


__all__ = ["RecordError", "meter_type_from_record", "recorded_meters"]


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
