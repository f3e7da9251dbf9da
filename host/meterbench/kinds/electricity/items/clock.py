"""Clock daily error: the meter's second pulse timed against the external time base."""

from __future__ import annotations

import asyncio
from fractions import Fraction

from meterbench.devices.electricity_meter import PulseOutput
from meterbench.kinds.electricity.items.common import DEC, MARGIN, voltage_only
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import ClockStep
from meterbench.regulations.clock import daily_error, judge_clock
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result
from meterproto.link import messages as m


async def clock(ctx: RunContext, step: PlannedStep) -> None:
    positions = step.positions
    if not step.alongside:  # alongside load points, their setpoints apply the voltage
        await apply(ctx, voltage_only(ctx, positions))
    timebase_hz = ctx.session.config.timebase.frequency_hz

    async def switch(position: int) -> None:
        """1DH: the multi-function output to the clock second pulse (a meter without a bus is
        assumed wired to it already)."""
        client = ctx.session.meters.get(position)
        if client is None:
            return
        try:
            await client.set_pulse_output(PulseOutput.CLOCK_SECOND)
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.WARNING,
                "fault",
                f"could not switch the output to the second pulse: {exc}",
                position,
                step.key,
            )

    async def one(position: int) -> None:
        # Each meter's timing starts as soon as its own output is switched; the buses switch
        # the other meters meanwhile.
        await switch(position)
        plan: ClockStep = step.for_position(ctx, position)
        router, channel = ctx.router(position)
        router.drain(channel, period=True)
        await ctx.request(
            position, m.PERIOD_START, cycles=plan.gate_pulses, readings=plan.readings, skip=1
        )
        values: list[Fraction] = []
        try:
            while len(values) < plan.readings:
                try:
                    msg = await ctx.result(
                        position, float(plan.gate_s) * 2 * MARGIN + 30.0, period=True
                    )
                except TimeoutError:
                    ctx.log(Severity.ERROR, "isolated", "no second pulses", position, step.key)
                    no_result(
                        ctx,
                        position,
                        step.key,
                        Outcome.NO_RESULT,
                        "no second pulses",
                        {"readings": len(values)},
                    )
                    return
                if msg.msg_type != m.PERIOD_READING:
                    continue
                period = Fraction(msg["timebase_count"]) / Fraction(timebase_hz) / msg["cycles"]
                value = daily_error(period)
                values.append(value)
                ctx.append(
                    ctx.reading(
                        position,
                        step.key,
                        len(values) - 1,
                        {
                            "cycles": msg["cycles"],
                            "timebase_count": msg["timebase_count"],
                            "timebase_hz": timebase_hz,
                            "gate_ticks": msg["gate_ticks"],
                        },
                        round_to_interval(value, DEC("0.0001")),
                        "s/d",
                    )
                )
        finally:
            await ctx.stop_functions(position, m.FN_PERIOD)
        judged = judge_clock(values, plan.limit_s_per_day, plan.rounding_s_per_day)
        conclude(
            ctx,
            position,
            step.key,
            Measurement(
                value=round_to_interval(judged.mean, DEC("0.000001")),
                passed=judged.passed,
                rounded=judged.rounded,
                lower=-judged.limit,
                upper=judged.limit,
                unit="s/d",
                reason=None if judged.passed else f"daily error {judged.display} s/d",
                details={
                    "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
                    "failing_readings": list(judged.failing_readings),
                },
            ),
            say=f"clock: {judged.display} s/d",
        )

    await asyncio.gather(*(one(p) for p in positions))
