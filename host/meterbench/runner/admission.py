"""What a bench must be able to do before a run may switch anything on.

``plan show`` marks setpoints the source cannot deliver, but a run used to execute them anyway
(a 60 A point on a 10 A source is then measured at whatever the source reaches, and recorded
as a pass). And a reference standard whose calibration has expired makes every record of the
run worthless. Both are refused here, before the bench is opened, with the file and field to
fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.config.errors import ConfigError
from meterbench.plan.model import PlanExpansion


def run_date() -> dt.date:
    """The date a run starts on. Real and simulated benches alike: the simulated clock starts
    at the wall time it is created, so its date is today's."""
    return dt.datetime.now().astimezone().date()


def check_admission(
    bench: BenchConfig,
    expansions: Mapping[str, PlanExpansion],
    bench_path: Path | str,
    on: dt.date | None = None,
) -> None:
    """ConfigError for an expired reference standard or a setpoint beyond the bench."""
    check_standard(bench, bench_path, on or run_date())
    check_setpoints(bench, expansions, bench_path)


def check_standard(bench: BenchConfig, bench_path: Path | str, on: dt.date) -> None:
    standard = bench.standard
    if standard.valid_until < on:
        raise ConfigError(
            bench_path,
            "standard.valid_until",
            f"the calibration of {standard.name} (certificate {standard.certificate}) expired "
            f"on {standard.valid_until.isoformat()}, before this run's date {on.isoformat()}: "
            "recalibrate it before verifying meters",
        )


def check_setpoints(
    bench: BenchConfig, expansions: Mapping[str, PlanExpansion], bench_path: Path | str
) -> None:
    found = [
        (type_id, where, problem)
        for type_id, expansion in expansions.items()
        for where, problem in _problems(expansion)
    ]
    if not found:
        return
    type_id, where, problem = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    raise ConfigError(
        bench_path,
        _field(problem),
        f"meter type {type_id}, {where}: {problem}{more}; the bench cannot deliver the plan "
        "(`meterbench plan show` lists them)",
    )


def _problems(expansion: PlanExpansion) -> Iterator[tuple[str, str]]:
    """(where, problem) for every step or point the expansion marked infeasible."""
    for step in expansion.steps:
        for where, model in _parts(step):
            if not getattr(model, "feasible", True):
                for problem in getattr(model, "problems", None) or ["not feasible"]:
                    yield where, problem


def _parts(step: Any) -> Iterator[tuple[str, Any]]:
    yield f"step {step.id}", step
    for point in getattr(step, "points", None) or []:
        inner = getattr(point, "point", point)  # a std-dev point wraps an error point
        yield f"step {step.id} point {getattr(inner, 'key', '?')}", inner


def _field(problem: str) -> str:
    """The bench field that limits the plan (the expansion words its problems this way)."""
    if " V, the source" in problem:
        return "bench.max_voltage_v"
    if " A, the source" in problem:
        return "bench.max_current_a"
    return "bench"
