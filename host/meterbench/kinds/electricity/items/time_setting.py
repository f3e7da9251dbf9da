"""Time setting: each meter's clock set to the standard time and read back."""

from __future__ import annotations

import asyncio
import datetime as dt

from meterbench.kinds.electricity.items.common import DEC, voltage_only
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import TimeSettingStep
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result


async def time_setting(ctx: RunContext, step: PlannedStep) -> None:
    """Set each meter's clock to the standard time, read it back, and judge the deviation.

    The meter takes the time when the write arrives and samples its clock somewhere inside the
    read transaction, so the comparison carries the duration of both transactions as timing
    uncertainty: only a deviation beyond that window (plus the 1 s display resolution) counts
    against the meter. Meters on one bus are set one after another, so a write never waits
    behind another meter's exchange with an already stale time in it."""
    meters = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            no_result(ctx, p, step.key, Outcome.NO_RESULT, "the meter has no bus to reach it on")
    if not meters:
        return
    await apply(ctx, voltage_only(ctx, meters))

    def standard_time() -> dt.datetime:
        return ctx.clock.datetime().astimezone().replace(tzinfo=None)

    async def set_and_check(position: int) -> None:
        client = ctx.session.meters[position]
        plan: TimeSettingStep = step.for_position(ctx, position)
        try:
            write_start = standard_time()
            await client.set_clock()
            write_end = standard_time()
            read_start = standard_time()
            meter_time = await client.read_clock()
            read_end = standard_time()
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"time setting failed: {exc}",
                position,
                step.key,
                ctx.trace(position),
            )
            no_result(ctx, position, step.key, Outcome.ERROR, str(exc))
            return
        earliest = read_start - (write_end - write_start) - dt.timedelta(seconds=1)
        latest = read_end + dt.timedelta(seconds=1)
        if meter_time < earliest:
            deviation = (meter_time - earliest).total_seconds()
        elif meter_time > latest:
            deviation = (meter_time - latest).total_seconds()
        else:
            deviation = 0.0
        deviation_d = DEC(str(round(deviation, 3)))
        window = DEC(str(round((latest - earliest).total_seconds(), 3)))
        limit = plan.max_deviation_s if plan.max_deviation_s is not None else DEC(2)
        ctx.append(
            ctx.reading(
                position,
                step.key,
                0,
                {
                    "meter_time": meter_time.isoformat(),
                    "read_from": read_start.isoformat(),
                    "read_until": read_end.isoformat(),
                    "timing_window_s": str(window),
                },
                deviation_d,
                "s",
            )
        )
        passed = abs(deviation_d) <= limit
        conclude(
            ctx,
            position,
            step.key,
            Measurement(
                value=deviation_d,
                passed=passed,
                rounded=deviation_d,
                lower=-limit,
                upper=limit,
                unit="s",
                details={"timing_window_s": str(window)},
                reason=None if passed else f"meter clock {deviation_d:+} s off after setting",
            ),
            say=f"time setting: {deviation_d:+} s",
        )

    async def one_bus(positions: list[int]) -> None:
        for position in positions:
            await set_and_check(position)

    by_bus: dict[str | None, list[int]] = {}
    for position in meters:
        by_bus.setdefault(ctx.session.positions[position].bus, []).append(position)
    await asyncio.gather(*(one_bus(group) for group in by_bus.values()))
