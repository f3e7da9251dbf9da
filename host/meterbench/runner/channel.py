"""One input channel of a controller, whether it holds a meter or a reference's pulses.

Meter positions are reached through the run context by position number; a reference's count
channel (a water bench's master meter) is not a position, so items may address channels
directly. Results still come through the context's one router per controller, so nothing else
on that controller waits. Counting a channel's pulses until the host stops it (a register run,
a standing start) is here once for every kind.
"""

from __future__ import annotations

import contextlib
from typing import Any

from meterbench.runner.context import ResultRouter, RunContext
from meterproto.link import messages as m

DEFAULT_TICK_HZ = 1_000_000


class Channel:
    def __init__(self, ctx: RunContext, controller: str, number: int, label: str) -> None:
        self.ctx = ctx
        self.controller = controller
        self.number = number
        self.label = label

    @classmethod
    def of_position(cls, ctx: RunContext, position: int) -> Channel:
        controller, number = ctx.channel(position)
        return cls(ctx, controller, number, f"position {position}")

    @property
    def tick_hz(self) -> int:
        """Timer ticks per second of this controller (gate_ticks units), from its HELLO."""
        hello = self.ctx.session.hello.get(self.controller, {})
        return int(hello.get("tick_hz") or DEFAULT_TICK_HZ)

    def _router(self) -> ResultRouter:
        return self.ctx.router_of(self.controller)

    def drain(self) -> None:
        """Forget results of earlier functions on this channel."""
        self._router().drain(self.number)

    async def request(self, msg_type: int, **fields: Any) -> Any:
        client = self.ctx.session.controllers[self.controller]
        return await client.request(msg_type, position=self.number, **fields)

    async def result(self, timeout_s: float) -> Any:
        """The next result of this channel within ``timeout_s`` of the shared clock."""
        return await self._router().get(self.number, timeout_s, self.ctx.clock)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.request(m.STOP, functions=m.FN_ALL)

    async def start_count(self, duration_ms: int, max_events: int = 0) -> None:
        """Count the pulses of this channel's meter input until ``stop_count`` (or the
        window's end, which the host means never to reach)."""
        self.drain()
        await self.request(
            m.WINDOW_START, input=m.INPUT_METER, duration_ms=duration_ms, max_events=max_events
        )

    async def stop_count(
        self, functions: int = m.FN_WINDOW, timeout_s: float = 120.0
    ) -> tuple[int, int] | None:
        """Stop the count: (pulses, flags) of its WINDOW_END, None if none came within
        ``timeout_s`` clock seconds."""
        with contextlib.suppress(Exception):
            await self.request(m.STOP, functions=functions)
        try:
            while True:
                msg = await self.result(timeout_s)
                if msg.msg_type == m.WINDOW_END:
                    return int(msg["count"]), int(msg["flags"])
        except TimeoutError:
            return None


__all__ = ["Channel"]
