"""Pulse windows: the meter's pulses counted over a window of the shared clock."""

from __future__ import annotations

from meterbench.kinds.electricity.items.common import MARGIN
from meterbench.runner.context import RunContext
from meterproto.link import messages as m


async def pulse_window(
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
