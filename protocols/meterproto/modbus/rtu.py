"""Modbus RTU frames, sans-I/O: the few functions a bench needs, their CRC, and stream decoders
that find frames by structure and CRC alone.

RTU frames carry no length field and are delimited on the wire by silence. We never frame by
timing on the host, so the decoders derive every frame's length from its function code (and
the byte count where there is one): a request and a reply of the same function have different
layouts, hence one decoder per direction. A candidate whose CRC fails is dropped one byte at a
time (hunting), as garbage before a frame is.

Layout: ``unit | function | data | CRC (low byte first)``; an exception reply has the function
with bit 7 set and one data byte, the exception code.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

READ_HOLDING = 0x03
READ_INPUT = 0x04
WRITE_SINGLE = 0x06
WRITE_MULTIPLE = 0x10
EXCEPTION_FLAG = 0x80

BROADCAST = 0
MAX_UNIT = 247
MAX_READ = 125  # registers per read request
MAX_WRITE = 123  # registers per write-multiple request

ILLEGAL_FUNCTION = 0x01
ILLEGAL_ADDRESS = 0x02
ILLEGAL_VALUE = 0x03
DEVICE_FAILURE = 0x04

EXCEPTION_NAMES = {
    ILLEGAL_FUNCTION: "illegal function",
    ILLEGAL_ADDRESS: "illegal data address",
    ILLEGAL_VALUE: "illegal data value",
    DEVICE_FAILURE: "server device failure",
    0x05: "acknowledge",
    0x06: "server device busy",
}

_FIXED_REQUEST = {READ_HOLDING: 8, READ_INPUT: 8, WRITE_SINGLE: 8}
_FIXED_REPLY = {WRITE_SINGLE: 8, WRITE_MULTIPLE: 8}
_MAX_FRAME = 256


class ModbusFrameError(ValueError):
    """Bytes that cannot be the frame they claim to be, or values that cannot be encoded."""


def _table() -> tuple[int, ...]:
    out = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        out.append(crc)
    return tuple(out)


_CRC_TABLE = _table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF); crc16(b"123456789") == 0x4B37."""
    crc = 0xFFFF
    for byte in bytes(data):
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


@dataclass(frozen=True)
class Frame:
    """One decoded frame. ``data`` is what follows the function code, CRC excluded."""

    unit: int
    function: int
    data: bytes
    raw: bytes
    is_response: bool

    @property
    def abnormal(self) -> bool:
        return bool(self.function & EXCEPTION_FLAG)

    @property
    def exception_code(self) -> int | None:
        return self.data[0] if self.abnormal and self.data else None


def encode(unit: int, function: int, data: bytes = b"") -> bytes:
    """A complete frame: unit, function, data and the CRC."""
    if not 0 <= unit <= MAX_UNIT:
        raise ModbusFrameError(f"unit {unit} is outside 0..{MAX_UNIT}")
    body = bytes((unit, function)) + bytes(data)
    if len(body) + 2 > _MAX_FRAME:
        raise ModbusFrameError("frame longer than 256 bytes")
    return body + struct.pack("<H", crc16(body))


def _u16(name: str, value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise ModbusFrameError(f"{name} must be 0..65535, got {value!r}")
    return value


# -- requests ----------------------------------------------------------------------------------


def read_request(unit: int, address: int, count: int = 1, function: int = READ_HOLDING) -> bytes:
    """Read ``count`` holding (03H) or input (04H) registers from ``address``."""
    if function not in (READ_HOLDING, READ_INPUT):
        raise ModbusFrameError(f"function {function:02X}H is not a register read")
    if not 1 <= count <= MAX_READ:
        raise ModbusFrameError(f"count must be 1..{MAX_READ}, got {count}")
    return encode(unit, function, struct.pack(">HH", _u16("address", address), count))


def write_single_request(unit: int, address: int, value: int) -> bytes:
    return encode(
        unit, WRITE_SINGLE, struct.pack(">HH", _u16("address", address), _u16("value", value))
    )


def write_multiple_request(unit: int, address: int, values: Sequence[int]) -> bytes:
    if not 1 <= len(values) <= MAX_WRITE:
        raise ModbusFrameError(f"write 1..{MAX_WRITE} registers, got {len(values)}")
    words = b"".join(struct.pack(">H", _u16("value", v)) for v in values)
    head = struct.pack(">HHB", _u16("address", address), len(values), len(words))
    return encode(unit, WRITE_MULTIPLE, head + words)


# -- replies (what a server sends) ---------------------------------------------------------------


def read_reply(unit: int, function: int, values: Sequence[int]) -> bytes:
    words = b"".join(struct.pack(">H", _u16("value", v)) for v in values)
    return encode(unit, function, bytes((len(words),)) + words)


def write_single_reply(unit: int, address: int, value: int) -> bytes:
    return write_single_request(unit, address, value)  # the reply echoes the request


def write_multiple_reply(unit: int, address: int, count: int) -> bytes:
    return encode(unit, WRITE_MULTIPLE, struct.pack(">HH", address, count))


def exception_reply(unit: int, function: int, code: int) -> bytes:
    return encode(unit, (function | EXCEPTION_FLAG) & 0xFF, bytes((code,)))


# -- reading decoded frames -------------------------------------------------------------------


def registers(frame: Frame) -> list[int]:
    """Register values of a read reply."""
    if frame.function not in (READ_HOLDING, READ_INPUT) or not frame.data:
        raise ModbusFrameError(f"function {frame.function:02X}H is not a read reply")
    count = frame.data[0]
    if count % 2 or len(frame.data) != count + 1:
        raise ModbusFrameError("byte count does not match the data")
    return list(struct.unpack(f">{count // 2}H", frame.data[1:]))


@dataclass(frozen=True)
class Request:
    """A decoded request, for a server."""

    unit: int
    function: int
    address: int
    count: int
    values: tuple[int, ...] = ()


def parse_request(frame: Frame) -> Request:
    data = frame.data
    if frame.function in (READ_HOLDING, READ_INPUT):
        address, count = struct.unpack(">HH", data[:4])
        return Request(frame.unit, frame.function, address, count)
    if frame.function == WRITE_SINGLE:
        address, value = struct.unpack(">HH", data[:4])
        return Request(frame.unit, frame.function, address, 1, (value,))
    if frame.function == WRITE_MULTIPLE:
        address, count, size = struct.unpack(">HHB", data[:5])
        if size != 2 * count or len(data) != 5 + size:
            raise ModbusFrameError("write-multiple byte count does not match")
        values = struct.unpack(f">{count}H", data[5:])
        return Request(frame.unit, frame.function, address, count, tuple(values))
    raise ModbusFrameError(f"function {frame.function:02X}H is not supported")


def to_signed(value: int) -> int:
    """A register read as a 16-bit two's complement number."""
    return value - 0x10000 if value & 0x8000 else value


def from_signed(value: int) -> int:
    if not -0x8000 <= value <= 0x7FFF:
        raise ModbusFrameError(f"{value} does not fit a signed 16-bit register")
    return value & 0xFFFF


# -- stream decoding --------------------------------------------------------------------------


def _frame_length(buf: bytearray, i: int, replies: bool) -> int:
    """Length of the candidate at ``i``: > 0 known, 0 needs more bytes, -1 cannot be a frame."""
    if len(buf) - i < 2:
        return 0
    unit, function = buf[i], buf[i + 1]
    if unit > MAX_UNIT or (replies and unit == BROADCAST):
        return -1
    if replies:
        if function & EXCEPTION_FLAG:
            known = (READ_HOLDING, READ_INPUT, WRITE_SINGLE, WRITE_MULTIPLE)
            return 5 if (function & 0x7F) in known else -1
        if function in _FIXED_REPLY:
            return _FIXED_REPLY[function]
        if function in (READ_HOLDING, READ_INPUT):
            if len(buf) - i < 3:
                return 0
            return 5 + buf[i + 2] if buf[i + 2] % 2 == 0 else -1
        return -1
    if function in _FIXED_REQUEST:
        return _FIXED_REQUEST[function]
    if function == WRITE_MULTIPLE:
        if len(buf) - i < 7:
            return 0
        return 9 + buf[i + 6]
    return -1


class StreamDecoder:
    """Feed chunks, get every complete frame with a good CRC. ``replies`` selects the direction
    (a client decodes replies, a server requests). Keeps at most one incomplete candidate."""

    def __init__(self, replies: bool = True) -> None:
        self.replies = replies
        self._buf = bytearray()
        self.frames = 0
        self.bad_checksum = 0
        self.bad_end = 0  # RTU has no end byte; kept for the bus's decoder interface
        self.skipped_bytes = 0

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buf.extend(chunk)
        return self._scan(final=False)

    def flush(self) -> list[Frame]:
        """Give up on an incomplete candidate; return frames that were hidden behind it."""
        return self._scan(final=True)

    def _scan(self, final: bool) -> list[Frame]:
        buf = self._buf
        out: list[Frame] = []
        i = 0
        while i < len(buf):
            length = _frame_length(buf, i, self.replies)
            if length == 0 or (length > 0 and len(buf) - i < length):
                if not final:
                    break
                i += 1
                self.skipped_bytes += 1
                continue
            if length < 0:
                i += 1
                self.skipped_bytes += 1
                continue
            candidate = bytes(buf[i : i + length])
            if crc16(candidate[:-2]) != struct.unpack("<H", candidate[-2:])[0]:
                self.bad_checksum += 1
                i += 1
                self.skipped_bytes += 1
                continue
            out.append(Frame(candidate[0], candidate[1], candidate[2:-2], candidate, self.replies))
            self.frames += 1
            i += length
        del buf[:i]
        return out


__all__ = [
    "Frame",
    "ModbusFrameError",
    "Request",
    "StreamDecoder",
    "crc16",
    "encode",
    "exception_reply",
    "parse_request",
    "read_reply",
    "read_request",
    "registers",
    "write_multiple_reply",
    "write_multiple_request",
    "write_single_reply",
    "write_single_request",
]
