"""Starting: the meter pulses within t0 at the starting current."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meterbench.electrical import DIRECTIONS, Direction, Setpoint
from meterbench.kinds.electricity.items.common import DEC, dec, groups, wiring_of
from meterbench.kinds.electricity.items.windows import pulse_window
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import StartingStep
from meterbench.regulations.starting import judge_starting
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result


@dataclass(frozen=True)
class Start:
    """One direction's window: the first pulse (seconds) and whether it met the rule."""

    first: Decimal | None
    passed: bool


async def starting(ctx: RunContext, step: PlannedStep) -> None:
    """Each planned direction in turn (P- too for bidirectional meters); a position passes when
    it starts in every direction its plan has."""
    firsts: dict[int, dict[str, Start]] = {p: {} for p in step.positions}
    failed: set[int] = set()
    directions: list[Direction] = [
        d for d in DIRECTIONS if any(d in step.for_position(ctx, p).directions for p in firsts)
    ]
    for direction in directions:

        def setpoint_key(
            plan: StartingStep, position: int, direction: Direction = direction
        ) -> tuple[Any, ...]:
            wanted = direction in plan.directions and position not in failed
            return (
                wanted,
                wiring_of(ctx, position),
                float(plan.voltage_v),
                float(plan.current_a),
                plan.pf,
            )

        for key, positions in groups(ctx, step, setpoint_key).items():
            wanted, wiring, voltage, current, pf = key
            if not wanted:
                continue
            await apply(ctx, Setpoint.balanced(wiring, voltage, current, pf, direction=direction))
            await asyncio.gather(
                *(one_window(ctx, step, p, direction, current, firsts, failed) for p in positions)
            )
    for position, by_direction in firsts.items():
        if position not in failed:
            conclude_starting(ctx, step, position, by_direction)


async def one_window(
    ctx: RunContext,
    step: PlannedStep,
    position: int,
    direction: Direction,
    current: float,
    firsts: dict[int, dict[str, Start]],
    failed: set[int],
) -> None:
    """One starting window in one direction; its reading is stored as it ends."""
    plan: StartingStep = step.for_position(ctx, position)
    window = float(plan.window_s)
    ctx.observer.position(position, f"starting {direction}: up to {window:.0f} s at {current:g} A")
    try:
        stamps, count, flags = await pulse_window(
            ctx, position, window, plan.required_pulses + 1, plan.required_pulses
        )
    except TimeoutError:
        ctx.log(Severity.ERROR, "timeout", "no end of the starting window", position, step.key)
        no_result(ctx, position, step.key, Outcome.ERROR, "controller gave no result")
        failed.add(position)
        return
    times = [DEC(t) / DEC(1_000_000) for t in stamps]
    ctx.append(
        ctx.reading(
            position,
            step.key,
            plan.directions.index(direction),  # a repeated window is a new attempt
            {
                "pulses": count,
                "pulse_times_us": stamps,
                "window_s": window,
                "current_a": current,
                "direction": direction,
                "flags": flags,
            },
            times[0] if times else None,
            "s",
        )
    )
    passed = judge_starting(times, plan.t0_s, plan.required_pulses)
    firsts[position][direction] = Start(times[0] if times else None, passed)


def conclude_starting(
    ctx: RunContext, step: PlannedStep, position: int, by_direction: dict[str, Start]
) -> None:
    """Judged on the slowest direction: a direction with no pulse within t0 fails the item."""
    plan: StartingStep = step.for_position(ctx, position)
    failing = [(d, s) for d, s in by_direction.items() if not s.passed]
    passed = not failing
    times = [s.first for s in by_direction.values() if s.first is not None]
    first = max(times) if times else None
    reason = None
    if failing:
        direction, start = failing[0]
        reason = "no pulse within t0" if start.first is None else "first pulse after t0"
        reason += " for reverse energy" if direction == "P-" else ""
    conclude(
        ctx,
        position,
        step.key,
        Measurement(
            value=first,
            passed=passed,
            rounded=first.quantize(DEC("0.1")) if first is not None else None,
            upper=dec(plan.t0_s).quantize(DEC("0.1")),
            unit="s",
            reason=reason,
            details={
                "t0_s": str(plan.t0_s),
                "directions": {
                    d: None if s.first is None else str(s.first) for d, s in by_direction.items()
                },
            },
        ),
        say=f"starting: {'pass' if passed else 'fail'}",
    )
