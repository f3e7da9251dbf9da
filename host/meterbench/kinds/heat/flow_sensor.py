"""The flow-sensor item (sub-assembly method): the heat meters' volume pulses against the
master meter at qi, 0.1qp and qp, on the water bench exactly as a water meter's error, judged
against Ef = a + b·qp/q at the run's measured flow.

The water passes every meter in series at the temperature the regulation names for the
application (the loop's water comes from the bath on the meters' installation side), so both
baths are set to it first. Runs whose measured flow left the point's band are stored invalid
and taken again, as on a water bench.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, cast

from meterbench.kinds.heat.baths import set_baths
from meterbench.kinds.heat.judge import conclude_error, store_error, stored_errors, text
from meterbench.kinds.heat.session import HeatDevices
from meterbench.kinds.water.flow import FlowProbe, FlowRegulator
from meterbench.kinds.water.flying import flying_run
from meterbench.kinds.water.runs import pulse_value_l
from meterbench.plan.heat_model import HeatFlowPoint
from meterbench.regulations.water import water_error as error_of
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import no_result

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep


def regulator(ctx: RunContext, devices: HeatDevices) -> FlowRegulator:
    """The run's flow regulator (kept across points: it learns what each demand gives)."""
    water = devices.water
    if water.regulator is None:
        water.regulator = FlowRegulator(ctx, water.config, water.drive, water.start_valve)
    found: FlowRegulator = water.regulator
    found.ctx = ctx
    return found


async def heat_flow(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(HeatDevices, ctx.session.devices)
    groups: dict[tuple[Decimal, Decimal], list[int]] = {}
    for position in step.positions:
        point: HeatFlowPoint = step.for_position(ctx, position)
        groups.setdefault((point.band_low_l_h, point.band_high_l_h), []).append(position)
    for positions in groups.values():
        await _point(ctx, step, devices, positions)


async def _point(
    ctx: RunContext, step: PlannedStep, devices: HeatDevices, positions: list[int]
) -> None:
    points: dict[int, HeatFlowPoint] = {p: step.for_position(ctx, p) for p in positions}
    readable = []
    for position in positions:
        if pulse_value_l(ctx, position) is None:
            why = "the flow sensor has no volume pulse output for the bench to count"
            no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
        else:
            readable.append(position)
    if not readable:
        return
    first = points[readable[0]]
    water = devices.water
    values = {p: stored_errors(ctx, p, step.key) for p in readable}
    invalid = dict.fromkeys(readable, 0)
    gave_up: dict[int, str] = {}
    flows: dict[int, Fraction] = {}
    nominal = first.water_temperature_c
    temperatures = await set_baths(ctx, devices, nominal, nominal, step.key)
    volume = max(Fraction(str(points[p].volume_l)) for p in readable)
    low, high = float(first.band_low_l_h), float(first.band_high_l_h)
    probe = FlowProbe.for_positions(ctx, water.config, readable)

    def todo() -> list[int]:
        return [
            p
            for p in readable
            if len(values[p]) < points[p].runs
            and invalid[p] < water.config.max_attempts
            and p not in gave_up
        ]

    while pending := todo():
        setting = await regulator(ctx, devices).set_flow(probe, float(first.target_l_h), low, high)
        # gated on each flow sensor's own pulses whatever the bench's start mode: a heat
        # meter's CJ/T 188 register is its heat, not a volume a standing start could read
        outcome = await flying_run(ctx, water, pending, volume, setting, step.key)
        for position in pending:
            problem = outcome.problems.get(position)
            if problem is not None:
                ctx.log(Severity.ERROR, "isolated", problem, position, step.key)
                gave_up[position] = problem
                continue
            result = outcome.results[position]
            error = error_of(result.indicated_l, result.actual_l)
            inside = low <= result.flow_l_h <= high
            raw = {
                **result.raw,
                "indicated_l": text(result.indicated_l),
                "actual_l": text(result.actual_l),
                "flow_l_h": text(result.flow_l_h, 4),
                "band_l_h": [str(first.band_low_l_h), str(first.band_high_l_h)],
                "loop_temperature_c": str(temperatures[1]),
            }
            store_error(ctx, position, step.key, error, raw, inside)
            if not inside:
                invalid[position] += 1
                message = f"flow {float(result.flow_l_h):.3f} L/h outside {low:g}..{high:g} L/h"
                ctx.log(Severity.WARNING, "retry", message + ": run not used", position, step.key)
                continue
            values[position].append(error)
            flows[position] = result.flow_l_h
            ctx.observer.position(position, f"{step.point}: {float(error):+.3f} %")
    for position in readable:
        point = points[position]
        if len(values[position]) < point.runs:
            reason = (
                gave_up.get(position) or f"the flow left its band in {invalid[position]} run(s)"
            )
            no_result(ctx, position, step.key, Outcome.NO_RESULT, reason)
            continue
        flow = flows.get(position)
        limits = point.limits
        facts: dict[str, object] = {
            "flow_l_h": None if flow is None else text(flow, 4),
            "water_temperature_c": str(temperatures[1]),
            "volume_l": text(volume, 3),
            "ef_at_target": str(limits.mpe),
        }
        if flow is not None and point.ef_formula is not None:
            # Ef belongs to the flow the run had, not to the band's middle
            ef = point.ef_formula.at(Decimal(float(flow)).quantize(Decimal("0.0001")))
            limits = limits.model_copy(update={"mpe": ef.normalize()})
            facts["ef_at_flow"] = str(ef.normalize())
        conclude_error(
            ctx, step.key, position, values[position], limits, point.rounding_interval, "Ef", facts
        )


__all__ = ["heat_flow", "regulator"]
