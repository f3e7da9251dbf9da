"""Unannounced error points: the load of each point is drawn when the run reaches it, so a
meter cannot be built to be exact at the plan's points only.

The plan fixes the number of points and the range (current, power factors, directions); the
load itself comes from a seed derived from the run id (or from the plan's ``seed``, to repeat
a run's draws) and the point's key. The same run draws the same loads after a resume. The drawn
point is expanded by the same rules as a planned basic-error point (MPE of the drawn load,
pulses per reading, readings rule) and measured and judged by the basic-error executor; the
drawn load is logged and kept in the conclusion.
"""

from __future__ import annotations

import math
import random
from typing import Any

from meterbench.config.errors import ConfigError
from meterbench.config.plans import Plan, plan_profile
from meterbench.kinds.electricity.items.basic_error import basic_error
from meterbench.plan.context import Expansion
from meterbench.plan.electricity import drawn_point
from meterbench.plan.model import ErrorPoint, UnannouncedStep
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import no_result

DRAWS = 20  # draws tried before giving up on a load the profile has an MPE for


def draw_load(rng: random.Random, plan: UnannouncedStep, base_a: float) -> tuple[str, str, str]:
    """(current expression in multiples of the base current, PF, direction): current
    log-uniform over the range, so small loads get as many points as large ones."""
    low, high = float(plan.current_low_a), float(plan.current_high_a)
    current = math.exp(rng.uniform(math.log(low), math.log(high)))
    ratio = min(max(float(f"{current / base_a:.3g}"), low / base_a), high / base_a)
    return f"{ratio:.4g}Ib", rng.choice(plan.pfs), rng.choice(plan.directions)


def _seed(ctx: RunContext, plan: UnannouncedStep, key: str) -> str:
    return f"{ctx.run_id if plan.seed is None else plan.seed}/{key}"


def _expansion(ctx: RunContext, plan: UnannouncedStep, position: int) -> Expansion:
    """The expansion context of the plan's regulation, as at plan time."""
    header = {
        "id": plan.plan_id,
        "title": plan.plan_id,
        "regulation": plan.regulation,
        "verification": plan.verification,
        "kind": "electricity",
    }
    stub = Plan.model_validate(
        {
            "plan": header,
            "profile_overrides": plan.profile_overrides,
            "items": [{"type": "unannounced"}],
        }
    )
    config = ctx.session.config
    return Expansion(
        plan=stub,
        meter=ctx.meter_type(position),
        profile=plan_profile(stub),
        bench=config.kind.plan_context(config),
    )


def drawn_for(ctx: RunContext, step: PlannedStep, position: int) -> ErrorPoint | None:
    """The load this position's meter type gets at this point (None: nothing drawn that the
    profile has an MPE for)."""
    plan: UnannouncedStep = step.for_position(ctx, position)
    expansion = _expansion(ctx, plan, position)
    meter: Any = expansion.meter
    rng = random.Random(_seed(ctx, plan, step.key))
    for _ in range(DRAWS):
        current, pf, direction = draw_load(rng, plan, float(meter.base_current_a))
        try:
            return drawn_point(expansion, current, pf, direction)
        except ConfigError:
            continue  # a load outside the MPE table of this PF: draw again
    return None


async def unannounced(ctx: RunContext, step: PlannedStep) -> None:
    points: dict[str, ErrorPoint] = {}
    positions: list[int] = []
    for position in step.positions:
        type_id = ctx.meters[position].type_id
        if type_id not in points:
            point = drawn_for(ctx, step, position)
            if point is None:
                no_result(
                    ctx, position, step.key, Outcome.NO_RESULT, "no load with an MPE was drawn"
                )
                continue
            points[type_id] = point
            ctx.log(
                Severity.INFO,
                "unannounced",
                f"{step.key} drawn for {type_id}: {point.current_expr} = {point.current_a} A, "
                f"PF {point.pf}, {point.direction}",
                step_key=step.key,
            )
        positions.append(position)
    drawn = PlannedStep(
        step.key, "basic_error", step.point, step.ordinal, step.title, points, positions
    )
    if positions:
        await basic_error(ctx, drawn)
