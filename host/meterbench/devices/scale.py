"""The weighing tank's balance (gravimetric method): one small interface, one MT-SICS driver.

MT-SICS is the line protocol most laboratory and industrial balances speak: ``S`` asks for the
next stable weight, ``SI`` for the weight right now, ``Z`` zeroes; replies are CR LF lines such
as ``S S      12.345 kg`` (stable), ``S D ...`` (dynamic), ``S I`` (cannot now), ``S +`` / ``S -``
(over / under range). Only stable readings are used for a volume.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Protocol

from meterbench.transport.errors import TransportError
from meterbench.transport.port import AsyncPort
from meterbench.transport.settings import SerialSettings

_UNITS = {"kg": Decimal(1), "g": Decimal("0.001")}


class ScaleError(Exception):
    """The balance did not answer, gave no stable weight, or is out of range."""


class Scale(Protocol):
    async def stable_kg(self, timeout_s: float) -> Decimal: ...

    async def weight_kg(self) -> tuple[Decimal, bool]: ...

    async def close(self) -> None: ...


def parse_weight(line: str) -> tuple[Decimal, bool]:
    """(kg, stable) from an ``S S``/``S D`` reply; ScaleError for anything else."""
    parts = line.split()
    if parts[:2] == ["S", "I"]:
        raise ScaleError("the balance cannot give a weight now (S I)")
    if parts[:2] == ["S", "+"]:
        raise ScaleError("the balance is over its range (S +)")
    if parts[:2] == ["S", "-"]:
        raise ScaleError("the balance is under its range (S -)")
    if len(parts) != 4 or parts[0] != "S" or parts[1] not in ("S", "D"):
        raise ScaleError(f"not a weight reply: {line!r}")
    unit = _UNITS.get(parts[3])
    if unit is None:
        raise ScaleError(f"unknown weight unit {parts[3]!r}")
    try:
        value = Decimal(parts[2]) * unit
    except InvalidOperation:
        raise ScaleError(f"not a number: {parts[2]!r}") from None
    return value, parts[1] == "S"


class SicsScale:
    """An MT-SICS balance on any endpoint URL (serial device, ``socket://``, pty path)."""

    def __init__(self, port: AsyncPort, timeout_s: float = 2.0) -> None:
        self._port = port
        self._timeout = timeout_s
        self._buffer = b""
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, url: str, settings: SerialSettings | None = None, timeout_s: float = 2.0
    ) -> SicsScale:
        port = await AsyncPort.open(url, settings or SerialSettings(9600, "N"))
        return cls(port, timeout_s)

    async def close(self) -> None:
        await self._port.close()

    async def _ask(self, command: str, timeout_s: float) -> str:
        loop = asyncio.get_running_loop()
        async with self._lock:
            self._port.reset_input()
            self._buffer = b""
            try:
                await self._port.write(command.encode("ascii") + b"\r\n")
                deadline = loop.time() + timeout_s
                while b"\n" not in self._buffer:
                    left = deadline - loop.time()
                    if left <= 0:
                        raise ScaleError(f"balance at {self._port.url}: no reply to {command}")
                    self._buffer += await self._port.read(left)
            except TransportError as exc:
                raise ScaleError(f"balance at {self._port.url}: {exc}") from exc
            line, _, self._buffer = self._buffer.partition(b"\n")
            return line.decode("ascii", errors="replace").strip()

    async def stable_kg(self, timeout_s: float) -> Decimal:
        """The next stable weight; ``timeout_s`` wall seconds for the balance to settle."""
        weight, stable = parse_weight(await self._ask("S", timeout_s + self._timeout))
        if not stable:
            raise ScaleError("the balance answered S with a dynamic weight")
        return weight

    async def weight_kg(self) -> tuple[Decimal, bool]:
        """The weight right now and whether it is stable."""
        return parse_weight(await self._ask("SI", self._timeout))

    async def identify(self) -> str:
        reply = await self._ask("I4", self._timeout)
        return reply.split('"')[1] if reply.count('"') >= 2 else reply


__all__ = ["Scale", "ScaleError", "SicsScale", "parse_weight"]
