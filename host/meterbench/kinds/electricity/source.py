"""Setting the source of an electricity bench from an item, once per load point."""

from __future__ import annotations

from typing import cast

from meterbench.devices.source import ScpiSource
from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.devices import ElectricityDevices
from meterbench.runner.context import RunContext

SETPOINT = "setpoint"  # the key of the source's present setpoint in RunContext.settings


def devices(ctx: RunContext) -> ElectricityDevices:
    """The electricity bench's own devices (the session of an electricity bench has them)."""
    return cast(ElectricityDevices, ctx.session.devices)


def source(ctx: RunContext) -> ScpiSource:
    return devices(ctx).source


async def apply(ctx: RunContext, setpoint: Setpoint) -> None:
    """Set the source once and wait until it is stable (SourceError if it never is)."""
    if ctx.settings.get(SETPOINT) == setpoint:
        return
    await source(ctx).apply(setpoint)
    ctx.settings[SETPOINT] = setpoint
    await source(ctx).wait_stable(ctx.wall(devices(ctx).settle_timeout_s) + 2.0)


def set_without_waiting(ctx: RunContext, setpoint: Setpoint | None) -> None:
    """Record what an item set on its own (None: unknown, set it again next time)."""
    if setpoint is None:
        ctx.settings.pop(SETPOINT, None)
    else:
        ctx.settings[SETPOINT] = setpoint


__all__ = ["apply", "devices", "set_without_waiting", "source"]
