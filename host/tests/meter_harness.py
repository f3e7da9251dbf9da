"""Shared pieces of the meter tests: simulated lines on real ptys and TCP sockets, a bus with
short protocol timing, and a hard deadline around every test coroutine (no test can hang)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from meterbench.sim.line import SimLine
from meterbench.sim.meter_dlt645 import Dlt645Meter
from meterbench.sim.servers import PtyMeterServer, TcpMeterServer
from meterbench.transport import Bus, BusTiming, SerialSettings

T = TypeVar("T")

ADDRESS = "230715000042"

# Short timing so that silent meters cost little test time: Td max 100 ms instead of 500 ms
# (the simulated meters answer after 20 ms).
FAST = BusTiming(
    td_max=0.1,
    tb=0.1,
    margin=0.03,
    retries=2,
    reconnect_delay=0.05,
    reconnect_delay_max=0.2,
    reconnect_grace=2.0,
)


def run(coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    """Run ``coro`` with a hard deadline: a hang fails the test instead of blocking CI."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``awaitable`` must finish (value or exception) within ``seconds``."""
    return await asyncio.wait_for(awaitable, seconds)


def meter(address: str = ADDRESS, **kwargs: Any) -> Dlt645Meter:
    kwargs.setdefault("response_delay", 0.02)
    m = Dlt645Meter(address=address, **kwargs)
    m.set_energy(Decimal("1250.31"))
    return m


@contextlib.asynccontextmanager
async def served(
    devices: list[Any], kind: str = "tcp", link: str | None = None, **line: Any
) -> AsyncIterator[tuple[Any, str]]:
    """Devices on a simulated line behind a pty or a TCP socket; yields (server, url)."""
    sim_line = SimLine(devices, **line)
    server: Any = PtyMeterServer(sim_line, link=link) if kind == "pty" else TcpMeterServer(sim_line)
    url = await server.start()
    try:
        yield server, url
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def bus_on(
    url: str, timing: BusTiming = FAST, settings: SerialSettings | None = None
) -> AsyncIterator[Bus]:
    bus = Bus(url, settings, timing=timing)
    await bus.open()
    try:
        yield bus
    finally:
        await bus.close()
