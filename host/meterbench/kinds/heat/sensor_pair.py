"""The temperature-sensor pair item: each meter's supply and return sensors sit in the two
baths; the Δθ the meter reports (CJ/T 188 901F supply and return temperature) is compared
with the Δθ of the reference thermometers, E = (Δθ_meter − Δθ_ref)/Δθ_ref, judged against
Et = a + b·Δθmin/Δθ. No water flows. Each point takes ``heat.pair_readings`` readings of every
meter and the references together and judges their mean."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, cast

from meterbench.kinds.heat.baths import reference_c, set_baths
from meterbench.kinds.heat.complete import read_heat
from meterbench.kinds.heat.judge import conclude_error, store_error, stored_errors, text
from meterbench.kinds.heat.session import HeatDevices
from meterbench.plan.heat_model import DeltaThetaPoint
from meterbench.regulations.heat import relative_error
from meterbench.results import Outcome
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import no_result

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep


async def heat_sensor_pair(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(HeatDevices, ctx.session.devices)
    await devices.water.start_valve.close()
    groups: dict[tuple[Decimal, Decimal], list[int]] = {}
    for position in step.positions:
        point: DeltaThetaPoint = step.for_position(ctx, position)
        groups.setdefault((point.supply_c, point.return_c), []).append(position)
    for (supply_c, return_c), positions in groups.items():
        await _point(ctx, step, devices, positions, supply_c, return_c)


async def _point(
    ctx: RunContext,
    step: PlannedStep,
    devices: HeatDevices,
    positions: list[int],
    supply_c: Decimal,
    return_c: Decimal,
) -> None:
    readable = []
    for position in positions:
        if position in ctx.session.meters:
            readable.append(position)
        else:
            why = "the meter has no CJ/T 188 port to read its temperatures on"
            no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
    if not readable:
        return
    await set_baths(ctx, devices, supply_c, return_c, step.key)
    wanted = devices.config.pair_readings
    values = {p: stored_errors(ctx, p, step.key) for p in readable}
    failed: dict[int, str] = {}
    references: list[tuple[Decimal, Decimal]] = []
    for _ in range(wanted * 2):
        todo = [p for p in readable if len(values[p]) < wanted and p not in failed]
        if not todo:
            break
        t0 = await reference_c(devices)
        data = await read_heat(ctx, todo, "during", step.key)
        t1 = await reference_c(devices)
        ref_supply, ref_return = (t0[0] + t1[0]) / 2, (t0[1] + t1[1]) / 2
        references.append((ref_supply, ref_return))
        ref_dt = Fraction(ref_supply - ref_return)
        for position in todo:
            reading = data.get(position)
            if reading is None:
                failed[position] = "the meter's temperatures could not be read"
                continue
            meter_dt = reading.delta_theta_k
            if meter_dt is None:
                failed[position] = "the meter's 901F reply has no valid temperatures"
                continue
            error = relative_error(meter_dt, abs(ref_dt)) if ref_dt > 0 else None
            if ref_dt < 0:  # cooling: the return is the warmer side
                error = relative_error(-meter_dt, -ref_dt)
            if error is None:
                failed[position] = "the baths have no temperature difference"
                continue
            raw = {
                "reference_supply_c": str(ref_supply),
                "reference_return_c": str(ref_return),
                "reference_delta_theta_k": text(ref_dt, 4),
                "meter_supply_c": str(reading.supply_c),
                "meter_return_c": str(reading.return_c),
                "meter_delta_theta_k": str(meter_dt),
            }
            store_error(ctx, position, step.key, error, raw)
            values[position].append(error)
    for position in readable:
        point: DeltaThetaPoint = step.for_position(ctx, position)
        if len(values[position]) < wanted:
            reason = failed.get(position, "too few temperature readings")
            no_result(ctx, position, step.key, Outcome.NO_RESULT, reason)
            continue
        supply = sum((r[0] for r in references), Decimal(0)) / max(len(references), 1)
        ret = sum((r[1] for r in references), Decimal(0)) / max(len(references), 1)
        facts = {
            "delta_theta_k": str(point.delta_theta_k),
            "supply_c": text(supply, 4),
            "return_c": text(ret, 4),
            "sensor": ctx.meter_type(position).model_dump().get("sensor"),
        }
        conclude_error(
            ctx,
            step.key,
            position,
            values[position],
            point.limits,
            point.rounding_interval,
            "Et",
            facts,
        )


__all__ = ["heat_sensor_pair"]
