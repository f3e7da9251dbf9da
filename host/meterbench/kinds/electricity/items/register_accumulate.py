"""The register test on the energy of the forward error points, topped up where it falls short.

The schedule splits an accumulating register step around a block of forward error points.
``open_accumulation`` reads every register at no load and notes where the reference
standard's run accumulator (REF:ACC, forward energy) stands; the points then run as usual,
the meters registering their energy and that of every ramp and settling between them, all of
which the accumulator counts too. ``close_accumulation`` reads the registers at no load again
after topping up, at the register load, whatever energy the points did not deliver, and
judges the advance against the accumulator's forward energy over the whole span with the same
rules as the register test's own run. The meter's pulses are counted over the top-up only (the
error points use its pulse input), so the check against its own pulses covers that part.

Only the accumulator is trusted for the reference energy: an opening from an earlier process
(a resume landed inside the span, or the driver restarted) or a source that cannot
accumulate leaves the position to the register test's own run, with an event saying why.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from meterbench.devices.source import SourceError
from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import WINDOW_LIMIT_MS, groups, wiring_of
from meterbench.kinds.electricity.source import apply, set_without_waiting
from meterbench.kinds.electricity.source import source as source_of
from meterbench.plan.model import RegisterStep
from meterbench.results import Outcome, Severity
from meterbench.runner.channel import Channel
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import no_result
from meterbench.runner.recovery import generation, restarted
from meterproto.link import messages as m

OPEN_INDEX = 0  # the opening reading of a position
RESULT_INDEX = 1  # the register reading the verdict comes from (after the opening)


def opening(ctx: RunContext, step: PlannedStep, position: int) -> dict[str, Any] | None:
    """The stored opening of this register step for ``position`` (any process), or None."""
    stored = ctx.store.readings(ctx.run_id, step_key=step.key, position=position)
    found = [r for r in stored if r.index == OPEN_INDEX and r.raw.get("part") == "open"]
    return dict(found[-1].raw) if found else None


async def _read(ctx: RunContext, step: PlannedStep, position: int) -> tuple[Decimal, list[Decimal]]:
    """Total register and, for a time-of-use meter, its tariff registers."""
    meter = ctx.session.meters[position]
    plan: RegisterStep = step.for_position(ctx, position)
    total = await meter.read_energy()
    tariffs = (
        [await meter.read_energy(tariff=t) for t in range(1, plan.tariffs + 1)]
        if plan.tariffs >= 2
        else []
    )
    return total, tariffs


def _idle(ctx: RunContext, step: PlannedStep, position: int) -> Setpoint:
    plan: RegisterStep = step.for_position(ctx, position)
    return Setpoint.balanced(wiring_of(ctx, position), float(plan.voltage_v), 0.0, 1.0)


def _unreadable(
    ctx: RunContext, step: PlannedStep, position: int, when: str, exc: Exception
) -> None:
    ctx.log(
        Severity.ERROR,
        "timeout",
        f"register read {when}: {exc}",
        position,
        step.key,
        ctx.trace(position),
    )
    no_result(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")


async def open_accumulation(ctx: RunContext, step: PlannedStep, positions: list[int]) -> None:
    """Registers read at no load and the accumulator's forward energy noted, per position. A
    position opened by an earlier process stays as it is (its close falls back)."""
    fresh = [p for p in positions if opening(ctx, step, p) is None]
    if not fresh:
        return
    await apply(ctx, _idle(ctx, step, fresh[0]))
    source = source_of(ctx)
    try:
        if source.accumulation_id is None:
            await source.start_accumulation()
        at_open = await source.accumulated()
    except SourceError as exc:
        ctx.log(
            Severity.WARNING,
            "register_accumulation",
            f"the reference standard cannot accumulate energy across the error points ({exc}); "
            "the register test runs on its own",
            None,
            step.key,
        )
        return
    for position in fresh:
        try:
            total, tariffs = await _read(ctx, step, position)
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.WARNING,
                "timeout",
                f"register read before the error points: {exc}; the register test runs on its own",
                position,
                step.key,
                ctx.trace(position),
            )
            continue
        raw = {
            "part": "open",
            "register_kwh": str(total),
            "tariffs_kwh": [str(t) for t in tariffs],
            "accumulation": source.accumulation_id,
            "reference_forward_kwh": str(at_open.forward_kwh),
        }
        ctx.append(ctx.reading(position, step.key, OPEN_INDEX, raw, total, "kWh"))


async def close_accumulation(ctx: RunContext, step: PlannedStep, positions: list[int]) -> list[int]:
    """Judge every position whose opening belongs to the running accumulation; return the
    others, for the register test's own run."""
    source = source_of(ctx)
    openings: dict[int, dict[str, Any]] = {}
    own_run: list[int] = []
    for position in positions:
        raw = opening(ctx, step, position)
        running = source.accumulation_id
        if raw is not None and running is not None and raw["accumulation"] == running:
            openings[position] = raw
            continue
        own_run.append(position)
        why = (
            "the run was resumed inside the span the register energy was accumulated over"
            if raw is not None
            else "no register reading before the error points"
        )
        ctx.log(
            Severity.WARNING,
            "register_accumulation",
            f"{why}: the register test runs on its own",
            position,
            step.key,
        )
    if not openings:
        return own_run

    def setpoint_key(plan: RegisterStep, position: int) -> tuple[Any, ...]:
        return (wiring_of(ctx, position), float(plan.voltage_v), float(plan.current_a), plan.pf)

    for (wiring, voltage, current, pf), members in groups(
        ctx, step.only(list(openings)), setpoint_key
    ).items():
        idle = Setpoint.balanced(wiring, voltage, 0.0, 1.0)
        load = Setpoint.balanced(wiring, voltage, current, pf)
        await _close_group(ctx, step, {p: openings[p] for p in members}, idle, load)
    return own_run


async def _close_group(
    ctx: RunContext,
    step: PlannedStep,
    openings: dict[int, dict[str, Any]],
    idle: Setpoint,
    load: Setpoint,
) -> None:
    from meterbench.kinds.electricity.items.register import register_result

    source = source_of(ctx)
    await apply(ctx, idle)
    now = await source.accumulated()
    missing = max(
        step.for_position(ctx, p).energy_kwh
        - (now.forward_kwh - Decimal(raw["reference_forward_kwh"]))
        for p, raw in openings.items()
    )
    positions = list(openings)
    topup = missing > 0
    generations = {p: generation(ctx, p) for p in positions}
    counting = {p: Channel.of_position(ctx, p) for p in positions} if topup else {}
    for channel in counting.values():
        await channel.start_count(WINDOW_LIMIT_MS, max_events=1)
    middle: dict[int, Decimal] = {}
    if topup:
        for position in positions:
            try:
                middle[position] = (await _read(ctx, step, position))[0]
            except Exception as exc:  # noqa: BLE001
                _unreadable(ctx, step, position, "before the top-up", exc)
        run_s = float(missing) * 3.6e6 / max(load.active_power_w, 1e-9)
        set_without_waiting(ctx, None)
        await source.apply(load)
        await ctx.clock.sleep(run_s)
        await source.apply(idle)
        set_without_waiting(ctx, idle)
    ends: dict[int, tuple[Decimal, list[Decimal]]] = {}
    for position in positions:
        if topup and position not in middle:
            continue
        try:
            ends[position] = await _read(ctx, step, position)
        except Exception as exc:  # noqa: BLE001
            _unreadable(ctx, step, position, "after the error points", exc)
    total = await source.accumulated()
    counts: dict[int, int] = {}

    async def window_end(position: int, channel: Channel) -> None:
        end = await channel.stop_count(m.FN_ALL)
        if end is not None:
            counts[position] = end[0]

    await asyncio.gather(*(window_end(p, c) for p, c in counting.items()))
    for position, (after, tariffs_after) in ends.items():
        raw = openings[position]
        opened = Decimal(raw["reference_forward_kwh"])
        reference = total.forward_kwh - opened
        pulses: int | None = None
        if topup:
            lost = await restarted(ctx, position, generations[position], step.key)
            pulses = None if lost else counts.get(position)
            if not pulses:
                why = (
                    "the pulse count of the top-up was lost to a controller restart"
                    if lost
                    else "no pulses during the top-up"
                )
                ctx.log(Severity.ERROR, "isolated", why, position, step.key)
                no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
                continue
        before = Decimal(raw["register_kwh"])
        tariffs_before = [Decimal(t) for t in raw["tariffs_kwh"]]
        register_result(
            ctx,
            step,
            position,
            before,
            after,
            pulses,
            reference,
            [a - b for a, b in zip(tariffs_after, tariffs_before, strict=True)],
            pulse_advance=(after - middle[position]) if topup else None,
            index=RESULT_INDEX,
            accumulated={
                "error_points_kwh": str(now.forward_kwh - opened),
                "topup_kwh": str(total.forward_kwh - now.forward_kwh),
            },
        )


__all__ = ["close_accumulation", "open_accumulation", "opening"]
