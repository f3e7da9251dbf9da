"""Standard deviation of the error at one load point, against its limit."""

from __future__ import annotations

from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import DEC, groups, wiring_of
from meterbench.kinds.electricity.items.gated import gated_readings, point_setpoint, stored_values
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import StdDevPoint
from meterbench.regulations.rounding import round_to_interval
from meterbench.regulations.std_dev import judge_std_dev
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result
from meterbench.runner.recovery import together


async def std_dev(ctx: RunContext, step: PlannedStep) -> None:
    def setpoint_key(sd: StdDevPoint, position: int) -> Setpoint:
        return point_setpoint(sd.point, wiring_of(ctx, position))

    for setpoint, positions in groups(ctx, step, setpoint_key).items():
        await apply(ctx, setpoint)

        async def one(position: int) -> None:
            sd: StdDevPoint = step.for_position(ctx, position)
            stored = stored_values(ctx, position, step.key)
            values, problem = await gated_readings(
                ctx,
                position,
                step.key,
                sd.point,
                stored,
                lambda values: max(0, sd.readings - len(values)),
            )
            if problem is not None:
                ctx.log(Severity.ERROR, "isolated", problem, position, step.key)
                no_result(ctx, position, step.key, Outcome.NO_RESULT, problem)
                return
            judged = judge_std_dev(values, sd.limit, sd.std_dev_interval)
            conclude(
                ctx,
                position,
                step.key,
                Measurement(
                    value=judged.s,
                    passed=judged.passed,
                    rounded=judged.rounded,
                    lower=DEC(0),
                    upper=judged.limit,
                    unit="%",
                    details={
                        "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
                        "display": judged.display,
                    },
                ),
                say=f"std dev: {judged.display} %",
            )

        await together(one(p) for p in positions)
