"""What a measurement does when a controller restarts under it, and how the positions of one
step run together.

A restarted controller (power dip, watchdog, USB re-enumeration) has lost every function that
was running on it, and answers HELLO with a new boot id. A position waiting in vain for its
next result asks its controller; if the controller restarted since the position started its
function, the position logs it and starts the function again, so the reading in flight is
taken again instead of the position ending without a result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable

from meterbench.devices.controller import ControllerClient, ControllerError
from meterbench.results import Severity
from meterbench.runner.context import RunContext


def _client(ctx: RunContext, position: int) -> tuple[str, ControllerClient]:
    controller_id, _channel = ctx.channel(position)
    return controller_id, ctx.session.controllers[controller_id]


def generation(ctx: RunContext, position: int) -> int:
    """How often the position's controller has restarted so far (to compare later)."""
    return _client(ctx, position)[1].restarts


async def restarted(ctx: RunContext, position: int, since: int, step_key: str) -> bool:
    """Did the position's controller restart since ``since``? Logs it when it did.

    ControllerError (naming the controller) when the controller does not answer at all."""
    controller_id, client = _client(ctx, position)
    if client.restarts == since:
        try:
            await client.check_boot()
        except ControllerError as exc:
            raise ControllerError(f"controller {controller_id} does not answer: {exc}") from exc
    if client.restarts == since:
        return False
    ctx.log(
        Severity.WARNING,
        "controller_reset",
        f"controller {controller_id} restarted (boot id {client.boot_id}): the measurement "
        "in progress was lost and is started again",
        position,
        step_key,
    )
    return True


async def together(measurements: Iterable[Awaitable[None]]) -> None:
    """Run one measurement per position at once. When one fails the whole step (the source
    or a controller is gone), the others are stopped too rather than left running unwatched
    while the run stops or tries the step again."""
    tasks = [asyncio.ensure_future(m) for m in measurements]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
