"""Whole-run register check: every meter's registers read first and last in the run, their
advance per direction judged against the reference energy of that direction over the run.

The register test compares the register at one load only; a register built to run fast only
at small currents, only at one power factor or only in reverse passes it. Here the reference
standard's accumulator counts every kWh the run delivers, in each direction, whatever the
items in between do, so any such register shows in the advance over the whole run (in
proportion to the run's energy where it cheats).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from meterbench.devices.electricity_meter import EnergyRegister
from meterbench.kinds.electricity.items.common import DEC, groups, voltage_only, wiring_of
from meterbench.kinds.electricity.source import apply
from meterbench.kinds.electricity.source import source as source_of
from meterbench.plan.model import RegisterSpanStep
from meterbench.regulations.register import SpanJudgement, register_span_judgement
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result

REGISTERS = {"P+": EnergyRegister.ACTIVE_IMPORT, "P-": EnergyRegister.ACTIVE_EXPORT}
NAMES = {"P+": "forward", "P-": "reverse"}


async def register_span(ctx: RunContext, step: PlannedStep) -> None:
    readable = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            no_result(ctx, p, step.key, Outcome.NO_RESULT, "the registers cannot be read: no bus")
    if not readable:
        return
    first: RegisterSpanStep = step.for_position(ctx, readable[0])
    if first.part == "start":
        await _start(ctx, step, readable)
    else:
        await _end(ctx, step, readable)


async def _idle(ctx: RunContext, step: PlannedStep, positions: list[int]) -> None:
    """Voltage only while the registers are read (no energy flows between the reads)."""

    def key(plan: RegisterSpanStep, position: int) -> tuple[str, float]:
        return wiring_of(ctx, position), float(plan.voltage_v)

    for (_, voltage), members in groups(ctx, step.only(positions), key).items():
        await apply(ctx, voltage_only(ctx, members, voltage))
        return  # one idle setpoint: every meter is in the same circuit


async def _read(ctx: RunContext, position: int, directions: list[str]) -> dict[str, Decimal]:
    meter = ctx.session.meters[position]
    return {d: await meter.read_energy(REGISTERS[d]) for d in directions}


async def _start(ctx: RunContext, step: PlannedStep, positions: list[int]) -> None:
    """Accumulator started, then every register read (so nothing delivered after a read is
    missed by the reference)."""
    await _idle(ctx, step, positions)
    source = source_of(ctx)
    await source.start_accumulation()
    for position in positions:
        plan: RegisterSpanStep = step.for_position(ctx, position)
        try:
            values = await _read(ctx, position, plan.directions)
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"register read at the start of the run: {exc}",
                position,
                step.key,
                ctx.trace(position),
            )
            no_result(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")
            continue
        raw = {
            **{f"{NAMES[d]}_kwh": str(v) for d, v in values.items()},
            "accumulation": source.accumulation_id,
        }
        ctx.append(ctx.reading(position, step.key, 0, raw, values["P+"], "kWh"))
        conclude(
            ctx,
            position,
            step.key,
            Measurement(values["P+"], True, unit="kWh", details=raw),
            say=f"registers at the start: {values['P+']} kWh",
        )


def _start_reading(ctx: RunContext, plan: RegisterSpanStep, position: int) -> dict[str, Any]:
    stored = ctx.store.readings(ctx.run_id, step_key=f"{plan.id}/start", position=position)
    return dict(stored[-1].raw) if stored else {}


async def _end(ctx: RunContext, step: PlannedStep, positions: list[int]) -> None:
    await _idle(ctx, step, positions)
    source = source_of(ctx)
    accumulation = source.accumulation_id
    ends: dict[int, dict[str, Decimal]] = {}
    for position in positions:
        plan: RegisterSpanStep = step.for_position(ctx, position)
        try:
            ends[position] = await _read(ctx, position, plan.directions)
        except Exception as exc:  # noqa: BLE001
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"register read at the end of the run: {exc}",
                position,
                step.key,
                ctx.trace(position),
            )
            no_result(ctx, position, step.key, Outcome.ERROR, f"register unreadable: {exc}")
    if not ends:
        return
    energy = await source.accumulated() if accumulation is not None else None
    for position, end in ends.items():
        plan = step.for_position(ctx, position)
        start = _start_reading(ctx, plan, position)
        if energy is None or start.get("accumulation") != accumulation:
            why = (
                "the run was resumed after its start reading: the reference energy since then "
                "is not known"
                if start
                else "no register reading from the start of the run"
            )
            no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
            continue
        judgements: dict[str, SpanJudgement] = {}
        details: dict[str, Any] = {"reference_load": plan.reference_load}
        for direction in plan.directions:
            name = NAMES[direction]
            advance = end[direction] - Decimal(start[f"{name}_kwh"])
            reference = energy.of(direction)
            judged = register_span_judgement(
                advance,
                reference,
                plan.limits.mpe,
                plan.register_resolution_kwh,
                plan.reading_digits,
                plan.max_digit_share,
                plan.error_rounding,
            )
            judgements[direction] = judged
            details[name] = {
                "register_start_kwh": start[f"{name}_kwh"],
                "register_end_kwh": str(end[direction]),
                "register_advance_kwh": str(advance),
                "reference_energy_kwh": _kwh(reference),
                "error_pct": None if judged.rounded is None else str(judged.rounded),
                "limit_pct": str(round_to_interval(judged.limit_pct, DEC("0.0001"))),
                "judged": judged.judged,
            }
        if "P-" not in plan.directions and energy.reverse_kwh > 0:
            details["reverse_energy_not_judged_kwh"] = str(energy.reverse_kwh)
        ctx.append(ctx.reading(position, step.key, 0, details))
        _conclude(ctx, step, position, plan, judgements, details)


def _kwh(value: Decimal) -> str:
    """Energy as the record shows it: to the reference's 1e-9 kWh, without exponent."""
    return f"{value.quantize(DEC('0.000000001')).normalize():f}"


def _reason(direction: str, judged: SpanJudgement, detail: dict[str, Any]) -> str:
    name = NAMES[direction]
    if judged.error_pct is None:
        return (
            f"{name} register advanced {detail['register_advance_kwh']} kWh over the run "
            f"while no {name} energy flowed"
        )
    return (
        f"{name} register advanced {detail['register_advance_kwh']} kWh over the whole run, "
        f"the reference delivered {detail['reference_energy_kwh']} kWh: {judged.rounded} % "
        f"beyond ±{detail['limit_pct']} %"
    )


def _conclude(
    ctx: RunContext,
    step: PlannedStep,
    position: int,
    plan: RegisterSpanStep,
    judgements: dict[str, SpanJudgement],
    details: dict[str, Any],
) -> None:
    failed = [d for d, j in judgements.items() if not j.passed]
    judged = [d for d, j in judgements.items() if j.judged and j.error_pct is not None]
    if not failed and not judged:
        energies = ", ".join(
            f"{details[NAMES[d]]['reference_energy_kwh']} kWh {NAMES[d]}" for d in judgements
        )
        no_result(
            ctx,
            position,
            step.key,
            Outcome.NO_RESULT,
            f"too little energy over the run ({energies}) for a register digit of "
            f"{plan.register_resolution_kwh} kWh",
            details,
        )
        return
    shown = failed[0] if failed else judged[0]
    result = judgements[shown]
    limit = round_to_interval(result.limit_pct, DEC("0.0001"))
    value = (
        None if result.error_pct is None else round_to_interval(result.error_pct, DEC("0.000001"))
    )
    reason = _reason(shown, result, details[NAMES[shown]]) if failed else None
    conclude(
        ctx,
        position,
        step.key,
        Measurement(
            value,
            not failed,
            result.rounded,
            -limit,
            limit,
            "%",
            reason=reason,
            details={**details, "direction": shown},
        ),
        say=f"whole-run register: {'pass' if not failed else 'fail'}",
    )
