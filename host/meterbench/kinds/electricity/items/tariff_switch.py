"""Tariff switching near a period change (时段投切): does the meter change tariff where its day
time-period table says?

The meters' clocks are set so that the tested boundary of each one's period table comes at the
same moment, a little ahead; under load the tariff registers are read at the start and at the
end of a window that closes ``tolerance_s`` before the boundary, and of one that opens
``tolerance_s`` after it. The tariff whose register advanced in a window is the tariff the
meter was in; it must be the table's on each side. Every meter's clock is set back to the
bench's time afterwards, whatever happened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import groups, voltage_only, wiring_of
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import TariffSwitchStep
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result


@dataclass
class Snapshot:
    """Every tariff register of every meter still in the test, with when each meter's read
    began and ended (clock seconds)."""

    values: dict[int, list[Decimal]] = field(default_factory=dict)
    began: dict[int, float] = field(default_factory=dict)
    ended: dict[int, float] = field(default_factory=dict)


async def tariff_switch(ctx: RunContext, step: PlannedStep) -> None:
    readable = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            no_result(ctx, p, step.key, Outcome.NO_RESULT, "the meter cannot be reached: no bus")

    def key(plan: TariffSwitchStep, position: int) -> tuple[Any, ...]:
        return (wiring_of(ctx, position), float(plan.voltage_v), float(plan.current_a), plan.pf)

    for (wiring, voltage, current, pf), positions in groups(ctx, step.only(readable), key).items():
        load = Setpoint.balanced(wiring, voltage, current, pf)
        try:
            await _switch(ctx, step, positions, load)
        finally:
            await apply(ctx, voltage_only(ctx, positions, voltage))
            for position in positions:
                with contextlib.suppress(Exception):
                    await ctx.session.meters[position].set_clock(None)


async def _snapshot(
    ctx: RunContext, step: PlannedStep, positions: list[int], failed: dict[int, str]
) -> Snapshot:
    out = Snapshot()
    for position in positions:
        if position in failed:
            continue
        plan: TariffSwitchStep = step.for_position(ctx, position)
        meter = ctx.session.meters[position]
        out.began[position] = ctx.clock.now()
        try:
            out.values[position] = [
                await meter.read_energy(tariff=t) for t in range(1, plan.tariffs + 1)
            ]
        except Exception as exc:  # noqa: BLE001
            failed[position] = f"tariff registers unreadable: {exc}"
            ctx.log(Severity.ERROR, "timeout", failed[position], position, step.key)
        out.ended[position] = ctx.clock.now()
    return out


def _meter_time(ctx: RunContext) -> dt.datetime:
    return ctx.clock.datetime().astimezone().replace(tzinfo=None)


async def _sleep_until(ctx: RunContext, t: float) -> None:
    if t > ctx.clock.now():
        await ctx.clock.sleep(t - ctx.clock.now())


async def _switch(ctx: RunContext, step: PlannedStep, positions: list[int], load: Setpoint) -> None:
    """Meters are read one after another, so each meter's boundary is put where its own reads
    fall: staggered by its place in a round of reads (measured on a first round)."""
    failed: dict[int, str] = {}
    await apply(ctx, load)
    warm = await _snapshot(ctx, step, positions, failed)
    start = min(warm.began.values(), default=ctx.clock.now())
    offsets = {p: warm.began[p] - start for p in warm.began}
    longest = max((warm.ended[p] - warm.began[p] for p in warm.began), default=0.0)
    plans: dict[int, TariffSwitchStep] = {p: step.for_position(ctx, p) for p in positions}
    window = max(float(p.window_s) for p in plans.values())
    tolerance = max(float(p.tolerance_s) for p in plans.values())
    round_s = ctx.clock.now() - start
    boundary_at = ctx.clock.now() + 1.25 * tolerance + window + 3 * round_s + 10.0
    boundaries: dict[int, float] = {}
    for position, plan in plans.items():
        if position in failed:
            continue
        boundaries[position] = boundary_at + offsets.get(position, 0.0)
        hour, minute = (int(x) for x in plan.boundary.split(":"))
        boundary = _meter_time(ctx).replace(hour=hour, minute=minute, second=0, microsecond=0)
        when = boundary - dt.timedelta(seconds=boundaries[position] - ctx.clock.now())
        try:
            await ctx.session.meters[position].set_clock(when)
        except Exception as exc:  # noqa: BLE001
            failed[position] = f"the meter refused its clock setting: {exc}"
            ctx.log(Severity.ERROR, "refused", failed[position], position, step.key)
    margin = tolerance / 4  # reads do not take exactly as long every round
    first = await _snapshot(ctx, step, positions, failed)
    await _sleep_until(ctx, boundary_at - tolerance - margin - longest * 1.5)
    second = await _snapshot(ctx, step, positions, failed)
    await _sleep_until(ctx, boundary_at + tolerance + margin)
    third = await _snapshot(ctx, step, positions, failed)
    await _sleep_until(ctx, boundary_at + tolerance + window)
    fourth = await _snapshot(ctx, step, positions, failed)
    for position, plan in plans.items():
        if position in failed:
            no_result(ctx, position, step.key, Outcome.ERROR, failed[position])
            continue
        at = boundaries[position]
        timing = {
            "before_window_s": [first.began[position] - at, second.ended[position] - at],
            "after_window_s": [third.began[position] - at, fourth.ended[position] - at],
        }
        before = _advances(first.values[position], second.values[position])
        after = _advances(third.values[position], fourth.values[position])
        _judge(ctx, step, position, plan, before, after, timing)


def _advances(start: list[Decimal], end: list[Decimal]) -> list[Decimal]:
    return [b - a for a, b in zip(start, end, strict=True)]


def _others(advances: list[Decimal], tariff: int) -> list[tuple[int, Decimal]]:
    """The tariffs (1-based) other than ``tariff`` whose registers advanced."""
    return [(i + 1, a) for i, a in enumerate(advances) if a > 0 and i + 1 != tariff]


def _name(plan: TariffSwitchStep, tariff: int | None) -> str:
    if tariff is None:
        return "none"
    if plan.tariff_names and tariff <= len(plan.tariff_names):
        return f"{tariff} ({plan.tariff_names[tariff - 1]})"
    return str(tariff)


def _judge(
    ctx: RunContext,
    step: PlannedStep,
    position: int,
    plan: TariffSwitchStep,
    before: list[Decimal],
    after: list[Decimal],
    timing: dict[str, list[float]],
) -> None:
    wrong_before = _others(before, plan.tariff_before)
    wrong_after = _others(after, plan.tariff_after)
    details = {
        "boundary": plan.boundary,
        "expected": [plan.tariff_before, plan.tariff_after],
        "advances_before_kwh": [str(a) for a in before],
        "advances_after_kwh": [str(a) for a in after],
        "tolerance_s": str(plan.tolerance_s),
        **{k: [round(t, 3) for t in v] for k, v in timing.items()},
    }
    tolerance = float(plan.tolerance_s)
    # the windows must be clear of the tolerance band, and the after window must begin
    # within one more tolerance, or a meter switching that late would pass unseen
    late = (
        timing["before_window_s"][1] > -tolerance
        or not tolerance <= timing["after_window_s"][0] <= 2 * tolerance
    )
    ctx.append(ctx.reading(position, step.key, 0, details))
    quiet = sum(before, Decimal(0)) <= 0 or sum(after, Decimal(0)) <= 0
    if quiet or late:
        why = (
            "the tariff registers could not be read in time around the boundary"
            if late
            else "no tariff register advanced in a window"
        )
        no_result(ctx, position, step.key, Outcome.NO_RESULT, why, details)
        return
    reason = None
    if wrong_before:
        tariff, advance = wrong_before[0]
        reason = (
            f"tariff {_name(plan, tariff)} registered {advance} kWh in the window ending "
            f"{plan.tolerance_s} s before the {plan.boundary} boundary; the period table says "
            f"{_name(plan, plan.tariff_before)}"
        )
    elif wrong_after:
        tariff, advance = wrong_after[0]
        reason = (
            f"tariff {_name(plan, tariff)} still registered {advance} kWh in the window from "
            f"{plan.tolerance_s} s after the {plan.boundary} switch to tariff "
            f"{_name(plan, plan.tariff_after)}"
        )
    elif before[plan.tariff_before - 1] <= 0 or after[plan.tariff_after - 1] <= 0:
        reason = "the period table's tariff did not advance in its window"
    conclude(
        ctx,
        position,
        step.key,
        Measurement(None, reason is None, reason=reason, details=details),
        say=f"tariff switch at {plan.boundary}: {'pass' if reason is None else 'fail'}",
    )
