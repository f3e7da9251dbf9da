"""Setting the source of an electricity bench from an item, once per load point."""

from __future__ import annotations

from meterbench.devices.source import ScpiSource
from meterbench.electrical import Setpoint
from meterbench.runner.context import RunContext

SETPOINT = "setpoint"  # the key of the source's present setpoint in RunContext.settings


def source(ctx: RunContext) -> ScpiSource:
    return ctx.session.devices.source


async def apply(ctx: RunContext, setpoint: Setpoint) -> None:
    """Set the source once and wait until it is stable (SourceError if it never is)."""
    if ctx.settings.get(SETPOINT) == setpoint:
        return
    await source(ctx).apply(setpoint)
    ctx.settings[SETPOINT] = setpoint
    await source(ctx).wait_stable(ctx.wall(ctx.session.devices.settle_timeout_s) + 2.0)


def set_without_waiting(ctx: RunContext, setpoint: Setpoint | None) -> None:
    """Record what an item set on its own (None: unknown, set it again next time)."""
    if setpoint is None:
        ctx.settings.pop(SETPOINT, None)
    else:
        ctx.settings[SETPOINT] = setpoint


__all__ = ["apply", "set_without_waiting", "source"]
