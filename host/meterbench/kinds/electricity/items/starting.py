"""Starting: the meter pulses within t0 at the starting current."""

from __future__ import annotations

import asyncio
from typing import Any

from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import DEC, dec, groups, wiring_of
from meterbench.kinds.electricity.items.windows import pulse_window
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import StartingStep
from meterbench.regulations.starting import judge_starting
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result


async def starting(ctx: RunContext, step: PlannedStep) -> None:
    def setpoint_key(plan: StartingStep, position: int) -> tuple[Any, ...]:
        return (wiring_of(ctx, position), float(plan.voltage_v), float(plan.current_a), plan.pf)

    for (wiring, voltage, current, pf), positions in groups(ctx, step, setpoint_key).items():
        await apply(ctx, Setpoint.balanced(wiring, voltage, current, pf))

        async def one(position: int, current: float = current) -> None:
            plan: StartingStep = step.for_position(ctx, position)
            window = float(plan.window_s)
            ctx.observer.position(position, f"starting: up to {window:.0f} s at {current:g} A")
            try:
                stamps, count, flags = await pulse_window(
                    ctx, position, window, plan.required_pulses + 1, plan.required_pulses
                )
            except TimeoutError:
                ctx.log(
                    Severity.ERROR, "timeout", "no end of the starting window", position, step.key
                )
                no_result(ctx, position, step.key, Outcome.ERROR, "controller gave no result")
                return
            times = [DEC(t) / DEC(1_000_000) for t in stamps]
            ctx.append(
                ctx.reading(
                    position,
                    step.key,
                    0,
                    {
                        "pulses": count,
                        "pulse_times_us": stamps,
                        "window_s": window,
                        "current_a": current,
                        "flags": flags,
                    },
                    times[0] if times else None,
                    "s",
                )
            )
            passed = judge_starting(times, plan.t0_s, plan.required_pulses)
            first = times[0] if times else None
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
                    reason=None
                    if passed
                    else "no pulse within t0"
                    if first is None
                    else "first pulse after t0",
                    details={"t0_s": str(plan.t0_s), "pulses": count},
                ),
                say=f"starting: {'pass' if passed else 'fail'}",
            )

        await asyncio.gather(*(one(p) for p in positions))
