"""What the bus needs to know about a meter protocol, and nothing more: how to cut the byte
stream into frames, its reply timing, where the control code sits (for echo removal) and which
bytes of a frame are secret (for masked traces).

The bus itself is protocol-neutral; DL/T 645 and CJ/T 188 meters may even share one line, and
Modbus RTU devices (a water bench's drives and transmitters) use the same bus manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from meterproto.cjt188 import frame as cjt188_frame
from meterproto.dlt645 import frame as dlt645_frame
from meterproto.dlt698 import frame as dlt698_frame
from meterproto.modbus import rtu as modbus_rtu


class FrameDecoder(Protocol):
    """The shape of the meterproto stream decoders."""

    bad_checksum: int
    bad_end: int

    @property
    def pending(self) -> int: ...

    def feed(self, chunk: bytes) -> list[Any]: ...

    def flush(self) -> list[Any]: ...


class Dialect(Protocol):
    # Read-only: the dialects are frozen dataclasses.
    @property
    def name(self) -> str: ...

    @property
    def td_min(self) -> float:
        """Shortest response delay a meter may use (bus turn-around)."""
        ...

    @property
    def td_max(self) -> float:
        """Longest response delay: request end -> first reply byte."""
        ...

    @property
    def tb(self) -> float:
        """Longest gap between two bytes of one frame."""
        ...

    @property
    def max_preamble(self) -> int: ...

    def decoder(self) -> FrameDecoder: ...

    def control_index(self, raw: bytes) -> int:
        """Index of the control code in ``raw`` (wire bytes, preamble included)."""
        ...

    def secret_positions(self, raw: bytes) -> list[int]:
        """Indexes of ``raw`` (wire bytes of one frame, preamble allowed) to mask in traces."""
        ...


def _skip_preamble(raw: bytes) -> int:
    i = 0
    while i < len(raw) and raw[i] == 0xFE:
        i += 1
    return i


# DL/T 645 functions whose DATA carries a password (and operator code): offset of the secret
# part inside DATA and its length. 2007: 14H DI+PA..+C0..; 18H DI+old+new; 19H-1CH PA..+C0..
# 1997: 04H DI(2)+PA.. (no operator code), 0FH change password.
_DLT645_SECRETS_2007 = {
    0x14: (4, 8),
    0x18: (4, 8),
    0x19: (0, 8),
    0x1A: (0, 8),
    0x1B: (0, 8),
    0x1C: (0, 8),
    0x03: (4, 4),  # ESAM: operator code
}
_DLT645_SECRETS_1997 = {0x04: (2, 4), 0x0F: (2, 8)}


@dataclass(frozen=True)
class Dlt645Dialect:
    """DL/T 645-2007 and -1997: Td 20-500 ms, Tb 500 ms, up to 4 FEH preamble bytes."""

    name: str = "dlt645"
    td_min: float = 0.020
    td_max: float = 0.500
    tb: float = 0.500
    max_preamble: int = 4

    def decoder(self) -> FrameDecoder:
        return dlt645_frame.StreamDecoder()

    def control_index(self, raw: bytes) -> int:
        return _skip_preamble(raw) + 8

    def secret_positions(self, raw: bytes) -> list[int]:
        start = _skip_preamble(raw)
        if len(raw) < start + 12:
            return []
        control = raw[start + 8]
        function = control & dlt645_frame.FUNCTION_MASK
        length = raw[start + 9]
        data_at = start + 10
        if control & dlt645_frame.DIR_RESPONSE:
            # 98H: the meter repeats the new password.
            if function == 0x18 and not control & dlt645_frame.ABNORMAL:
                return _with_checksum(raw, data_at, 0, length, length)
            return []
        table = _DLT645_SECRETS_2007
        if function in dlt645_frame.FUNCTIONS_1997 and function != 0x03:
            table = _DLT645_SECRETS_1997
        if function not in table:
            return []
        offset, size = table[function]
        return _with_checksum(raw, data_at, offset, size, length)


def _with_checksum(raw: bytes, data_at: int, offset: int, size: int, length: int) -> list[int]:
    """Positions data_at+offset .. +size (inside DATA) plus the checksum byte."""
    first = data_at + offset
    last = min(first + size, data_at + length, len(raw))
    positions = list(range(first, last))
    if positions and data_at + length < len(raw):
        positions.append(data_at + length)
    return positions


@dataclass(frozen=True)
class Cjt188Dialect:
    """CJ/T 188: no timing figures published; the DL/T 645 values with a longer Td for
    battery-powered M-Bus meters (reference section 8.6)."""

    name: str = "cjt188"
    td_min: float = 0.020
    td_max: float = 1.000
    tb: float = 0.500
    max_preamble: int = 4

    def decoder(self) -> FrameDecoder:
        return cjt188_frame.StreamDecoder()

    def control_index(self, raw: bytes) -> int:
        return _skip_preamble(raw) + 9

    def secret_positions(self, raw: bytes) -> list[int]:
        return []


DLT645 = Dlt645Dialect()
CJT188 = Cjt188Dialect()


class Dlt698BusFrame(dlt698_frame.Frame):
    """A DL/T 698.45 frame as the bus sees it: "a reply" is anything the meter sent (DIR = 1),
    including the exchanges it starts itself (LINK heartbeats, REPORT notifications), so the
    client's ``match`` gets to see and handle those; frames with DIR = 0 are echoes."""

    @property
    def is_response(self) -> bool:  # type: ignore[override]
        return bool(self.control & dlt698_frame.DIR_SERVER)


class _Dlt698Decoder(dlt698_frame.StreamDecoder):
    def _make(self, raw: bytes) -> Dlt698BusFrame:
        f = super()._make(raw)
        return Dlt698BusFrame(
            f.address, f.control, f.apdu, f.ca, f.address_type, f.logical_address, f.raw
        )


# CONNECT-Request: tag, PIID, version(2), conformance (8 + 16), sizes (2 + 2 + 1 + 2), timeout (4)
_CONNECT_MECHANISM_AT = 1 + 1 + 2 + 8 + 16 + 2 + 2 + 1 + 2 + 4


@dataclass(frozen=True)
class Dlt698Dialect:
    """DL/T 698.45: the 645 line timing (Td 20-500 ms) with room for meters that consult their
    ESAM before answering, up to 4 FEH preamble bytes, C right after the 2-byte length."""

    name: str = "dlt698"
    td_min: float = 0.020
    td_max: float = 1.000
    tb: float = 0.500
    max_preamble: int = 4

    def decoder(self) -> FrameDecoder:
        return _Dlt698Decoder()

    def control_index(self, raw: bytes) -> int:
        return _skip_preamble(raw) + 3

    def secret_positions(self, raw: bytes) -> list[int]:
        """The password of a CONNECT-Request (mechanism 1) and the FCS that covers it."""
        start = _skip_preamble(raw)
        if len(raw) < start + 6 or raw[start + 3] & dlt698_frame.DIR_SERVER:
            return []
        apdu_at = start + 1 + 2 + 1 + 1 + (raw[start + 4] & 0x0F) + 1 + 1 + 2
        mech = apdu_at + _CONNECT_MECHANISM_AT
        if len(raw) <= mech + 1 or raw[apdu_at] != 0x02 or raw[mech] != 1:
            return []
        end = min(len(raw), mech + 2 + raw[mech + 1])
        positions = list(range(mech + 2, end))
        fcs = start + (raw[start + 1] | (raw[start + 2] & 0x3F) << 8) - 1
        return positions + [p for p in (fcs, fcs + 1) if p < len(raw)]


DLT698 = Dlt698Dialect()


@dataclass(frozen=True)
class ModbusRtuDialect:
    """Modbus RTU replies (a client's view): no preamble, the function code right after the unit;
    drives answer within tens of milliseconds, so Td is generous rather than tight."""

    name: str = "modbus-rtu"
    td_min: float = 0.0
    td_max: float = 0.500
    tb: float = 0.100
    max_preamble: int = 0

    def decoder(self) -> FrameDecoder:
        return modbus_rtu.StreamDecoder(replies=True)

    def control_index(self, raw: bytes) -> int:
        # A reply starts with the request's unit and function, so only a complete copy of the
        # request is echo (a 06H reply repeats its request: clients write with 10H instead).
        return len(raw) - 1

    def secret_positions(self, raw: bytes) -> list[int]:
        return []


MODBUS_RTU = ModbusRtuDialect()
