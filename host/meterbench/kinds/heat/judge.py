"""One verdict for every heat item: the mean of a point's errors, rounded to the class's
interval, against the component MPE the plan gives the point (Ef, Et, Ec or E) and, apart,
an acceptance limit; plus what the stored readings need in common."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from meterbench.plan.model_common import LimitSet
from meterbench.regulations.readings import Limits, judge_point
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import LimitKind, ReadingStatus
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import Measurement, conclude

DEC = Decimal
READING_PLACES = DEC("0.0001")


def text(value: Fraction | Decimal | float, places: int = 6) -> str:
    return f"{float(value):.{places}f}"


def stored_errors(ctx: RunContext, position: int, step_key: str) -> list[Fraction]:
    """The valid errors an interrupted run already stored for this point (resume)."""
    return [
        Fraction(r.value)
        for r in ctx.store.readings(ctx.run_id, step_key=step_key, position=position)
        if r.status in (ReadingStatus.OK, ReadingStatus.MARKED) and r.value is not None
    ]


def store_error(
    ctx: RunContext,
    position: int,
    step_key: str,
    error: Fraction,
    raw: dict[str, Any],
    valid: bool = True,
) -> None:
    index = ctx.store.next_reading_index(ctx.run_id, position, step_key)
    status = ReadingStatus.OK if valid else ReadingStatus.INVALID
    value = round_to_interval(error, READING_PLACES)
    ctx.append(ctx.reading(position, step_key, index, raw, value, "%", status=status))


def conclude_error(
    ctx: RunContext,
    step_key: str,
    position: int,
    values: list[Fraction],
    limits: LimitSet,
    interval: Decimal,
    component: str,
    facts: dict[str, Any],
    problems: list[str] | None = None,
) -> None:
    """Judge a point's errors against ``component``'s MPE (``Ef``, ``Et``, ``Ec``, ``E``);
    a problem with the meter's register (``problems``) fails it whatever its error."""
    judged = judge_point(values, Limits(limits.mpe, limits.acceptance), interval, "rounded")
    details = {
        "readings": [str(round_to_interval(v, READING_PLACES)) for v in values],
        "display": judged.display,
        "interval": str(interval),
        "component": component,
        **facts,
    }
    problems = problems or []
    if problems:
        details["register_problems"] = problems
    reason = None
    if not judged.mpe_pass:
        reason = f"{judged.display} % beyond {component} = ±{limits.mpe} %"
    elif problems:
        reason = problems[0]
    mpe = Measurement(
        round_to_interval(judged.mean, DEC("0.000001")),
        judged.mpe_pass and not problems,
        judged.rounded,
        -limits.mpe,
        limits.mpe,
        "%",
        reason=reason,
        details=details,
    )
    measurements = [mpe]
    if limits.acceptance is not None:
        passed = bool(judged.acceptance_pass) and not problems
        measurements.append(
            mpe.against(LimitKind.ACCEPTANCE, -limits.acceptance, limits.acceptance, passed)
        )
    say = f"{step_key}: {judged.display} % {'pass' if mpe.passed else 'fail'}"
    conclude(ctx, position, step_key, *measurements, say=say)


__all__ = ["conclude_error", "store_error", "stored_errors", "text"]
