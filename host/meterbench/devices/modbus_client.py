"""Modbus RTU client for one device (unit) on a bus manager.

Drives and transmitters share an RS-485 line like meters do, so the bus manager owns the
line, the retries and the raw-frame trace; this client only builds requests and checks that a
reply is the one it waits for (same unit, same function, exception replies reported as such).
"""

from __future__ import annotations

from collections.abc import Sequence

from meterbench.transport.bus import Bus, Exchange
from meterbench.transport.dialects import MODBUS_RTU
from meterbench.transport.errors import CorruptReply, ReplyTimeout
from meterproto.modbus import rtu


class ModbusError(Exception):
    """A Modbus device did not answer, answered garbage, or refused a request."""


class ModbusExceptionReply(ModbusError):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class ModbusRtuClient:
    """Requests to one unit on a Modbus RTU bus."""

    def __init__(self, bus: Bus, unit: int, *, name: str = "", retries: int | None = None) -> None:
        if not 1 <= unit <= rtu.MAX_UNIT:
            raise ValueError(f"a Modbus unit address is 1..{rtu.MAX_UNIT}, got {unit}")
        self.bus = bus
        self.unit = unit
        self.name = name or f"Modbus unit {unit}"
        self.retries = retries

    async def _transact(
        self, request: bytes, function: int, label: str, reply_len: int
    ) -> rtu.Frame:
        def match(frame: rtu.Frame) -> bool:
            return frame.unit == self.unit and frame.function & 0x7F == function

        exchange = Exchange(
            request=request,
            dialect=MODBUS_RTU,
            match=match,
            reply_len=reply_len,
            label=f"{label} @ {self.name}",
            retries=self.retries,
        )
        try:
            frame: rtu.Frame = await self.bus.transact(exchange)
        except ReplyTimeout as exc:
            raise ModbusError(f"{self.name}: no reply to {label}") from exc
        except CorruptReply as exc:
            raise ModbusError(f"{self.name}: {exc}") from exc
        if frame.abnormal:
            code = frame.exception_code or 0
            text = rtu.EXCEPTION_NAMES.get(code, f"code {code:02X}H")
            raise ModbusExceptionReply(f"{self.name} refused {label}: {text}", code)
        return frame

    async def read(
        self, address: int, count: int = 1, *, input_registers: bool = False
    ) -> list[int]:
        """Holding (03H) or input (04H) registers."""
        function = rtu.READ_INPUT if input_registers else rtu.READ_HOLDING
        request = rtu.read_request(self.unit, address, count, function)
        frame = await self._transact(request, function, f"read {address:04X}H", 5 + 2 * count)
        try:
            values = rtu.registers(frame)
        except rtu.ModbusFrameError as exc:
            raise ModbusError(f"{self.name}: {exc}") from exc
        if len(values) != count:
            raise ModbusError(f"{self.name}: asked for {count} registers, got {len(values)}")
        return values

    async def write(self, address: int, value: int) -> None:
        """One register, sent as write-multiple (10H): a 06H reply repeats its request byte
        for byte, so on a line with local echo it could not be told from the echo."""
        await self.write_many(address, [value])

    async def write_many(self, address: int, values: Sequence[int]) -> None:
        request = rtu.write_multiple_request(self.unit, address, values)
        await self._transact(request, rtu.WRITE_MULTIPLE, f"write {address:04X}H+", 8)


__all__ = ["ModbusError", "ModbusExceptionReply", "ModbusRtuClient"]
