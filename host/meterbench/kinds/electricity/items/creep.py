"""Creep (no-load): no more than the allowed pulses at the test voltage without current."""

from __future__ import annotations

import asyncio

from meterbench.kinds.electricity.items.common import DEC, groups, voltage_only
from meterbench.kinds.electricity.items.windows import pulse_window
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import CreepStep
from meterbench.regulations.creep import judge_creep
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result


async def creep(ctx: RunContext, step: PlannedStep) -> None:
    for voltage, positions in groups(ctx, step, lambda s, p: float(s.voltage_v)).items():
        await apply(ctx, voltage_only(ctx, positions, voltage))

        async def one(position: int, voltage: float = voltage) -> None:
            plan: CreepStep = step.for_position(ctx, position)
            ctx.observer.position(position, f"creep: {plan.duration_s} s at {voltage:g} V")
            try:
                stamps, count, flags = await pulse_window(
                    ctx, position, plan.duration_s, plan.max_pulses + 1
                )
            except TimeoutError:
                ctx.log(Severity.ERROR, "timeout", "no end of the creep window", position, step.key)
                no_result(ctx, position, step.key, Outcome.ERROR, "controller gave no result")
                return
            ctx.append(
                ctx.reading(
                    position,
                    step.key,
                    0,
                    {
                        "pulses": count,
                        "pulse_times_us": stamps,
                        "duration_s": plan.duration_s,
                        "voltage_v": voltage,
                        "flags": flags,
                    },
                    DEC(count),
                    "pulses",
                )
            )
            passed = judge_creep(count, plan.max_pulses)
            conclude(
                ctx,
                position,
                step.key,
                Measurement(
                    value=DEC(count),
                    passed=passed,
                    rounded=DEC(count),
                    lower=DEC(0),
                    upper=DEC(plan.max_pulses),
                    unit="pulses",
                    details={"duration_s": plan.duration_s},
                ),
                say=f"creep: {count} pulse(s)",
            )

        await asyncio.gather(*(one(p) for p in positions))
