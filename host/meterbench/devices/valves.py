"""Valves on controller outputs (start/stop valve, tank drain): OUTPUT_SET over the link."""

from __future__ import annotations

from meterbench.devices.controller import ControllerClient
from meterproto.link import messages as m


class Valve:
    """One valve wired to output ``output`` of ``channel`` of a controller; 1 opens it."""

    def __init__(self, client: ControllerClient, channel: int, output: int, name: str) -> None:
        self.client = client
        self.channel = channel
        self.output = output
        self.name = name
        self.is_open: bool | None = None

    async def set(self, opened: bool) -> None:
        await self.client.request(
            m.OUTPUT_SET, position=self.channel, output=self.output, state=1 if opened else 0
        )
        self.is_open = opened

    async def open(self) -> None:
        await self.set(True)

    async def close(self) -> None:
        await self.set(False)


__all__ = ["Valve"]
