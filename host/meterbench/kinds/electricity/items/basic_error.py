"""Basic error: readings at one load point until the regulation's rule is satisfied, judged on
the rounded mean against the MPE (and an acceptance limit apart)."""

from __future__ import annotations

from fractions import Fraction

from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import DEC, groups, limit_measurements, wiring_of
from meterbench.kinds.electricity.items.gated import gated_readings, point_setpoint, stored_values
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import ErrorPoint
from meterbench.regulations.readings import (
    BorderlineRule,
    Limits,
    judge_point,
    readings_still_needed,
)
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import conclude, no_result
from meterbench.runner.recovery import together


async def basic_error(ctx: RunContext, step: PlannedStep) -> None:
    def setpoint_key(point: ErrorPoint, position: int) -> Setpoint:
        return point_setpoint(point, wiring_of(ctx, position))

    for setpoint, positions in groups(ctx, step, setpoint_key).items():
        await apply(ctx, setpoint)

        async def one(position: int) -> None:
            point: ErrorPoint = step.for_position(ctx, position)
            rule = point.readings
            borderline = BorderlineRule(
                rule.borderline_enabled, rule.borderline_low, rule.borderline_high, rule.extra
            )
            mpe = point.limits.mpe

            def wanted(values: list[Fraction]) -> int:
                return readings_still_needed(values, mpe, rule.base, borderline)

            stored = stored_values(ctx, position, step.key)
            values, problem = await gated_readings(ctx, position, step.key, point, stored, wanted)
            if problem is not None:
                ctx.log(Severity.ERROR, "isolated", problem, position, step.key)
                no_result(
                    ctx, position, step.key, Outcome.NO_RESULT, problem, {"readings": len(values)}
                )
                return
            limits = Limits(mpe, point.limits.acceptance)
            judged = judge_point(values, limits, point.rounding_interval, rule.judge_on)
            conclude(
                ctx,
                position,
                step.key,
                *limit_measurements(
                    judged.mpe_pass,
                    limits,
                    mean=round_to_interval(judged.mean, DEC("0.000001")),
                    rounded=judged.rounded,
                    acceptance_pass=judged.acceptance_pass,
                    unit="%",
                    details={
                        "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
                        "display": judged.display,
                        "interval": str(point.rounding_interval),
                        "pulses_per_reading": point.pulses.pulses_per_reading,
                        "load": {
                            "current": point.current_expr,
                            "current_a": str(point.current_a),
                            "pf": point.pf,
                            "direction": point.direction,
                        },
                    },
                    reason=None if judged.mpe_pass else f"{judged.display} % beyond ±{mpe} %",
                ),
                say=f"{step.point}: {judged.display} %",
            )

        await together(one(p) for p in positions)
