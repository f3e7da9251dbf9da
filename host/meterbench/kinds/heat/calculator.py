"""The calculator item (sub-assembly method): the calculator tester switches every
calculator's inputs to simulated platinum sensors and a pulse source, sets the resistances of
the point's supply and return temperatures (IEC 60751 for the meter's Pt100/Pt500/Pt1000) and
sends the volume as the flow sensor's pulses. The heat the calculator adds to its register
(CJ/T 188 901F, read before and after) is compared with Q = V·ρ·(h(θs) − h(θr)) at the
temperatures the resistances actually set stand for (IAPWS-IF97), judged against
Ec = a + b·Δθmin/Δθ."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, cast

from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.devices.modbus_client import ModbusError
from meterbench.kinds.heat.baths import BathError
from meterbench.kinds.heat.complete import read_heat
from meterbench.kinds.heat.judge import conclude_error, store_error, stored_errors, text
from meterbench.kinds.heat.session import HeatDevices
from meterbench.plan.heat_model import DeltaThetaPoint
from meterbench.regulations.heat import relative_error
from meterbench.regulations.platinum import r0_ohm, temperature_c
from meterbench.regulations.water_properties import reference_heat_kj
from meterbench.results import Outcome
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import no_result

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep

KJ_PER_KWH = 3600


class CalculatorTesterError(BathError):
    """The calculator tester does not answer or does not send its pulses."""


async def heat_calculator(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(HeatDevices, ctx.session.devices)
    groups: dict[tuple[str, Decimal, Decimal, Decimal], list[int]] = {}
    for position in step.positions:
        meter = ctx.meter_type(position)
        point: DeltaThetaPoint = step.for_position(ctx, position)
        why = None
        if devices.calculator is None:
            why = "the bench has no calculator tester ([heat.calculator])"
        elif not isinstance(meter, HeatMeterType) or meter.pulse_value_l is None:
            why = "the calculator's volume input has no pulse value"
        elif position not in ctx.session.meters:
            why = "the meter has no CJ/T 188 port to read its heat register on"
        if why is not None:
            no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
            continue
        assert isinstance(meter, HeatMeterType) and meter.pulse_value_l is not None
        key = (meter.sensor, point.supply_ohm, point.return_ohm, meter.pulse_value_l)
        groups.setdefault(key, []).append(position)
    if not groups:
        return
    await devices.water.start_valve.close()
    try:
        for positions in groups.values():
            await _point(ctx, step, devices, positions)
    finally:
        assert devices.calculator is not None
        try:
            await devices.calculator.connect(False)
        except ModbusError as exc:
            raise CalculatorTesterError(f"calculator tester: {exc}") from exc


async def _point(
    ctx: RunContext, step: PlannedStep, devices: HeatDevices, positions: list[int]
) -> None:
    tester = devices.calculator
    assert tester is not None
    meter = cast(HeatMeterType, ctx.meter_type(positions[0]))
    point: DeltaThetaPoint = step.for_position(ctx, positions[0])
    assert meter.pulse_value_l is not None and point.volume_l is not None
    pulse_l = Fraction(str(meter.pulse_value_l))
    pulses = max(1, math.ceil(Fraction(str(point.volume_l)) / pulse_l))
    hz = tester.info.pulse_hz
    values = {p: stored_errors(ctx, p, step.key) for p in positions}
    failed: dict[int, str] = {}
    # the temperatures the tester's resistances stand for, at its resolution
    resolution = Decimal(str(tester.info.resistance_resolution_ohm))
    supply_ohm = point.supply_ohm.quantize(resolution)
    return_ohm = point.return_ohm.quantize(resolution)
    r0 = r0_ohm(meter.sensor)
    supply_c = temperature_c(float(supply_ohm), r0)
    return_c = temperature_c(float(return_ohm), r0)
    volume_l = pulse_l * pulses
    q_ref = abs(  # cooling meters: the return is the warmer side
        Fraction(
            reference_heat_kj(
                float(volume_l) / 1000,
                supply_c,
                return_c,
                float(meter.pressure_mpa),
                meter.installation,
            )
        )
        / KJ_PER_KWH
    )
    try:
        await tester.connect(True)
        await tester.set_resistances(supply_ohm, return_ohm)
    except ModbusError as exc:
        raise CalculatorTesterError(f"calculator tester: {exc}") from exc
    runs = {p: step.for_position(ctx, p).runs for p in positions}  # the profile's runs
    for _ in range(2 * max(runs.values())):
        todo = [p for p in positions if len(values[p]) < runs[p] and p not in failed]
        if not todo:
            break
        await ctx.clock.sleep(2.0)  # the calculators take up the new temperatures
        before = await read_heat(ctx, todo, "before", step.key)
        try:
            await tester.send_pulses(pulses, hz)
            await ctx.clock.sleep(pulses / hz + 1.0)
            waited = 0.0
            while (left := await tester.pulses_left()) > 0:
                if waited > pulses / hz + 60:
                    raise CalculatorTesterError(
                        f"calculator tester still has {left} pulses to send"
                    )
                await ctx.clock.sleep(1.0)
                waited += 1.0
        except ModbusError as exc:
            raise CalculatorTesterError(f"calculator tester: {exc}") from exc
        await ctx.clock.sleep(2.0)
        after = await read_heat(ctx, todo, "after", step.key)
        for position in todo:
            b, a = before.get(position), after.get(position)
            if b is None or a is None:
                failed[position] = "the heat register could not be read"
                continue
            try:
                indicated = Fraction(a.heat_kwh - b.heat_kwh)
            except ValueError as exc:
                failed[position] = f"heat register: {exc}"
                continue
            error = relative_error(indicated, q_ref)
            raw = {
                "supply_ohm": str(supply_ohm),
                "return_ohm": str(return_ohm),
                "sensor": meter.sensor,
                "supply_c": f"{supply_c:.4f}",
                "return_c": f"{return_c:.4f}",
                "pulses": pulses,
                "pulse_value_l": str(meter.pulse_value_l),
                "volume_l": text(volume_l, 3),
                "reference_heat_kwh": text(q_ref, 9),
                "heat_before": str(b.heat),
                "heat_after": str(a.heat),
                "indicated_kwh": text(indicated, 9),
            }
            store_error(ctx, position, step.key, error, raw)
            values[position].append(error)
    for position in positions:
        planned: DeltaThetaPoint = step.for_position(ctx, position)
        if len(values[position]) < runs[position]:
            reason = failed.get(position, "no calculator reading")
            no_result(ctx, position, step.key, Outcome.NO_RESULT, reason)
            continue
        facts = {
            "delta_theta_k": f"{supply_c - return_c:.4f}",
            "supply_c": f"{supply_c:.4f}",
            "return_c": f"{return_c:.4f}",
            "volume_l": text(volume_l, 3),
            "sensor": meter.sensor,
        }
        conclude_error(
            ctx,
            step.key,
            position,
            values[position],
            planned.limits,
            planned.rounding_interval,
            "Ec",
            facts,
        )


__all__ = ["heat_calculator"]
