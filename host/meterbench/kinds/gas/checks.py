"""The gas-meter items beside the error: tightness and pressure loss at qmax.

Tightness: the line is pressurised to the test pressure, every position isolated, and each
position's static pressure read at the start and the end of the hold; a meter that leaks
loses pressure at its own position only. Pressure loss: at qmax each position's differential
pressure is read and referred to the profile's air density and to qmax exactly (Δp grows with
ρ·q²), then compared with the limit for the meter's size.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, cast

from meterbench.devices.modbus_client import ModbusError
from meterbench.kinds.gas import registers as r
from meterbench.kinds.gas.runs import GasBenchError, ensure_bell_volume
from meterbench.kinds.gas.session import GasDevices
from meterbench.plan.gas_model import GasPressureLossStep, GasTightnessStep
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import Outcome
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import Measurement, conclude, no_result

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep

AIR_GAS_CONSTANT = Fraction("287.058")  # J/(kg·K), dry air
KELVIN = Fraction("273.15")
REACHED = Fraction(98, 100)  # the hold starts only once the line holds this part of p_test


async def gas_tightness(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(GasDevices, ctx.session.devices)
    positions = list(step.positions)
    model: GasTightnessStep = step.for_position(ctx, positions[0])
    test_pa = model.pressure_kpa * 1000
    if test_pa > Decimal(str(devices.config.max_pressure_kpa)) * 1000:
        reason = (
            f"needs {model.pressure_kpa} kPa; the bench gives {devices.config.max_pressure_kpa}"
        )
        for position in positions:
            no_result(ctx, position, step.key, Outcome.NO_RESULT, reason)
        return
    timing = devices.config.timing
    try:
        await devices.reference.set_pressure(float(test_pa))
        await devices.reference.command(r.CMD_PRESSURISE)
        waited = 0.0
        while not (await devices.reference.read()).pressurised:
            if waited >= timing.pressurise_timeout_s:
                raise GasBenchError(f"the line did not reach {model.pressure_kpa} kPa")
            await ctx.clock.sleep(timing.poll_s)
            waited += timing.poll_s
        # each read takes time on the line: the hold lies between these bounds
        before_start = ctx.clock.now()
        start = await devices.sensors.gauge_pa(positions)
        after_start = ctx.clock.now()
        await ctx.clock.sleep(model.hold_s)
        before_end = ctx.clock.now()
        end = await devices.sensors.gauge_pa(positions)
        after_end = ctx.clock.now()
        await devices.reference.command(r.CMD_VENT)
    except ModbusError as exc:
        raise GasBenchError(f"tightness: {exc}") from exc
    for position in positions:
        drop = Decimal(start[position] - end[position])
        raw = {
            "start_pa": start[position],
            "end_pa": end[position],
            "hold_s": model.hold_s,
            "held_s": [round(before_end - after_start, 1), round(after_end - before_start, 1)],
        }
        ctx.append(ctx.reading(position, step.key, 0, raw, drop, "Pa"))
        reason = f"lost {drop} Pa in {model.hold_s} s"
        if start[position] < test_pa * Decimal(str(float(REACHED))):
            measurement = Measurement(
                drop,
                False,
                drop,
                None,
                model.max_drop_pa,
                "Pa",
                reason=f"held only {start[position]} Pa of {test_pa} Pa",
                details=raw,
            )
        else:
            measurement = Measurement.within(
                drop, lower=None, upper=model.max_drop_pa, unit="Pa", reason=reason, details=raw
            )
        conclude(ctx, position, step.key, measurement)


def _density(pressure_pa: Fraction, temperature_c: Fraction) -> Fraction:
    return pressure_pa / (AIR_GAS_CONSTANT * (temperature_c + KELVIN))


async def gas_pressure_loss(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(GasDevices, ctx.session.devices)
    positions = list(step.positions)
    gas = devices.config
    flows = [cast(GasPressureLossStep, step.for_position(ctx, p)).flow_m3h for p in positions]
    target = float(max(flows)) * 1000
    if target > gas.max_flow_l_h:
        reason = f"needs {target:g} L/h; the bench gives at most {gas.max_flow_l_h:g} L/h"
        for position in positions:
            no_result(ctx, position, step.key, Outcome.NO_RESULT, reason)
        return
    needed = Fraction(target) * Fraction(str(gas.timing.settle_s + 30)) / 3600
    await ensure_bell_volume(ctx, devices, needed)
    try:
        await devices.reference.set_flow(target)
        await devices.reference.command(r.CMD_DELIVER)
        await ctx.clock.sleep(gas.timing.settle_s)
        state = await devices.reference.read()
        line = await devices.sensors.conditions()
        dp = await devices.sensors.differential_pa(positions)
        await devices.reference.stop()
    except ModbusError as exc:
        raise GasBenchError(f"pressure loss: {exc}") from exc
    flow = Fraction(state.flow_l_h)
    if flow <= 0:
        raise GasBenchError("no flow while measuring the pressure loss")
    density = _density(Fraction(line.pressure_pa), Fraction(line.temperature_c))
    for position in positions:
        own: GasPressureLossStep = step.for_position(ctx, position)
        q_nominal = Fraction(own.flow_m3h) * 1000
        factor = (q_nominal / flow) ** 2 * Fraction(own.air_density_kg_m3) / density
        referred = round_to_interval(Fraction(dp[position]) * factor, Decimal("0.1"))
        raw = {
            "measured_pa": str(dp[position]),
            "flow_l_h": f"{float(flow):.1f}",
            "air_density_kg_m3": f"{float(density):.4f}",
            "line_pressure_pa": line.pressure_pa,
            "line_temperature_c": str(line.temperature_c),
        }
        ctx.append(ctx.reading(position, step.key, 0, raw, referred, "Pa"))
        measurement = Measurement.within(
            referred,
            lower=None,
            upper=own.limit_pa,
            unit="Pa",
            reason=f"{referred} Pa above {own.limit_pa} Pa at qmax",
            details={**raw, "referred_pa": str(referred)},
        )
        conclude(ctx, position, step.key, measurement)


__all__ = ["gas_pressure_loss", "gas_tightness"]
