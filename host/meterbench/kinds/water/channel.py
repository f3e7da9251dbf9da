"""One input channel of a controller, whether it holds a meter or the master meter's pulses.

Meter positions are reached through the run context by position number; the master meter's
count channel is not a position, so water items address channels directly. Results still come
through the context's one router per controller, so nothing else on that controller waits.
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
        routers = self.ctx.routers
        if self.controller not in routers:
            routers[self.controller] = ResultRouter(self.ctx.session.controllers[self.controller])
        return routers[self.controller]

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


__all__ = ["Channel"]
