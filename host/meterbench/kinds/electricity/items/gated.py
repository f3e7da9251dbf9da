"""Gated error readings: the controllers count the reference against N meter pulses, the host
computes every error, marks readings the source was unstable for, and restarts a reading a
controller restart lost."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.items.common import DEC, MARGIN
from meterbench.kinds.electricity.source import devices
from meterbench.kinds.electricity.source_watch import source_watch
from meterbench.plan.model import ErrorPoint
from meterbench.regulations.pulses import error_from_counts
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import ReadingStatus, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.recovery import generation, restarted
from meterproto.link import messages as m


def point_setpoint(point: ErrorPoint, wiring: str) -> Setpoint:
    """The source setpoint of a load point, in the point's energy direction (P- points are
    measured on reverse energy, not labelled P- on forward energy)."""
    return Setpoint.balanced(
        wiring,
        float(point.voltage_v),
        float(point.current_a),
        point.pf,
        element="all" if point.element in ("all", "ABC") else point.element,
        direction="P-" if point.direction == "P-" else "P+",
    )


async def gated_readings(
    ctx: RunContext,
    position: int,
    step_key: str,
    point: ErrorPoint,
    stored: list[Fraction],
    wanted: Any,
    unit: str = "%",
) -> tuple[list[Fraction], str | None]:
    """Take readings until ``wanted(values)`` says 0 more are needed; every reading is
    appended as it arrives. Returns the values and a problem text (None when complete)."""
    meter_type = ctx.meter_type(position)
    constant = meter_type.constant_imp_per_kwh  # type: ignore[union-attr]
    reference = devices(ctx).reference_constant
    bench = ctx.session.config.standard
    pulses = point.pulses.pulses_per_reading
    values = list(stored)
    index = ctx.store.next_reading_index(ctx.run_id, position, step_key)
    if wanted(values) == 0:
        return values, None
    router, channel = ctx.router(position)
    router.drain(channel)
    since = generation(ctx, position)
    await ctx.request(position, m.ERR_START, pulses=pulses, readings=0, skip=0)
    gate_from = ctx.clock.now()
    retried = False  # the reading in flight was lost in a controller restart
    watch = await source_watch(ctx).join()
    settle_limit = float(devices(ctx).settle_timeout_s)
    reading_s = float(point.pulses.reading_time_s) or 1.0
    budget = reading_s * 2 * MARGIN + 30.0
    try:
        while wanted(values) > 0:
            try:
                msg = await ctx.result(position, budget)
            except TimeoutError:
                if await restarted(ctx, position, since, step_key):
                    since, retried = generation(ctx, position), True
                    await ctx.request(position, m.ERR_START, pulses=pulses, readings=0, skip=0)
                    gate_from = ctx.clock.now()
                    continue
                return values, "no reading arrived (meter not pulsing?)"
            if msg.msg_type != m.ERR_READING:
                continue
            raw = {k: msg[k] for k in ("pulses", "ref_count", "gate_ticks", "index", "flags")}
            gate_to = ctx.clock.now()
            unstable = await watch.unstable_between(gate_from, gate_to)
            gate_from = gate_to
            if unstable:
                invalid = ReadingStatus.INVALID
                ctx.append(
                    ctx.reading(
                        position, step_key, index, raw, None, unit, attempt=0, status=invalid
                    )
                )
                ctx.log(
                    Severity.WARNING,
                    "source_unstable",
                    f"reading {index} was taken while {watch.problem}; taken again",
                    position,
                    step_key,
                )
                index += 1
                watch.check_endurance(gate_to, settle_limit)
                continue
            if msg["flags"] & m.RF_OVERRUN or msg["ref_count"] <= 0:
                ctx.append(
                    ctx.reading(
                        position,
                        step_key,
                        index,
                        raw,
                        None,
                        unit,
                        attempt=0,
                        status=ReadingStatus.INVALID,
                    )
                )
                ctx.log(
                    Severity.WARNING,
                    "retry",
                    "reading lost pulses; taken again",
                    position,
                    step_key,
                )
                index += 1
                continue
            error = error_from_counts(
                msg["ref_count"], msg["pulses"], constant, reference, bench.ct_ratio, bench.vt_ratio
            )
            values.append(error)
            ctx.append(
                ctx.reading(
                    position,
                    step_key,
                    index,
                    raw,
                    round_to_interval(error, DEC("0.0001")),
                    unit,
                    attempt=0,  # a gated point keeps its readings across a resume
                    status=ReadingStatus.RETRIED if retried else None,
                )
            )
            retried = False
            ctx.observer.position(
                position, f"{step_key}: reading {len(values)} {float(error):+.4f} %"
            )
            index += 1
    finally:
        # everything on the channel but a clock test that may run alongside (its period)
        await ctx.stop_functions(position, m.FN_ALL & ~m.FN_PERIOD)
        await watch.leave()
    return values, None


def stored_values(ctx: RunContext, position: int, step_key: str) -> list[Fraction]:
    out = []
    for r in ctx.store.readings(ctx.run_id, step_key=step_key, position=position):
        usable = (ReadingStatus.OK, ReadingStatus.RETRIED, ReadingStatus.MARKED)
        if r.status in usable and r.value is not None:
            out.append(Fraction(r.value))
    return out
