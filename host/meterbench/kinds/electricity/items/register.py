"""The register (走字) test: register advance against the reference energy and the meter's
own pulses."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from fractions import Fraction
from typing import Any

from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import DEC, WINDOW_LIMIT_MS, dec, groups, wiring_of
from meterbench.kinds.electricity.items.register_accumulate import (
    close_accumulation,
    open_accumulation,
)
from meterbench.kinds.electricity.source import apply, set_without_waiting
from meterbench.kinds.electricity.source import source as source_of
from meterbench.plan.model import RegisterStep
from meterbench.regulations.numbers import to_decimal
from meterbench.regulations.register import (
    register_ahead_of_pulses,
    register_error,
    register_vs_pulses_error,
    tariff_combination_ok,
)
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import Outcome, Severity
from meterbench.runner.channel import Channel
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result
from meterbench.runner.recovery import generation, restarted
from meterproto.link import messages as m


async def read_energy(ctx: RunContext, position: int) -> Decimal:
    return await ctx.session.meters[position].read_energy()


async def read_tariffs(ctx: RunContext, step: PlannedStep, position: int) -> list[Decimal]:
    """The tariff registers 1..n of a time-of-use meter (none for a single-tariff meter), read
    with the total so the combination rule can be judged on the same run."""
    plan: RegisterStep = step.for_position(ctx, position)
    if plan.tariffs < 2:
        return []
    meter = ctx.session.meters[position]
    return [await meter.read_energy(tariff=t) for t in range(1, plan.tariffs + 1)]


async def register(ctx: RunContext, step: PlannedStep) -> None:
    """走字: registers read with no load, then one run at the test load while the reference
    standard integrates the energy and each controller counts every meter pulse, then the
    registers read again. Both counts span the whole run, so link and source latencies cancel."""
    meters = [p for p in step.positions if p in ctx.session.meters]
    if step.part == "open":  # registers read before the error points it accumulates over
        await open_accumulation(ctx, step, meters)
        return
    for p in step.positions:
        if p not in ctx.session.meters:
            no_result(ctx, p, step.key, Outcome.NO_RESULT, "the register cannot be read: no bus")
    if step.part == "close":  # what could not be accumulated gets the test's own run
        meters = await close_accumulation(ctx, step, meters)

    def setpoint_key(plan: RegisterStep, position: int) -> tuple[Any, ...]:
        return (wiring_of(ctx, position), float(plan.voltage_v), float(plan.current_a), plan.pf)

    by_setpoint = groups(
        ctx,
        step.only(meters),
        setpoint_key,
    )
    for (wiring, voltage, current, pf), positions in by_setpoint.items():
        idle = Setpoint.balanced(wiring, voltage, 0.0, 1.0)
        load = Setpoint.balanced(wiring, voltage, current, pf)
        for attempt in range(RETAKES + 1):
            positions = await _register_run(
                ctx, step, positions, idle, load, last=attempt == RETAKES
            )
            if not positions:
                break


RETAKES = 2  # a register run lost to a controller restart is run again, at most this often


async def _register_run(
    ctx: RunContext,
    step: PlannedStep,
    positions: list[int],
    idle: Setpoint,
    load: Setpoint,
    last: bool,
) -> list[int]:
    """One register run of a group; returns the positions whose count was lost to a restarted
    controller (to run again), after concluding every other one. On the ``last`` run a lost
    count is concluded as no result."""
    await apply(ctx, idle)  # no load current while registers are read
    # Pulses and reference energy are counted from before the first register read to after
    # the last one, so whatever the meter registers in between (a creeping meter does so
    # even without load) is in both indications.
    generations = {p: generation(ctx, p) for p in positions}
    counting = {p: Channel.of_position(ctx, p) for p in positions}
    for channel in counting.values():
        await channel.start_count(WINDOW_LIMIT_MS, max_events=1)
    source = source_of(ctx)
    await source.start_energy()
    before: dict[int, Decimal] = {}
    tariffs_before: dict[int, list[Decimal]] = {}
    for position in positions:
        try:
            before[position] = await read_energy(ctx, position)
            tariffs_before[position] = await read_tariffs(ctx, step, position)
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"register read before the run: {exc}",
                position,
                step.key,
                ctx.trace(position),
            )
            no_result(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")
    running = [p for p in positions if p in before]
    if running:
        # One run for the group: the largest energy any of the meters' plans asks for.
        energy = max(step.for_position(ctx, p).energy_kwh for p in running)
        run_s = float(energy) * 3.6e6 / max(load.active_power_w, 1e-9)
        set_without_waiting(ctx, None)
        await source.apply(load)
        await ctx.clock.sleep(run_s)
        await source.apply(idle)
        set_without_waiting(ctx, idle)
    after: dict[int, Decimal] = {}
    tariffs_after: dict[int, list[Decimal]] = {}
    for position in running:
        try:
            after[position] = await read_energy(ctx, position)
            tariffs_after[position] = await read_tariffs(ctx, step, position)
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"register read after the run: {exc}",
                position,
                step.key,
                ctx.trace(position),
            )
            no_result(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")
    reference_kwh = await source.stop_energy()
    counts: dict[int, int] = {}
    ended: set[int] = set()

    async def window_end(position: int, channel: Channel) -> None:
        end = await channel.stop_count(m.FN_ALL)
        if end is not None:
            counts[position] = end[0]
            ended.add(position)

    await asyncio.gather(*(window_end(p, c) for p, c in counting.items()))
    again: list[int] = []
    for position in running:
        if position not in after:
            continue
        lost = await restarted(ctx, position, generations[position], step.key)
        if (lost or position not in ended) and not last:
            again.append(position)
            continue
        if position not in ended:
            ctx.log(Severity.ERROR, "timeout", "no end of the pulse count", position, step.key)
        pulses = counts.get(position)
        if not pulses:
            ctx.log(
                Severity.ERROR,
                "isolated",
                "no pulses during the register run",
                position,
                step.key,
            )
            no_result(ctx, position, step.key, Outcome.NO_RESULT, "meter did not pulse")
            continue
        register_result(
            ctx,
            step,
            position,
            before[position],
            after[position],
            pulses,
            reference_kwh,
            [a - b for a, b in zip(tariffs_after[position], tariffs_before[position], strict=True)],
        )
    return again


def register_result(
    ctx: RunContext,
    step: PlannedStep,
    position: int,
    before: Decimal,
    after: Decimal,
    pulses: int | None,
    reference_kwh: Decimal,
    tariff_advances: list[Decimal] | None = None,
    *,
    pulse_advance: Decimal | None = None,
    index: int = 0,
    accumulated: dict[str, str] | None = None,
) -> None:
    """Register advance against the reference energy (the error), against the meter's own
    pulses (a register that runs ahead of its test output is tampered or broken) and, for a
    time-of-use meter, against the sum of its tariff registers' advances. ``pulse_advance``:
    the register's advance over the part of the span the pulses were counted in (all of it
    when None); ``pulses`` None: no part was counted, so no check against them."""
    plan: RegisterStep = step.for_position(ctx, position)
    constant = ctx.meter_type(position).constant_imp_per_kwh  # type: ignore[union-attr]
    advance = after - before
    error = register_error(advance, reference_kwh)
    counted = advance if pulse_advance is None else pulse_advance
    vs_pulses = None if pulses is None else register_vs_pulses_error(counted, pulses, constant)
    ahead = pulses is not None and register_ahead_of_pulses(
        counted, pulses, constant, plan.ahead_tolerance_kwh, 1
    )
    tariffs = tariff_advances or []
    combined = not tariffs or tariff_combination_ok(
        advance,
        tariffs,
        plan.register_resolution_kwh,
        plan.tariff_tolerance_digits_per_extra_tariff,
    )
    ctx.append(
        ctx.reading(
            position,
            step.key,
            index,
            {
                "register_before_kwh": str(before),
                "register_after_kwh": str(after),
                "meter_pulses": pulses,
                "reference_energy_kwh": str(reference_kwh),
                "tariff_advances_kwh": [str(a) for a in tariffs],
                **({"accumulated": accumulated} if accumulated else {}),
            },
            round_to_interval(error, DEC("0.0001")),
            "%",
        )
    )
    rounded = round_to_interval(error, plan.error_rounding)
    within = abs(rounded) <= plan.limits.mpe
    passed = within and not ahead and combined
    reason = None
    if ahead:
        reason = (
            f"register advanced {counted} kWh while the test output gave {pulses} "
            f"pulses = {to_decimal(Fraction(pulses or 0) / Fraction(dec(constant)))} kWh: "
            "the register runs ahead of its pulses"
        )
    elif not within:
        reason = f"register error {rounded} % beyond ±{plan.limits.mpe} %"
    elif not combined:
        reason = (
            f"total register advanced {advance} kWh, its tariff registers "
            f"{sum(tariffs, DEC(0))} kWh"
        )
    conclude(
        ctx,
        position,
        step.key,
        Measurement(
            value=round_to_interval(error, DEC("0.000001")),
            passed=passed,
            rounded=rounded,
            lower=-plan.limits.mpe,
            upper=plan.limits.mpe,
            unit="%",
            reason=reason,
            details={
                "register_advance_kwh": str(advance),
                "reference_energy_kwh": str(reference_kwh),
                "meter_pulses": pulses,
                "vs_pulses_pct": None
                if vs_pulses is None
                else str(round_to_interval(vs_pulses, DEC("0.01"))),
                "ahead_of_pulses": ahead,
                "tariff_advances_kwh": [str(a) for a in tariffs],
                "tariffs_combine": combined,
                **({"accumulated": accumulated} if accumulated else {}),
            },
        ),
        say=f"register: {'pass' if passed else 'fail'}",
    )
