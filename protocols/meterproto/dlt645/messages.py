"""DL/T 645-2007 and -1997 requests and replies: builders for both sides, and parsers.

The master side (bench client) builds requests and parses replies; the meter side (simulator)
parses requests and builds replies, so both directions of every function live here. Layouts
follow the protocol reference section 3; where other libraries get them wrong (broadcast time
and freeze field order, baud word, password byte order, 18H DI) this module follows the standard.
Passwords never appear in ``repr`` output, so they cannot leak into logs or traces.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from meterproto.dlt645.di import di_from_wire, di_to_wire
from meterproto.dlt645.frame import (
    ABNORMAL,
    BROADCAST_ADDRESS,
    DIR_RESPONSE,
    FOLLOW_UP,
    MAX_READ_REPLY_LEN,
    MAX_WRITE_REQUEST_LEN,
    VERSION_1997,
    WILDCARD_ADDRESS,
    DecodeError,
    EncodeError,
    Frame,
    address_from_text,
    address_to_text,
)
from meterproto.dlt645.values import BcdDigits, DateTimeField, bcd_to_int, int_to_bcd


class Function(IntEnum):
    """DL/T 645-2007 function codes (control code bits D4..D0)."""

    SECURITY = 0x03
    BROADCAST_TIME = 0x08
    READ = 0x11
    READ_FOLLOW_UP = 0x12
    READ_ADDRESS = 0x13
    WRITE = 0x14
    WRITE_ADDRESS = 0x15
    FREEZE = 0x16
    CHANGE_BAUD = 0x17
    CHANGE_PASSWORD = 0x18
    CLEAR_DEMAND = 0x19
    CLEAR_METER = 0x1A
    CLEAR_EVENTS = 0x1B
    RELAY_CONTROL = 0x1C
    MULTI_FUNCTION_OUTPUT = 0x1D


class Function1997(IntEnum):
    """DL/T 645-1997 function codes."""

    READ = 0x01
    READ_FOLLOW_UP = 0x02
    REREAD = 0x03
    WRITE = 0x04
    BROADCAST_TIME = 0x08
    WRITE_ADDRESS = 0x0A
    CHANGE_BAUD = 0x0C
    CHANGE_PASSWORD = 0x0F
    CLEAR_DEMAND = 0x10


ERROR_BITS_2007 = (
    "other error",
    "no requested data",
    "password wrong or not authorised",
    "baud rate cannot be changed",
    "year time zones exceeded",
    "daily periods exceeded",
    "tariffs exceeded",
    "reserved",
)
ERROR_BITS_1997 = (
    "illegal data",
    "data identifier error",
    "password wrong or not authorised",
    "reserved",
    "year time zones exceeded",
    "daily periods exceeded",
    "tariffs exceeded",
    "reserved",
)

BAUD_WORDS = {600: 0x02, 1200: 0x04, 2400: 0x08, 4800: 0x10, 9600: 0x20, 19200: 0x40}


class MultiFunctionOutput(IntEnum):
    """What the meter's multi-function terminal outputs (1DH)."""

    CLOCK_SECOND_PULSE = 0x00
    DEMAND_PERIOD = 0x01
    TARIFF_SWITCH = 0x02


class RelayCommand(IntEnum):
    """N1 of remote control (1CH)."""

    TRIP = 0x1A
    CLOSE_ALLOWED = 0x1B
    ALARM = 0x2A
    ALARM_RELEASE = 0x2B
    POWER_GUARANTEE = 0x3A
    POWER_GUARANTEE_RELEASE = 0x3B


def error_names(word: int, version: int = 2007) -> list[str]:
    """Names of the bits set in an abnormal reply's error word."""
    names = ERROR_BITS_2007 if version == 2007 else ERROR_BITS_1997
    return [names[bit] for bit in range(8) if word >> bit & 1]


def baud_word(rate: int) -> int:
    """Baud rate -> the one-hot word Z of 17H (4800 is 10H, not 16H)."""
    try:
        return BAUD_WORDS[rate]
    except KeyError:
        raise EncodeError(
            f"DL/T 645-2007 cannot express {rate} bit/s; choose one of {sorted(BAUD_WORDS)}"
        ) from None


def baud_from_word(word: int) -> int:
    for rate, z in BAUD_WORDS.items():
        if z == word:
            return rate
    raise DecodeError(f"baud word {word:02X}H is not a single known rate bit")


class AbnormalReply(Exception):  # noqa: N818 - it is a reply, raised
    """A meter answered with the abnormal bit set; carries the error word and its names."""

    def __init__(self, frame: Frame, error_word: int, version: int = 2007) -> None:
        self.frame = frame
        self.function = frame.function
        self.error_word = error_word
        self.version = version
        self.errors = error_names(error_word, version)
        super().__init__(
            f"meter {frame.address_text} refused function {self.function:02X}H: "
            f"error word {error_word:02X}H ({', '.join(self.errors) or 'no bit set'})"
        )


# ---------------------------------------------------------------------------------------------
# Value helpers
# ---------------------------------------------------------------------------------------------

AddressLike = str | bytes


def to_address(address: AddressLike) -> bytes:
    """Address as text (most significant digit first) or 6 wire-order bytes -> wire bytes."""
    if isinstance(address, bytes | bytearray):
        if len(address) != 6:
            raise EncodeError(f"address must be 6 bytes, got {len(address)}")
        return bytes(address)
    return address_from_text(address)


@dataclass(frozen=True)
class Password:
    """Privilege level PA + 6-digit password; sent PA first, then the digits low byte first."""

    level: int
    digits: str = field(repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 0xFF:
            raise EncodeError(f"password level out of range: {self.level}")
        if len(self.digits) != 6 or not self.digits.isdigit():
            raise EncodeError("a password has exactly 6 digits")

    def __repr__(self) -> str:
        return f"Password(level={self.level:02d}, digits=******)"

    def to_plain(self) -> bytes:
        return bytes([self.level]) + bytes(reversed(bytes.fromhex(self.digits)))

    @classmethod
    def from_plain(cls, plain: bytes) -> Password:
        text = bytes(reversed(plain[1:4])).hex()
        if not text.isdigit():
            raise DecodeError("password digits are not BCD")
        return cls(plain[0], text)


def operator_to_plain(operator: int | str) -> bytes:
    """Operator code C0..C3, low byte first (8 BCD digits as the meter stores them)."""
    return bytes(reversed(int_to_bcd(int(str(operator)), 4)))


def operator_from_plain(plain: bytes) -> int:
    value = bcd_to_int(bytes(reversed(plain)))
    # Operator codes are BCD by convention but some tools send binary; keep the raw number.
    return value if value is not None else int.from_bytes(plain, "little")


_TIME6 = DateTimeField("YYMMDDhhmmss")
_FREEZE = DateTimeField("MMDDhhmm")


# ---------------------------------------------------------------------------------------------
# Requests (master -> meter)
# ---------------------------------------------------------------------------------------------


def _request(address: AddressLike, function: int, data: bytes = b"") -> Frame:
    return Frame(to_address(address), function, data)


def read(
    address: AddressLike, di: int, *, records: int | None = None, since: dt.datetime | None = None
) -> Frame:
    """11H read data; ``records``/``since`` are the load-record forms (L = 5 / 10)."""
    data = di_to_wire(di)
    if records is not None:
        data += int_to_bcd(records, 1)
        if since is not None:
            data += DateTimeField("YYMMDDhhmm").encode(since)
    return _request(address, Function.READ, data)


def read_follow_up(address: AddressLike, di: int, seq: int) -> Frame:
    """12H read subsequent frame number ``seq`` (1, 2, ...)."""
    if not 1 <= seq <= 0xFF:
        raise EncodeError(f"follow-up sequence out of range: {seq}")
    return _request(address, Function.READ_FOLLOW_UP, di_to_wire(di) + bytes([seq]))


def read_address() -> Frame:
    """13H read address, to the wildcard AA x 6 (only with one meter on the bus)."""
    return _request(WILDCARD_ADDRESS, Function.READ_ADDRESS)


def write(
    address: AddressLike, di: int, value: bytes, password: Password, operator: int | str
) -> Frame:
    """14H write data: DI + PA P0 P1 P2 + C0..C3 + value (plain, low byte first)."""
    data = di_to_wire(di) + password.to_plain() + operator_to_plain(operator) + bytes(value)
    if len(data) > MAX_WRITE_REQUEST_LEN:
        raise EncodeError(f"write request of {len(data)} bytes exceeds the 50-byte limit")
    return _request(address, Function.WRITE, data)


def write_address(new_address: AddressLike) -> Frame:
    """15H write address, sent to AA x 6."""
    return _request(WILDCARD_ADDRESS, Function.WRITE_ADDRESS, to_address(new_address))


def broadcast_time(when: dt.datetime) -> Frame:
    """08H broadcast time sync: ``ss mm hh DD MM YY`` to 99 x 6; no meter replies."""
    return _request(BROADCAST_ADDRESS, Function.BROADCAST_TIME, _TIME6.encode(when))


def freeze(address: AddressLike | None, when: dt.datetime | dict[str, int] | None = None) -> Frame:
    """16H freeze. ``when`` None = instant (99999999); a dict may use 99 for periodic fields
    (e.g. ``{"month": 99, "day": 99, "hour": 0, "minute": 0}`` = daily at 00:00).
    ``address`` None broadcasts (no reply)."""
    if when is None:
        data = b"\x99\x99\x99\x99"
    elif isinstance(when, dict):
        data = bytes(int(f"{when[name]:02d}", 16) for name in ("minute", "hour", "day", "month"))
    else:
        data = _FREEZE.encode(when)
    return _request(BROADCAST_ADDRESS if address is None else address, Function.FREEZE, data)


def change_baud(address: AddressLike, rate: int) -> Frame:
    """17H change the communication rate (one-hot word Z)."""
    return _request(address, Function.CHANGE_BAUD, bytes([baud_word(rate)]))


def change_password(address: AddressLike, old: Password, new: Password) -> Frame:
    """18H set the password of level ``new.level``: DI 04000C(level+1) + old + new."""
    if not 0 <= new.level <= 9:
        raise EncodeError("password levels are 0-9")
    di = 0x04000C00 | (new.level + 1)
    return _request(
        address, Function.CHANGE_PASSWORD, di_to_wire(di) + old.to_plain() + new.to_plain()
    )


def _authorised(
    address: AddressLike, function: int, password: Password, operator: int | str, tail: bytes = b""
) -> Frame:
    return _request(address, function, password.to_plain() + operator_to_plain(operator) + tail)


def clear_demand(address: AddressLike, password: Password, operator: int | str) -> Frame:
    """19H maximum demand clear (no DI)."""
    return _authorised(address, Function.CLEAR_DEMAND, password, operator)


def clear_meter(address: AddressLike, password: Password, operator: int | str) -> Frame:
    """1AH meter clear (no DI)."""
    return _authorised(address, Function.CLEAR_METER, password, operator)


def clear_events(
    address: AddressLike, password: Password, operator: int | str, event_di: int = 0xFFFFFFFF
) -> Frame:
    """1BH event clear; FFFFFFFF clears all, DI3 DI2 DI1 FF one class."""
    return _authorised(address, Function.CLEAR_EVENTS, password, operator, di_to_wire(event_di))


def relay_control(
    address: AddressLike,
    password: Password,
    operator: int | str,
    command: RelayCommand,
    expiry: dt.datetime,
) -> Frame:
    """1CH remote control: N1 command, N2 reserved, N3..N8 expiry ``ss mm hh DD MM YY``."""
    tail = bytes([int(command), 0x00]) + _TIME6.encode(expiry)
    return _authorised(address, Function.RELAY_CONTROL, password, operator, tail)


def multi_function_output(address: AddressLike, mode: MultiFunctionOutput) -> Frame:
    """1DH select the multi-function terminal's signal (00H = clock second pulse)."""
    return _request(address, Function.MULTI_FUNCTION_OUTPUT, bytes([int(mode)]))


def read_1997(address: AddressLike, di: int) -> Frame:
    """1997 01H read: 2-byte DI, DI0 first."""
    return _request(address, Function1997.READ, di_to_wire(di, 1997))


def write_1997(address: AddressLike, di: int, value: bytes, password: Password) -> Frame:
    """1997 04H write: DI(2) + PA P0 P1 P2 + value, no operator code."""
    data = di_to_wire(di, 1997) + password.to_plain() + bytes(value)
    if len(data) > MAX_WRITE_REQUEST_LEN:
        raise EncodeError(f"write request of {len(data)} bytes exceeds the 50-byte limit")
    return _request(address, Function1997.WRITE, data)


# ---------------------------------------------------------------------------------------------
# Replies (meter -> master)
# ---------------------------------------------------------------------------------------------


def normal_reply(
    address: AddressLike, function: int, data: bytes = b"", follow_up: bool = False
) -> Frame:
    if len(data) > MAX_READ_REPLY_LEN:
        raise EncodeError(f"reply of {len(data)} bytes exceeds 200; use follow-up frames")
    control = function | DIR_RESPONSE | (FOLLOW_UP if follow_up else 0)
    return Frame(to_address(address), control, data)


def abnormal_reply(address: AddressLike, function: int, error_word: int) -> Frame:
    return Frame(to_address(address), function | DIR_RESPONSE | ABNORMAL, bytes([error_word]))


def read_reply(
    address: AddressLike, di: int, payload: bytes, follow_up: bool = False, version: int = 2007
) -> Frame:
    function = Function.READ if version == 2007 else Function1997.READ
    return normal_reply(address, function, di_to_wire(di, version) + payload, follow_up)


def read_follow_up_reply(
    address: AddressLike, di: int, payload: bytes, seq: int, follow_up: bool
) -> Frame:
    return normal_reply(
        address, Function.READ_FOLLOW_UP, di_to_wire(di) + payload + bytes([seq]), follow_up
    )


def read_address_reply(address: AddressLike) -> Frame:
    wire = to_address(address)
    return normal_reply(wire, Function.READ_ADDRESS, wire)


# ---------------------------------------------------------------------------------------------
# Parsed messages
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A parsed frame: which meter, which function, which protocol edition."""

    address: str
    function: int
    version: int


@dataclass(frozen=True)
class ReadRequest(Message):
    di: int
    records: int | None = None
    since: Any = None


@dataclass(frozen=True)
class ReadFollowUpRequest(Message):
    di: int
    seq: int


@dataclass(frozen=True)
class ReadAddressRequest(Message):
    pass


@dataclass(frozen=True)
class WriteRequest(Message):
    di: int
    password: Password
    operator: int | None
    value: bytes


@dataclass(frozen=True)
class WriteAddressRequest(Message):
    new_address: str


@dataclass(frozen=True)
class BroadcastTimeRequest(Message):
    when: dt.datetime | None


@dataclass(frozen=True)
class FreezeRequest(Message):
    pattern: dict[str, int]

    @property
    def instant(self) -> bool:
        return all(v == 99 for v in self.pattern.values())


@dataclass(frozen=True)
class ChangeBaudRequest(Message):
    word: int

    @property
    def rate(self) -> int:
        return baud_from_word(self.word)


@dataclass(frozen=True)
class ChangePasswordRequest(Message):
    level: int
    old: Password
    new: Password


@dataclass(frozen=True)
class AuthorisedRequest(Message):
    """19H, 1AH, 1BH and 1CH: password + operator code, then function-specific fields."""

    password: Password
    operator: int
    event_di: int | None = None
    command: int | None = None
    expiry: dt.datetime | None = None


@dataclass(frozen=True)
class MultiFunctionOutputRequest(Message):
    mode: int


@dataclass(frozen=True)
class UnknownRequest(Message):
    data: bytes


@dataclass(frozen=True)
class ReadReply(Message):
    di: int
    payload: bytes
    follow_up: bool = False
    seq: int | None = None


@dataclass(frozen=True)
class ReadAddressReply(Message):
    meter_address: str


@dataclass(frozen=True)
class Acknowledgement(Message):
    """A normal reply that carries no data (94H, 95H, 96H, 99H, 9AH, 9BH, 9CH)."""


@dataclass(frozen=True)
class ValueReply(Message):
    """A normal reply echoing one value: 97H baud word, 98H new password, 9DH output mode."""

    data: bytes


def _need(frame: Frame, sizes: tuple[int, ...], what: str) -> None:
    if len(frame.data) not in sizes:
        want = " or ".join(str(s) for s in sizes)
        raise DecodeError(f"{what}: DATA has {len(frame.data)} bytes, expected {want}")


def _version_number(frame: Frame, version: int | None) -> int:
    """The edition the caller knows (a client talks to a meter of known edition); only a frame
    of unknown origin (a person pasting hex) falls back to the guess from the function code."""
    if version is None:
        return 1997 if frame.version == VERSION_1997 else 2007
    if version not in (1997, 2007):
        raise ValueError(f"DL/T 645 edition must be 1997 or 2007, got {version}")
    return version


def parse_request(frame: Frame, version: int | None = None) -> Message:
    """A request frame (D7 = 0) -> typed request; raises DecodeError on a malformed DATA.
    ``version`` (1997/2007) is the edition the receiver speaks; None guesses from the code."""
    version = _version_number(frame, version)
    if frame.is_response:
        raise DecodeError("not a request: direction bit D7 is set")
    fn, data, addr = frame.function, frame.data, frame.address_text
    if version == 1997:
        return _parse_request_1997(frame, addr, fn, data)
    base = (addr, fn, version)
    if fn == Function.READ:
        _need(frame, (4, 5, 10), "11H read")
        records = bcd_to_int(data[4:5]) if len(data) >= 5 else None
        since = DateTimeField("YYMMDDhhmm").decode(data[5:10]) if len(data) == 10 else None
        return ReadRequest(*base, di_from_wire(data[:4]), records, since)
    if fn == Function.READ_FOLLOW_UP:
        _need(frame, (5,), "12H read subsequent")
        return ReadFollowUpRequest(*base, di_from_wire(data[:4]), data[4])
    if fn == Function.READ_ADDRESS:
        _need(frame, (0,), "13H read address")
        return ReadAddressRequest(*base)
    if fn == Function.WRITE:
        if len(data) < 12:
            raise DecodeError(f"14H write: DATA has {len(data)} bytes, at least 12 expected")
        return WriteRequest(
            *base,
            di_from_wire(data[:4]),
            Password.from_plain(data[4:8]),
            operator_from_plain(data[8:12]),
            data[12:],
        )
    if fn == Function.WRITE_ADDRESS:
        _need(frame, (6,), "15H write address")
        return WriteAddressRequest(*base, address_to_text(data))
    if fn == Function.BROADCAST_TIME:
        _need(frame, (6,), "08H broadcast time")
        return BroadcastTimeRequest(*base, _TIME6.decode(data))
    if fn == Function.FREEZE:
        _need(frame, (4,), "16H freeze")
        names = ("minute", "hour", "day", "month")
        pattern = {}
        for name, b in zip(names, data, strict=True):
            number = bcd_to_int(bytes([b]))
            if number is None:
                raise DecodeError(f"16H freeze: {name} field {b:02X}H is not BCD")
            pattern[name] = number
        return FreezeRequest(*base, pattern)
    if fn == Function.CHANGE_BAUD:
        _need(frame, (1,), "17H change baud rate")
        return ChangeBaudRequest(*base, data[0])
    if fn == Function.CHANGE_PASSWORD:
        _need(frame, (12,), "18H change password")
        di = di_from_wire(data[:4])
        if di & 0xFFFFFF00 != 0x04000C00 or not 1 <= di & 0xFF <= 10:
            raise DecodeError(f"18H change password: DI {di:08X} is not 04000C01..04000C0A")
        return ChangePasswordRequest(
            *base, (di & 0xFF) - 1, Password.from_plain(data[4:8]), Password.from_plain(data[8:12])
        )
    if fn in (Function.CLEAR_DEMAND, Function.CLEAR_METER):
        _need(frame, (8,), f"{fn:02X}H clear")
        return AuthorisedRequest(
            *base, Password.from_plain(data[:4]), operator_from_plain(data[4:8])
        )
    if fn == Function.CLEAR_EVENTS:
        _need(frame, (12,), "1BH event clear")
        return AuthorisedRequest(
            *base,
            Password.from_plain(data[:4]),
            operator_from_plain(data[4:8]),
            event_di=di_from_wire(data[8:]),
        )
    if fn == Function.RELAY_CONTROL:
        _need(frame, (16,), "1CH remote control")
        return AuthorisedRequest(
            *base,
            Password.from_plain(data[:4]),
            operator_from_plain(data[4:8]),
            command=data[8],
            expiry=_TIME6.decode(data[10:16]),
        )
    if fn == Function.MULTI_FUNCTION_OUTPUT:
        _need(frame, (1,), "1DH multi-function output")
        return MultiFunctionOutputRequest(*base, data[0])
    return UnknownRequest(*base, data)


def _parse_request_1997(frame: Frame, addr: str, fn: int, data: bytes) -> Message:
    base = (addr, fn, 1997)
    if fn == Function1997.READ:
        _need(frame, (2,), "1997 01H read")
        return ReadRequest(*base, di_from_wire(data))
    if fn == Function1997.WRITE:
        if len(data) < 6:
            raise DecodeError(f"1997 04H write: DATA has {len(data)} bytes, at least 6 expected")
        return WriteRequest(
            *base, di_from_wire(data[:2]), Password.from_plain(data[2:6]), None, data[6:]
        )
    return UnknownRequest(*base, data)


_ADDRESS_DIGITS = BcdDigits(12)


def parse_reply(frame: Frame, version: int | None = None) -> Message:
    """A reply frame (D7 = 1) -> typed reply; raises AbnormalReply for D6 = 1 and
    DecodeError for malformed DATA. ``version`` (1997/2007) is the edition of the meter the
    request went to; None guesses from the function code (frames of unknown origin only)."""
    version = _version_number(frame, version)
    if not frame.is_response:
        raise DecodeError("not a reply: direction bit D7 is clear (own echo?)")
    if frame.abnormal:
        if not frame.data:
            raise DecodeError("abnormal reply without an error word")
        raise AbnormalReply(frame, frame.data[0], version)
    fn, data, addr = frame.function, frame.data, frame.address_text
    base = (addr, fn, version)
    di_len = 4 if version == 2007 else 2
    if version == 1997 and fn in (
        Function1997.READ,
        Function1997.READ_FOLLOW_UP,
        Function1997.REREAD,
    ):
        if len(data) < 2:
            raise DecodeError(f"read reply: DATA has {len(data)} bytes, no room for the DI")
        return ReadReply(*base, di_from_wire(data[:2]), data[2:], frame.follow_up)
    if version == 2007 and fn == Function.READ:
        if len(data) < di_len:
            raise DecodeError(f"read reply: DATA has {len(data)} bytes, no room for the DI")
        return ReadReply(*base, di_from_wire(data[:di_len]), data[di_len:], frame.follow_up)
    if fn == Function.READ_FOLLOW_UP and version == 2007:
        if len(data) < 5:
            raise DecodeError(f"12H reply: DATA has {len(data)} bytes, at least 5 expected")
        return ReadReply(*base, di_from_wire(data[:4]), data[4:-1], frame.follow_up, data[-1])
    if fn == Function.READ_ADDRESS:
        _need(frame, (6,), "93H read-address reply")
        meter = _ADDRESS_DIGITS.decode(data)
        if meter is None:
            raise DecodeError(f"93H read-address reply: address {data.hex()} is not BCD")
        return ReadAddressReply(*base, address_to_text(data))
    if fn in (Function.CHANGE_BAUD, Function.CHANGE_PASSWORD, Function.MULTI_FUNCTION_OUTPUT):
        return ValueReply(*base, data)
    return Acknowledgement(*base)
