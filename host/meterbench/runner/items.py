"""How each verification item is measured on every position at once, and judged.

Every function here takes the run context and one planned step (the step of every meter type
that has it, and the positions that need it), sets the source once, starts the controllers'
measurement functions on all positions, streams the results into the store as they arrive, and
appends one conclusion per position (both limit kinds in one append, so a step is complete for
a position exactly when its conclusion is stored). A position whose meter stops answering or
pulsing is concluded as ``error``/``no_result`` with an error-log entry; the others go on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from meterbench.devices.electricity_meter import PulseOutput
from meterbench.electrical import Setpoint
from meterbench.plan.model import (
    BasicErrorStep,
    ClockStep,
    CommunicationStep,
    CreepStep,
    ErrorPoint,
    RegisterStep,
    StartingStep,
    StdDevPoint,
    TimeSettingStep,
)
from meterbench.regulations.clock import daily_error, judge_clock
from meterbench.regulations.creep import judge_creep
from meterbench.regulations.numbers import to_decimal
from meterbench.regulations.pulses import error_from_counts
from meterbench.regulations.readings import (
    BorderlineRule,
    Limits,
    judge_point,
    readings_still_needed,
)
from meterbench.regulations.register import (
    register_ahead_of_pulses,
    register_error,
    register_vs_pulses_error,
)
from meterbench.regulations.rounding import round_to_interval
from meterbench.regulations.starting import judge_starting
from meterbench.regulations.std_dev import judge_std_dev
from meterbench.results import LimitKind, Outcome, ReadingStatus, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.recovery import generation, restarted, together
from meterbench.runner.source_watch import source_watch
from meterbench.runner.water import water_error
from meterproto.link import messages as m

DEC = Decimal
MARGIN = 1.5  # budget factor over the physically expected time of a measurement
WINDOW_LIMIT_MS = 7 * 86_400_000  # a pulse count the runner stops itself


@dataclass
class PlannedStep:
    """One step of the run: the same plan step (or load point) for every meter type that has
    it. ``by_type`` maps meter-type id to that type's expanded step or point."""

    key: str
    item: str
    point: str
    ordinal: int
    title: str
    by_type: dict[str, Any]
    positions: list[int] = field(default_factory=list)

    def for_position(self, ctx: RunContext, position: int) -> Any:
        return self.by_type[ctx.meters[position].type_id]


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else to_decimal(value)


def _un(ctx: RunContext, position: int) -> float:
    return float(ctx.meter_type(position).un_v)  # type: ignore[union-attr]


def _wiring(ctx: RunContext, position: int) -> str:
    return ctx.meter_type(position).wiring  # type: ignore[union-attr]


def _voltage_only(ctx: RunContext, positions: list[int], voltage: float | None = None) -> Setpoint:
    p = positions[0]
    return Setpoint.balanced(_wiring(ctx, p), voltage or _un(ctx, p), 0.0, 1.0)


def _groups(ctx: RunContext, step: PlannedStep, key: Any) -> dict[Any, list[int]]:
    """Positions that can be measured under one source setpoint."""
    groups: dict[Any, list[int]] = {}
    for position in step.positions:
        groups.setdefault(key(step.for_position(ctx, position), position), []).append(position)
    return groups


def _limit_conclusions(
    ctx: RunContext,
    position: int,
    step_key: str,
    passed: bool,
    limits: Any,
    *,
    mean: Decimal | None,
    rounded: Decimal | None,
    acceptance_pass: bool | None,
    unit: str,
    details: dict[str, Any],
    reason: str | None = None,
) -> list[Any]:
    out = [
        ctx.conclusion(
            position,
            step_key,
            Outcome.PASS if passed else Outcome.FAIL,
            limit_kind=LimitKind.MPE,
            mean=mean,
            rounded=rounded,
            lower=-limits.mpe,
            upper=limits.mpe,
            unit=unit,
            details=details,
            reason=reason,
        )
    ]
    if getattr(limits, "acceptance", None) is not None:
        out.append(
            ctx.conclusion(
                position,
                step_key,
                Outcome.PASS if acceptance_pass else Outcome.FAIL,
                limit_kind=LimitKind.ACCEPTANCE,
                mean=mean,
                rounded=rounded,
                lower=-limits.acceptance,
                upper=limits.acceptance,
                unit=unit,
                details=details,
            )
        )
    return out


def _failed(
    ctx: RunContext,
    position: int,
    step_key: str,
    outcome: Outcome,
    reason: str,
    details: dict[str, Any] | None = None,
) -> None:
    ctx.append(ctx.conclusion(position, step_key, outcome, reason=reason, details=details or {}))
    ctx.observer.position(position, f"{step_key}: {outcome.value} ({reason})")


# ------------------------------------------------------------------------------------------------
# Communication and time setting (DL/T 645)
# ------------------------------------------------------------------------------------------------


async def communication(ctx: RunContext, step: PlannedStep) -> None:
    meters = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            _failed(ctx, p, step.key, Outcome.NO_RESULT, "the meter has no bus to reach it on")
    if not meters:
        return
    await ctx.apply(_voltage_only(ctx, meters))

    async def check(position: int) -> None:
        client = ctx.session.meters[position]
        plan: CommunicationStep = step.for_position(ctx, position)
        results: dict[str, Any] = {}
        problems: list[str] = []
        wanted = ctx.meters[position].address
        for index, name in enumerate(plan.checks):
            try:
                if name == "read_address":
                    value: Any = await client.read_address()
                    if wanted is not None and value != wanted:
                        problems.append(f"address reads {value}, the meter list says {wanted}")
                elif name == "read_energy":
                    value = str(await client.read_energy())
                elif name == "read_datetime":
                    value = (await client.read_clock()).isoformat()
                else:
                    value = str((await client.read(name)).value)
                results[name] = value
                ctx.append(
                    ctx.reading(position, step.key, index, {"check": name, "value": str(value)})
                )
            except Exception as exc:  # noqa: BLE001 - any failure is this position's result
                problems.append(f"{name}: {exc}")
                ctx.log(
                    Severity.ERROR,
                    "timeout",
                    f"{name} failed: {exc}",
                    position,
                    step.key,
                    ctx.trace(position),
                )
                break
        outcome = Outcome.FAIL if problems else Outcome.PASS
        ctx.append(
            ctx.conclusion(
                position,
                step.key,
                outcome,
                reason="; ".join(problems) or None,
                details={"checks": results},
            )
        )
        ctx.observer.position(position, f"communication: {outcome.value}")

    await asyncio.gather(*(check(p) for p in meters))


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
            _failed(ctx, p, step.key, Outcome.NO_RESULT, "the meter has no bus to reach it on")
    if not meters:
        return
    await ctx.apply(_voltage_only(ctx, meters))

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
            _failed(ctx, position, step.key, Outcome.ERROR, str(exc))
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
        ctx.append(
            ctx.conclusion(
                position,
                step.key,
                Outcome.PASS if passed else Outcome.FAIL,
                mean=deviation_d,
                rounded=deviation_d,
                lower=-limit,
                upper=limit,
                unit="s",
                details={"timing_window_s": str(window)},
                reason=None if passed else f"meter clock {deviation_d:+} s off after setting",
            )
        )
        ctx.observer.position(position, f"time setting: {deviation_d:+} s")

    async def one_bus(positions: list[int]) -> None:
        for position in positions:
            await set_and_check(position)

    by_bus: dict[str | None, list[int]] = {}
    for position in meters:
        by_bus.setdefault(ctx.session.positions[position].bus, []).append(position)
    await asyncio.gather(*(one_bus(group) for group in by_bus.values()))


# ------------------------------------------------------------------------------------------------
# Pulse windows: creep and starting
# ------------------------------------------------------------------------------------------------


async def _window(
    ctx: RunContext,
    position: int,
    duration_s: float,
    max_events: int,
    enough: int | None = None,
) -> tuple[list[int], int, int]:
    """Count the meter's pulses over a window of the shared clock; (stamps µs, count, flags).
    With ``enough``, the window is stopped as soon as that many pulses arrived: the starting
    test needs no more, so the bench does not idle for the rest of t0."""
    router, channel = ctx.router(position)
    router.drain(channel)
    await ctx.request(
        position,
        m.WINDOW_START,
        input=m.INPUT_METER,
        duration_ms=int(duration_s * 1000),
        max_events=max_events,
    )
    stamps: list[int] = []
    budget = duration_s * MARGIN + 60.0
    stopped = False
    while True:
        msg = await ctx.result(position, budget)
        if msg.msg_type == m.WINDOW_PULSE:
            stamps.append(msg["t_us"])
            if enough is not None and len(stamps) >= enough and not stopped:
                stopped = True
                await ctx.request(position, m.STOP, functions=m.FN_WINDOW)
        elif msg.msg_type == m.WINDOW_END:
            return stamps, msg["count"], msg["flags"]


async def creep(ctx: RunContext, step: PlannedStep) -> None:
    for voltage, positions in _groups(ctx, step, lambda s, p: float(s.voltage_v)).items():
        await ctx.apply(_voltage_only(ctx, positions, voltage))

        async def one(position: int, voltage: float = voltage) -> None:
            plan: CreepStep = step.for_position(ctx, position)
            ctx.observer.position(position, f"creep: {plan.duration_s} s at {voltage:g} V")
            try:
                stamps, count, flags = await _window(
                    ctx, position, plan.duration_s, plan.max_pulses + 1
                )
            except TimeoutError:
                ctx.log(Severity.ERROR, "timeout", "no end of the creep window", position, step.key)
                _failed(ctx, position, step.key, Outcome.ERROR, "controller gave no result")
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
            ctx.append(
                ctx.conclusion(
                    position,
                    step.key,
                    Outcome.PASS if passed else Outcome.FAIL,
                    mean=DEC(count),
                    rounded=DEC(count),
                    lower=DEC(0),
                    upper=DEC(plan.max_pulses),
                    unit="pulses",
                    details={"duration_s": plan.duration_s},
                )
            )
            ctx.observer.position(position, f"creep: {count} pulse(s)")

        await asyncio.gather(*(one(p) for p in positions))


async def starting(ctx: RunContext, step: PlannedStep) -> None:
    def setpoint_key(plan: StartingStep, position: int) -> tuple[Any, ...]:
        return (_wiring(ctx, position), float(plan.voltage_v), float(plan.current_a), plan.pf)

    for (wiring, voltage, current, pf), positions in _groups(ctx, step, setpoint_key).items():
        await ctx.apply(Setpoint.balanced(wiring, voltage, current, pf))

        async def one(position: int, current: float = current) -> None:
            plan: StartingStep = step.for_position(ctx, position)
            window = float(plan.window_s)
            ctx.observer.position(position, f"starting: up to {window:.0f} s at {current:g} A")
            try:
                stamps, count, flags = await _window(
                    ctx, position, window, plan.required_pulses + 1, plan.required_pulses
                )
            except TimeoutError:
                ctx.log(
                    Severity.ERROR, "timeout", "no end of the starting window", position, step.key
                )
                _failed(ctx, position, step.key, Outcome.ERROR, "controller gave no result")
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
            ctx.append(
                ctx.conclusion(
                    position,
                    step.key,
                    Outcome.PASS if passed else Outcome.FAIL,
                    mean=first,
                    rounded=first.quantize(DEC("0.1")) if first is not None else None,
                    upper=_d(plan.t0_s).quantize(DEC("0.1")),
                    unit="s",
                    reason=None
                    if passed
                    else "no pulse within t0"
                    if first is None
                    else "first pulse after t0",
                    details={"t0_s": str(plan.t0_s), "pulses": count},
                )
            )
            ctx.observer.position(position, f"starting: {'pass' if passed else 'fail'}")

        await asyncio.gather(*(one(p) for p in positions))


# ------------------------------------------------------------------------------------------------
# Gated error measurement: basic error and standard deviation
# ------------------------------------------------------------------------------------------------


def point_setpoint(point: ErrorPoint, wiring: str) -> Setpoint:
    return Setpoint.balanced(
        wiring,
        float(point.voltage_v),
        float(point.current_a),
        point.pf,
        element="all" if point.element in ("all", "ABC") else point.element,
    )


async def _gated_readings(
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
    reference = ctx.session.reference_constant
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
    settle_limit = float(ctx.session.config.source.settle_timeout_s)
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
        await ctx.stop_functions(position)
        await watch.leave()
    return values, None


def _stored_values(ctx: RunContext, position: int, step_key: str) -> list[Fraction]:
    out = []
    for r in ctx.store.readings(ctx.run_id, step_key=step_key, position=position):
        usable = (ReadingStatus.OK, ReadingStatus.RETRIED, ReadingStatus.MARKED)
        if r.status in usable and r.value is not None:
            out.append(Fraction(r.value))
    return out


async def basic_error(ctx: RunContext, step: PlannedStep) -> None:
    def setpoint_key(point: ErrorPoint, position: int) -> Setpoint:
        return point_setpoint(point, _wiring(ctx, position))

    for setpoint, positions in _groups(ctx, step, setpoint_key).items():
        await ctx.apply(setpoint)

        async def one(position: int) -> None:
            point: ErrorPoint = step.for_position(ctx, position)
            rule = point.readings
            borderline = BorderlineRule(
                rule.borderline_enabled, rule.borderline_low, rule.borderline_high, rule.extra
            )
            mpe = point.limits.mpe

            def wanted(values: list[Fraction]) -> int:
                return readings_still_needed(values, mpe, rule.base, borderline)

            stored = _stored_values(ctx, position, step.key)
            values, problem = await _gated_readings(ctx, position, step.key, point, stored, wanted)
            if problem is not None:
                ctx.log(Severity.ERROR, "isolated", problem, position, step.key)
                _failed(
                    ctx, position, step.key, Outcome.NO_RESULT, problem, {"readings": len(values)}
                )
                return
            limits = Limits(mpe, point.limits.acceptance)
            judged = judge_point(values, limits, point.rounding_interval, rule.judge_on)
            ctx.append(
                *_limit_conclusions(
                    ctx,
                    position,
                    step.key,
                    judged.mpe_pass,
                    limits,
                    mean=round_to_interval(judged.mean, DEC("0.000001")),
                    rounded=judged.rounded,
                    acceptance_pass=judged.acceptance_pass,
                    unit="%",
                    details={
                        "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
                        "display": judged.display,
                        "interval": str(point.rounding_interval),
                        "pulses_per_reading": point.pulses.pulses_per_reading,
                    },
                    reason=None if judged.mpe_pass else f"{judged.display} % beyond ±{mpe} %",
                )
            )
            ctx.observer.position(position, f"{step.point}: {judged.display} %")

        await together(one(p) for p in positions)


async def std_dev(ctx: RunContext, step: PlannedStep) -> None:
    def setpoint_key(sd: StdDevPoint, position: int) -> Setpoint:
        return point_setpoint(sd.point, _wiring(ctx, position))

    for setpoint, positions in _groups(ctx, step, setpoint_key).items():
        await ctx.apply(setpoint)

        async def one(position: int) -> None:
            sd: StdDevPoint = step.for_position(ctx, position)
            stored = _stored_values(ctx, position, step.key)
            values, problem = await _gated_readings(
                ctx,
                position,
                step.key,
                sd.point,
                stored,
                lambda values: max(0, sd.readings - len(values)),
            )
            if problem is not None:
                ctx.log(Severity.ERROR, "isolated", problem, position, step.key)
                _failed(ctx, position, step.key, Outcome.NO_RESULT, problem)
                return
            judged = judge_std_dev(values, sd.limit, sd.std_dev_interval)
            ctx.append(
                ctx.conclusion(
                    position,
                    step.key,
                    Outcome.PASS if judged.passed else Outcome.FAIL,
                    mean=judged.s,
                    rounded=judged.rounded,
                    lower=DEC(0),
                    upper=judged.limit,
                    unit="%",
                    details={
                        "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
                        "display": judged.display,
                    },
                )
            )
            ctx.observer.position(position, f"std dev: {judged.display} %")

        await together(one(p) for p in positions)


# ------------------------------------------------------------------------------------------------
# Register (走字) test
# ------------------------------------------------------------------------------------------------


async def _read_energy(ctx: RunContext, position: int) -> Decimal:
    return await ctx.session.meters[position].read_energy()


async def register(ctx: RunContext, step: PlannedStep) -> None:
    """走字: registers read with no load, then one run at the test load while the reference
    standard integrates the energy and each controller counts every meter pulse, then the
    registers read again. Both counts span the whole run, so link and source latencies cancel."""
    meters = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            _failed(ctx, p, step.key, Outcome.NO_RESULT, "the register cannot be read: no bus")

    def setpoint_key(plan: RegisterStep, position: int) -> tuple[Any, ...]:
        return (_wiring(ctx, position), float(plan.voltage_v), float(plan.current_a), plan.pf)

    groups = _groups(
        ctx,
        PlannedStep(
            step.key, step.item, step.point, step.ordinal, step.title, step.by_type, meters
        ),
        setpoint_key,
    )
    for (wiring, voltage, current, pf), positions in groups.items():
        idle = Setpoint.balanced(wiring, voltage, 0.0, 1.0)
        load = Setpoint.balanced(wiring, voltage, current, pf)
        await ctx.apply(idle)  # no load current while registers are read
        # Pulses and reference energy are counted from before the first register read to after
        # the last one, so whatever the meter registers in between (a creeping meter does so
        # even without load) is in both indications.
        counting = list(positions)
        for position in counting:
            router, channel = ctx.router(position)
            router.drain(channel)
            await ctx.request(
                position,
                m.WINDOW_START,
                input=m.INPUT_METER,
                duration_ms=WINDOW_LIMIT_MS,
                max_events=1,
            )
        source = ctx.session.source
        await source.start_energy()
        before: dict[int, Decimal] = {}
        for position in positions:
            try:
                before[position] = await _read_energy(ctx, position)
            except Exception as exc:  # noqa: BLE001
                ctx.log(
                    Severity.ERROR,
                    "timeout",
                    f"register read before the run: {exc}",
                    position,
                    step.key,
                    ctx.trace(position),
                )
                _failed(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")
        running = [p for p in positions if p in before]
        if running:
            # One run for the group: the largest energy any of the meters' plans asks for.
            energy = max(step.for_position(ctx, p).energy_kwh for p in running)
            run_s = float(energy) * 3.6e6 / max(load.active_power_w, 1e-9)
            ctx.setpoint = None
            await source.apply(load)
            await ctx.clock.sleep(run_s)
            await source.apply(idle)
            ctx.setpoint = idle
        after: dict[int, Decimal] = {}
        for position in running:
            try:
                after[position] = await _read_energy(ctx, position)
            except Exception as exc:  # noqa: BLE001
                ctx.log(
                    Severity.ERROR,
                    "timeout",
                    f"register read after the run: {exc}",
                    position,
                    step.key,
                    ctx.trace(position),
                )
                _failed(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")
        reference_kwh = await source.stop_energy()
        counts: dict[int, int] = {}

        async def window_end(position: int, counts: dict[int, int] = counts) -> None:
            await ctx.stop_functions(position)
            try:
                while True:
                    msg = await ctx.result(position, 120.0)
                    if msg.msg_type == m.WINDOW_END:
                        counts[position] = msg["count"]
                        return
            except TimeoutError:
                ctx.log(Severity.ERROR, "timeout", "no end of the pulse count", position, step.key)

        await asyncio.gather(*(window_end(p) for p in counting))
        for position in running:
            if position not in after:
                continue
            pulses = counts.get(position)
            if not pulses:
                ctx.log(
                    Severity.ERROR,
                    "isolated",
                    "no pulses during the register run",
                    position,
                    step.key,
                )
                _failed(ctx, position, step.key, Outcome.NO_RESULT, "meter did not pulse")
                continue
            _register_result(
                ctx, step, position, before[position], after[position], pulses, reference_kwh
            )


def _register_result(
    ctx: RunContext,
    step: PlannedStep,
    position: int,
    before: Decimal,
    after: Decimal,
    pulses: int,
    reference_kwh: Decimal,
) -> None:
    """Register advance against the reference energy (the error) and against the meter's own
    pulses (a register that runs ahead of its test output is tampered or broken)."""
    plan: RegisterStep = step.for_position(ctx, position)
    constant = ctx.meter_type(position).constant_imp_per_kwh  # type: ignore[union-attr]
    advance = after - before
    error = register_error(advance, reference_kwh)
    vs_pulses = register_vs_pulses_error(advance, pulses, constant)
    ahead = register_ahead_of_pulses(advance, pulses, constant, plan.ahead_tolerance_kwh, 1)
    ctx.append(
        ctx.reading(
            position,
            step.key,
            0,
            {
                "register_before_kwh": str(before),
                "register_after_kwh": str(after),
                "meter_pulses": pulses,
                "reference_energy_kwh": str(reference_kwh),
            },
            round_to_interval(error, DEC("0.0001")),
            "%",
        )
    )
    rounded = round_to_interval(error, plan.error_rounding)
    within = abs(rounded) <= plan.limits.mpe
    passed = within and not ahead
    reason = None
    if ahead:
        reason = (
            f"register advanced {advance} kWh while the test output gave {pulses} "
            f"pulses = {to_decimal(Fraction(pulses) / Fraction(_d(constant)))} kWh: "
            "the register runs ahead of its pulses"
        )
    elif not within:
        reason = f"register error {rounded} % beyond ±{plan.limits.mpe} %"
    ctx.append(
        ctx.conclusion(
            position,
            step.key,
            Outcome.PASS if passed else Outcome.FAIL,
            mean=round_to_interval(error, DEC("0.000001")),
            rounded=rounded,
            lower=-plan.limits.mpe,
            upper=plan.limits.mpe,
            unit="%",
            reason=reason,
            details={
                "register_advance_kwh": str(advance),
                "reference_energy_kwh": str(reference_kwh),
                "meter_pulses": pulses,
                "vs_pulses_pct": str(round_to_interval(vs_pulses, DEC("0.01"))),
                "ahead_of_pulses": ahead,
            },
        )
    )
    ctx.observer.position(position, f"register: {'pass' if passed else 'fail'}")


# ------------------------------------------------------------------------------------------------
# Clock daily error
# ------------------------------------------------------------------------------------------------


async def clock(ctx: RunContext, step: PlannedStep) -> None:
    positions = step.positions
    await ctx.apply(_voltage_only(ctx, positions))
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
        router.drain(channel)
        await ctx.request(
            position, m.PERIOD_START, cycles=plan.gate_pulses, readings=plan.readings, skip=1
        )
        values: list[Fraction] = []
        try:
            while len(values) < plan.readings:
                try:
                    msg = await ctx.result(position, float(plan.gate_s) * 2 * MARGIN + 30.0)
                except TimeoutError:
                    ctx.log(Severity.ERROR, "isolated", "no second pulses", position, step.key)
                    _failed(
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
            await ctx.stop_functions(position)
        judged = judge_clock(values, plan.limit_s_per_day, plan.rounding_s_per_day)
        ctx.append(
            ctx.conclusion(
                position,
                step.key,
                Outcome.PASS if judged.passed else Outcome.FAIL,
                mean=round_to_interval(judged.mean, DEC("0.000001")),
                rounded=judged.rounded,
                lower=-judged.limit,
                upper=judged.limit,
                unit="s/d",
                reason=None if judged.passed else f"daily error {judged.display} s/d",
                details={
                    "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
                    "failing_readings": list(judged.failing_readings),
                },
            )
        )
        ctx.observer.position(position, f"clock: {judged.display} s/d")

    await asyncio.gather(*(one(p) for p in positions))


EXECUTORS = {
    "communication": communication,
    "time_setting": time_setting,
    "creep": creep,
    "starting": starting,
    "basic_error": basic_error,
    "std_dev": std_dev,
    "register": register,
    "clock": clock,
    "water_error": water_error,
}

STEP_TYPES = (BasicErrorStep,)
