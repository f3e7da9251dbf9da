"""Bringing the supply and return baths to a point's temperatures and waiting until the
reference thermometers say they are there and steady.

Why the reference thermometers and not the baths' own read-outs: the reference heat and the
pair's reference Δθ are computed from them, so they are what must be settled."""

from __future__ import annotations

from decimal import Decimal

from meterbench.devices.modbus_client import ModbusError
from meterbench.kinds.heat.session import HeatDevices
from meterbench.kinds.water.flow import WaterBenchError
from meterbench.results import Severity
from meterbench.runner.context import RunContext


class BathError(WaterBenchError):
    """A bath does not reach or hold its temperature, or a bath device does not answer."""


async def reference_c(devices: HeatDevices) -> tuple[Decimal, Decimal]:
    try:
        return await devices.reference_c()
    except ModbusError as exc:
        raise BathError(f"reference thermometer: {exc}") from exc


async def set_baths(
    ctx: RunContext, devices: HeatDevices, supply_c: Decimal, return_c: Decimal, step_key: str
) -> tuple[Decimal, Decimal]:
    """Setpoints written (when they change), then readings ``interval_s`` apart until
    ``readings`` of them in a row lie within ``band_c`` of the setpoints; returns the last
    (supply, return) reference temperatures."""
    rule = devices.config.stability
    band = Decimal(str(rule.band_c))
    if devices.bath_setpoints != (supply_c, return_c):
        try:
            await devices.supply_bath.set_c(supply_c)
            await devices.return_bath.set_c(return_c)
        except ModbusError as exc:
            raise BathError(f"bath setpoint: {exc}") from exc
        devices.bath_setpoints = (supply_c, return_c)
        ctx.log(
            Severity.INFO,
            "conditions",
            f"baths set to {supply_c} °C (supply) and {return_c} °C (return)",
            step_key=step_key,
        )
    in_row = 0
    waited = 0.0
    while True:
        supply, ret = await reference_c(devices)
        settled = abs(supply - supply_c) <= band and abs(ret - return_c) <= band
        in_row = in_row + 1 if settled else 0
        if in_row >= rule.readings:
            return supply, ret
        if waited >= rule.max_wait_s:
            raise BathError(
                f"the baths did not settle at {supply_c}/{return_c} °C within "
                f"{rule.max_wait_s:g} s (reference reads {supply}/{ret} °C)"
            )
        await ctx.clock.sleep(rule.interval_s)
        waited += rule.interval_s


__all__ = ["BathError", "reference_c", "set_baths"]
