"""DL/T 698.45 APDU reader and builders, enough for a bench. Host-only.

Covers GET-Request/-Response-Normal, ACTION-Request/-Response-Normal, LINK-Request/-Response and
the A-XDR data types a bench meets (integers, strings, arrays, structures, dates, OAD, ROAD,
CSD, ...). Other APDUs are named but not decoded. Everything that cannot be parsed raises
:class:`~meterproto.dlt645.frame.DecodeError`, so a command-line decoder and a client have one
error type to catch; ``describe`` never raises for a frame that passed its CRCs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from meterproto.compat import to_hex
from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698.frame import (
    ADDRESS_TYPE_NAMES,
    FN_USER_DATA,
    PRM_CLIENT,
    Frame,
    address_from_text,
)

# -- APDU tags -----------------------------------------------------------------------------------

LINK_REQUEST = 0x01
LINK_RESPONSE = 0x81
GET_REQUEST = 0x05
GET_RESPONSE = 0x85
ACTION_REQUEST = 0x07
ACTION_RESPONSE = 0x87
NORMAL = 0x01  # the "Normal" choice of GET/SET/ACTION

APDU_NAMES: dict[int, str] = {
    0x08: "REPORT-Response",
    0x88: "REPORT-Notification",
    0xEE: "ERROR-Response",
    0x01: "LINK-Request",
    0x81: "LINK-Response",
    0x02: "CONNECT-Request",
    0x82: "CONNECT-Response",
    0x03: "RELEASE-Request",
    0x83: "RELEASE-Response",
    0x05: "GET-Request",
    0x85: "GET-Response",
    0x06: "SET-Request",
    0x86: "SET-Response",
    0x07: "ACTION-Request",
    0x87: "ACTION-Response",
    0x10: "SECURITY-Request",
    0x90: "SECURITY-Response",
}

LINK_REQUEST_TYPES = {0: "login", 1: "heartbeat", 2: "logout"}

# Tags whose APDU has a choice byte (…-Normal = 1) right after the tag.
_WITH_CHOICE = frozenset((0x05, 0x85, 0x06, 0x86, 0x07, 0x87))

MAX_DEPTH = 16  # nesting limit for arrays/structures: random bytes must not recurse deeply

# -- A-XDR data types ----------------------------------------------------------------------------

DATA_TYPE_NAMES: dict[int, str] = {
    0x00: "null",
    0x01: "array",
    0x02: "structure",
    0x03: "bool",
    0x04: "bit-string",
    0x05: "double-long",
    0x06: "double-long-unsigned",
    0x09: "octet-string",
    0x0A: "visible-string",
    0x0C: "UTF8-string",
    0x0F: "integer",
    0x10: "long",
    0x11: "unsigned",
    0x12: "long-unsigned",
    0x14: "long64",
    0x15: "long64-unsigned",
    0x16: "enum",
    0x17: "float32",
    0x18: "float64",
    0x19: "date_time",
    0x1A: "date",
    0x1B: "time",
    0x1C: "date_time_s",
    0x50: "OI",
    0x51: "OAD",
    0x52: "ROAD",
    0x53: "OMD",
    0x54: "TI",
    0x55: "TSA",
    0x56: "MAC",
    0x57: "RN",
    0x59: "Scaler_Unit",
    0x5B: "CSD",
    0x5F: "COMDCB",
    0x60: "RCSD",
}

# tag -> (size in bytes, signed) for the fixed-size integers (big-endian on the wire)
_INTEGERS: dict[int, tuple[int, bool]] = {
    0x05: (4, True),
    0x06: (4, False),
    0x0F: (1, True),
    0x10: (2, True),
    0x11: (1, False),
    0x12: (2, False),
    0x14: (8, True),
    0x15: (8, False),
    0x16: (1, False),
}
_FLOATS = {0x17: ">f", 0x18: ">d"}
_STRINGS = frozenset((0x09, 0x0A, 0x0C, 0x55, 0x56, 0x57))
_HEX_FIXED = {0x50: 2, 0x51: 4, 0x53: 4, 0x5F: 5}  # values shown as hex digits


@dataclass(frozen=True)
class Data:
    """One A-XDR Data value: its type tag and a Python value.

    Values: int, bool, float, None, bytes (octet-string, TSA, MAC, RN), str (visible/UTF8
    strings; hex digits for OI, OAD, OMD, COMDCB), tuple of Data (array, structure), datetime/
    date/time (raw bytes when a field is out of range, e.g. FFH "not specified"), dict (ROAD, TI,
    Scaler_Unit, CSD), tuple of dicts (RCSD), tuple (bits, bytes) for bit-string.
    """

    tag: int
    value: Any

    @property
    def type_name(self) -> str:
        return DATA_TYPE_NAMES.get(self.tag, f"type {self.tag:02X}H")

    def plain(self) -> Any:
        """JSON-ready form: octet-strings as hex digits, dates as ISO text, lists for sequences."""
        return _plain(self.value)


def _plain(value: Any) -> Any:
    if isinstance(value, Data):
        return value.plain()
    if isinstance(value, bytes | bytearray):
        return to_hex(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _Reader:
    """Cursor over an APDU; every read checks the bounds and raises DecodeError when short."""

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = bytes(buf)
        self.pos = pos

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if n > self.remaining:
            raise DecodeError(
                f"APDU truncated in {what}: {n} bytes needed at offset {self.pos},"
                f" {self.remaining} left"
            )
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def uint(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "big")

    def length(self, what: str) -> int:
        """A-XDR length: one byte below 80H, else 8nH followed by n length bytes."""
        first = self.byte(what)
        if first < 0x80:
            return first
        n = first & 0x7F
        if not 1 <= n <= 4:
            raise DecodeError(f"bad A-XDR length prefix {first:02X}H in {what}")
        return self.uint(n, what)

    def optional_flag(self, what: str) -> bool:
        """An OPTIONAL marker (00 absent, 01 present); a missing trailing marker reads as absent."""
        if self.remaining == 0:
            return False
        flag = self.byte(what)
        if flag > 1:
            raise DecodeError(f"{what} flag must be 00 or 01, got {flag:02X}H")
        return flag == 1


def _date_time(raw: bytes) -> datetime | bytes:
    """date_time: year(2) month day weekday hour minute second milliseconds(2)."""
    year = int.from_bytes(raw[0:2], "big")
    ms = int.from_bytes(raw[8:10], "big")
    try:
        return datetime(year, raw[2], raw[3], raw[5], raw[6], raw[7], ms * 1000)
    except ValueError:
        return bytes(raw)


def _date_time_s(raw: bytes) -> datetime | bytes:
    """date_time_s: year(2) month day hour minute second."""
    year = int.from_bytes(raw[0:2], "big")
    try:
        return datetime(year, raw[2], raw[3], raw[4], raw[5], raw[6])
    except ValueError:
        return bytes(raw)


def _date(raw: bytes) -> date | bytes:
    try:
        return date(int.from_bytes(raw[0:2], "big"), raw[2], raw[3])
    except ValueError:
        return bytes(raw)


def _time(raw: bytes) -> time | bytes:
    try:
        return time(raw[0], raw[1], raw[2])
    except ValueError:
        return bytes(raw)


_DATES = {0x19: (10, _date_time), 0x1A: (5, _date), 0x1B: (3, _time), 0x1C: (7, _date_time_s)}


def _read_road(r: _Reader) -> dict[str, Any]:
    oad = to_hex(r.take(4, "ROAD"))
    count = r.length("ROAD")
    if count * 4 > r.remaining:
        raise DecodeError(f"APDU truncated in ROAD: {count} OADs announced")
    return {"oad": oad, "oads": [to_hex(r.take(4, "ROAD")) for _ in range(count)]}


def _read_csd(r: _Reader) -> dict[str, Any]:
    choice = r.byte("CSD")
    if choice == 0:
        return {"oad": to_hex(r.take(4, "CSD"))}
    if choice == 1:
        return {"road": _read_road(r)}
    raise DecodeError(f"CSD choice must be 0 (OAD) or 1 (ROAD), got {choice}")


def _read_data(r: _Reader, depth: int) -> Data:
    tag = r.byte("data type")
    if tag == 0x00:
        return Data(tag, None)
    if tag in (0x01, 0x02):
        if depth >= MAX_DEPTH:
            raise DecodeError(f"data nested deeper than {MAX_DEPTH} levels")
        count = r.length(DATA_TYPE_NAMES[tag])
        if count > r.remaining:
            raise DecodeError(f"APDU truncated: {DATA_TYPE_NAMES[tag]} of {count} items")
        return Data(tag, tuple(_read_data(r, depth + 1) for _ in range(count)))
    if tag == 0x03:
        return Data(tag, r.byte("bool") != 0)
    if tag in _INTEGERS:
        size, signed = _INTEGERS[tag]
        raw = r.take(size, DATA_TYPE_NAMES[tag])
        return Data(tag, int.from_bytes(raw, "big", signed=signed))
    if tag in _FLOATS:
        fmt = _FLOATS[tag]
        return Data(tag, struct.unpack(fmt, r.take(struct.calcsize(fmt), "float"))[0])
    if tag in _STRINGS:
        raw = r.take(r.length(DATA_TYPE_NAMES[tag]), DATA_TYPE_NAMES[tag])
        if tag == 0x0A:
            return Data(tag, raw.decode("latin-1"))
        if tag == 0x0C:
            return Data(tag, raw.decode("utf-8", errors="replace"))
        return Data(tag, raw)
    if tag == 0x04:
        bits = r.length("bit-string")
        return Data(tag, (bits, r.take((bits + 7) // 8, "bit-string")))
    if tag in _DATES:
        size, convert = _DATES[tag]
        return Data(tag, convert(r.take(size, DATA_TYPE_NAMES[tag])))
    if tag in _HEX_FIXED:
        return Data(tag, to_hex(r.take(_HEX_FIXED[tag], DATA_TYPE_NAMES[tag])))
    if tag == 0x52:
        return Data(tag, _read_road(r))
    if tag == 0x54:
        unit = r.byte("TI")
        return Data(tag, {"unit": unit, "interval": r.uint(2, "TI")})
    if tag == 0x59:
        scaler = int.from_bytes(r.take(1, "Scaler_Unit"), "big", signed=True)
        return Data(tag, {"scaler": scaler, "unit": r.byte("Scaler_Unit")})
    if tag == 0x5B:
        return Data(tag, _read_csd(r))
    if tag == 0x60:
        count = r.length("RCSD")
        if count > r.remaining:
            raise DecodeError(f"APDU truncated: RCSD of {count} items")
        return Data(tag, tuple(_read_csd(r) for _ in range(count)))
    raise DecodeError(f"data type {tag:02X}H not supported")


def read_data(buf: bytes, pos: int = 0) -> tuple[Data, int]:
    """One Data value (type tag first) at buf[pos]; returns it and the offset after it."""
    r = _Reader(buf, pos)
    value = _read_data(r, 0)
    return value, r.pos


# -- data encoding (for requests, simulators and round-trip tests) -------------------------------


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def encode_data(data: Data) -> bytes:
    """Data -> A-XDR bytes (type tag first), for requests and simulated meters.

    Covers null, array, structure, bool, the integers, floats, strings, OI/OAD/OMD/COMDCB and
    the date types (a raw-bytes date value is sent as it is); others raise EncodeError.
    """
    tag, value = data.tag, data.value
    head = bytes((tag,))
    if tag == 0x00:
        return head
    if tag in (0x01, 0x02):
        return head + _encode_length(len(value)) + b"".join(encode_data(v) for v in value)
    if tag == 0x03:
        return head + bytes((1 if value else 0,))
    if tag in _INTEGERS:
        size, signed = _INTEGERS[tag]
        try:
            return head + int(value).to_bytes(size, "big", signed=signed)
        except OverflowError:
            raise EncodeError(f"{value!r} does not fit a {DATA_TYPE_NAMES[tag]}") from None
    if tag in _FLOATS:
        return head + struct.pack(_FLOATS[tag], value)
    if tag in _STRINGS:
        if tag == 0x0A:
            raw = value.encode("latin-1")
        elif tag == 0x0C:
            raw = value.encode("utf-8")
        else:
            raw = bytes(value)
        return head + _encode_length(len(raw)) + raw
    if tag in _HEX_FIXED:
        raw = bytes.fromhex(value)
        if len(raw) != _HEX_FIXED[tag]:
            raise EncodeError(f"{DATA_TYPE_NAMES[tag]} must be {_HEX_FIXED[tag]} bytes: {value}")
        return head + raw
    if tag in _DATES:
        size, _convert = _DATES[tag]
        if isinstance(value, bytes | bytearray):
            raw = bytes(value)
        elif tag == 0x1C:
            raw = value.year.to_bytes(2, "big") + bytes(
                (value.month, value.day, value.hour, value.minute, value.second)
            )
        elif tag == 0x19:
            raw = (
                value.year.to_bytes(2, "big")
                + bytes((value.month, value.day, (value.isoweekday() % 7)))
                + bytes((value.hour, value.minute, value.second))
                + (value.microsecond // 1000).to_bytes(2, "big")
            )
        elif tag == 0x1A:
            raw = value.year.to_bytes(2, "big") + bytes(
                (value.month, value.day, value.isoweekday() % 7)
            )
        else:
            raw = bytes((value.hour, value.minute, value.second))
        if len(raw) != size:
            raise EncodeError(f"{DATA_TYPE_NAMES[tag]} must be {size} bytes")
        return head + raw
    raise EncodeError(f"encoding data type {tag:02X}H is not supported")


# -- APDU model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GetRequestNormal:
    """``05 01 PIID OAD 00``: read one attribute."""

    piid: int
    oad: str  # 8 hex digits: OI, attribute, index
    time_tag: bytes | None = None
    name: str = "GET-Request-Normal"


@dataclass(frozen=True)
class GetResponseNormal:
    """``85 01 PIID-ACD OAD`` + result: Data on success, DAR on failure."""

    piid_acd: int
    oad: str
    data: Data | None
    dar: int | None
    follow_report: bool = False
    time_tag: bytes | None = None
    name: str = "GET-Response-Normal"


@dataclass(frozen=True)
class ActionRequestNormal:
    """``07 01 PIID OMD Data``: call one method with its parameter."""

    piid: int
    omd: str  # 8 hex digits: OI, method, mode
    parameter: Data
    time_tag: bytes | None = None
    name: str = "ACTION-Request-Normal"


@dataclass(frozen=True)
class ActionResponseNormal:
    """``87 01 PIID-ACD OMD DAR`` + optional return Data."""

    piid_acd: int
    omd: str
    dar: int
    data: Data | None
    name: str = "ACTION-Response-Normal"


@dataclass(frozen=True)
class LinkRequest:
    """Server-started link management: login, heartbeat or logout, with the server's clock."""

    piid_acd: int
    request_type: int
    heartbeat: int  # seconds
    time: datetime | bytes
    name: str = "LINK-Request"

    @property
    def request_type_name(self) -> str:
        return LINK_REQUEST_TYPES.get(self.request_type, f"type {self.request_type}")


@dataclass(frozen=True)
class LinkResponse:
    """The client's answer to a LINK-Request: result and three timestamps."""

    piid: int
    result: int
    request_time: datetime | bytes
    received_time: datetime | bytes
    response_time: datetime | bytes
    name: str = "LINK-Response"


@dataclass(frozen=True)
class OtherApdu:
    """An APDU this reader names but does not decode."""

    tag: int
    choice: int | None
    name: str


Apdu = (
    GetRequestNormal
    | GetResponseNormal
    | ActionRequestNormal
    | ActionResponseNormal
    | LinkRequest
    | LinkResponse
    | OtherApdu
)


def _time_tag(r: _Reader) -> bytes | None:
    """TimeTag OPTIONAL: date_time_s (7) + TI (3) when present."""
    if r.optional_flag("time tag"):
        return r.take(10, "time tag")
    return None


def _check_end(r: _Reader, name: str) -> None:
    if r.remaining:
        raise DecodeError(f"{r.remaining} unexpected bytes after the {name} APDU")


def parse_apdu(apdu: bytes) -> Any:
    """Decode an APDU; unknown tags and choices come back as OtherApdu, bad bytes raise."""
    r = _Reader(apdu)
    tag = r.byte("APDU tag")
    base = APDU_NAMES.get(tag, f"APDU {tag:02X}H")
    if tag == LINK_REQUEST:
        result: Apdu = LinkRequest(
            r.byte("PIID-ACD"),
            r.byte("request type"),
            r.uint(2, "heartbeat period"),
            _date_time(r.take(10, "date_time")),
        )
        _check_end(r, result.name)
        return result
    if tag == LINK_RESPONSE:
        result = LinkResponse(
            r.byte("PIID"),
            r.byte("result"),
            _date_time(r.take(10, "request time")),
            _date_time(r.take(10, "received time")),
            _date_time(r.take(10, "response time")),
        )
        _check_end(r, result.name)
        return result
    if tag not in _WITH_CHOICE or r.remaining < 1 or apdu[1] != NORMAL or tag in (0x06, 0x86):
        from meterproto.dlt698 import security, services  # they build on this module

        parsed = security.parse_security(apdu) if tag in (0x10, 0x90) else None
        if parsed is None:
            parsed = services.parse_service(apdu)
        if parsed is not None:
            return parsed
        if tag not in _WITH_CHOICE:
            return OtherApdu(tag, None, base)
    choice = r.byte("APDU choice")
    if choice != NORMAL or tag not in (GET_REQUEST, GET_RESPONSE, ACTION_REQUEST, ACTION_RESPONSE):
        return OtherApdu(tag, choice, f"{base} (choice {choice})")
    if tag == GET_REQUEST:
        piid = r.byte("PIID")
        oad = to_hex(r.take(4, "OAD"))
        result = GetRequestNormal(piid, oad, _time_tag(r))
    elif tag == GET_RESPONSE:
        piid = r.byte("PIID-ACD")
        oad = to_hex(r.take(4, "OAD"))
        kind = r.byte("Get-Result")
        data = dar = None
        if kind == 1:
            data = _read_data(r, 0)
        elif kind == 0:
            dar = r.byte("DAR")
        else:
            raise DecodeError(f"Get-Result choice must be 0 (DAR) or 1 (Data), got {kind}")
        follow = r.optional_flag("follow report")
        if follow:  # FollowReport layout not decoded; keep what we have
            return GetResponseNormal(piid, oad, data, dar, True, None)
        result = GetResponseNormal(piid, oad, data, dar, False, _time_tag(r))
    elif tag == ACTION_REQUEST:
        piid = r.byte("PIID")
        omd = to_hex(r.take(4, "OMD"))
        parameter = _read_data(r, 0)
        result = ActionRequestNormal(piid, omd, parameter, _time_tag(r))
    else:
        piid = r.byte("PIID-ACD")
        omd = to_hex(r.take(4, "OMD"))
        dar = r.byte("DAR")
        data = _read_data(r, 0) if r.optional_flag("return data") else None
        follow = r.optional_flag("follow report")
        if not follow:
            _time_tag(r)
        result = ActionResponseNormal(piid, omd, dar, data)
        if follow:
            return result
    _check_end(r, result.name)
    return result


# -- builders ------------------------------------------------------------------------------------


def _oad_bytes(oad: str | int, what: str = "OAD") -> bytes:
    if isinstance(oad, int):
        if not 0 <= oad <= 0xFFFFFFFF:
            raise EncodeError(f"{what} out of range: {oad!r}")
        return oad.to_bytes(4, "big")
    try:
        raw = bytes.fromhex(oad)
    except ValueError:
        raise EncodeError(f"{what} must be 8 hex digits: {oad!r}") from None
    if len(raw) != 4:
        raise EncodeError(f"{what} must be 8 hex digits: {oad!r}")
    return raw


def _piid(piid: int) -> bytes:
    if not 0 <= piid <= 0xFF:
        raise EncodeError(f"PIID must be 0..255: {piid!r}")
    return bytes((piid,))


def get_request_normal(oad: str | int, piid: int = 1) -> bytes:
    """APDU ``05 01 PIID OAD 00`` (no time tag)."""
    return bytes((GET_REQUEST, NORMAL)) + _piid(piid) + _oad_bytes(oad) + b"\x00"


def get_response_normal(
    oad: str | int, data: Data | None = None, piid: int = 1, dar: int | None = None
) -> bytes:
    """APDU ``85 01 PIID-ACD OAD`` + (``01`` Data | ``00`` DAR) + no follow report, no time tag."""
    head = bytes((GET_RESPONSE, NORMAL)) + _piid(piid) + _oad_bytes(oad)
    if data is not None:
        body = b"\x01" + encode_data(data)
    elif dar is not None:
        body = b"\x00" + bytes((dar,))
    else:
        raise EncodeError("a GET response needs either data or a DAR")
    return head + body + b"\x00\x00"


def action_request_normal(omd: str | int, parameter: Data, piid: int = 1) -> bytes:
    """APDU ``07 01 PIID OMD Data 00`` (no time tag)."""
    return (
        bytes((ACTION_REQUEST, NORMAL))
        + _piid(piid)
        + _oad_bytes(omd, "OMD")
        + encode_data(parameter)
        + b"\x00"
    )


def get_request_frame(
    address: str | bytes, oad: str | int, piid: int = 1, ca: int = 0, address_type: int = 0
) -> Frame:
    """A client request frame (C = 43H) carrying GET-Request-Normal; address as digits or bytes."""
    sa = address_from_text(address) if isinstance(address, str) else bytes(address)
    return Frame(sa, PRM_CLIENT | FN_USER_DATA, get_request_normal(oad, piid), ca, address_type)


# -- describe ------------------------------------------------------------------------------------


def describe(frame: Frame) -> dict[str, Any]:
    """JSON-ready fields for a command-line decoder (``meterbench decode``).

    ``data_hex`` is the APDU. Never raises for a frame that passed its CRCs: an APDU that cannot
    be decoded is reported in ``error`` and the link fields are still printed.
    """
    out: dict[str, Any] = {
        "protocol": "dlt698",
        "valid": True,
        "length": frame.length,
        "address": frame.address_text,
        "control": frame.control,
        "direction": frame.direction,
        "function": frame.function,
        "dir": frame.dir,
        "prm": frame.prm,
        "fragment": frame.fragment,
        "sc": frame.sc,
        "af": frame.af,
        "sa_length": frame.sa_length,
        "address_type": ADDRESS_TYPE_NAMES[frame.address_type & 3],
        "logical_address": frame.logical_address,
        "ca": frame.ca,
        "data_hex": to_hex(frame.apdu),
    }
    if frame.sc:
        out["error"] = "scrambled APDU (SC = 1) is not supported"
        return out
    if frame.fragment:
        from meterproto.dlt698 import fragment

        try:
            piece = fragment.parse_fragment(frame.apdu)
        except DecodeError as exc:
            out["error"] = str(exc)
            return out
        out["fragment_number"] = piece.number
        out["fragment_kind"] = piece.kind_name
        return out
    if not frame.apdu:
        return out
    try:
        apdu = parse_apdu(frame.apdu)
    except DecodeError as exc:
        tag = frame.apdu[0]
        out["name"] = APDU_NAMES.get(tag, f"APDU {tag:02X}H")
        out["error"] = str(exc)
        return out
    out["name"] = apdu.name
    _describe_apdu(apdu, out)
    return out


def _describe_apdu(apdu: Any, out: dict[str, Any]) -> None:
    """The fields of any parsed APDU, for ``describe``; SECURITY envelopes show their inner APDU."""
    for key in ("piid", "piid_acd", "oad", "omd", "dar", "result"):
        value = getattr(apdu, key, None)
        if isinstance(value, int | str) and not isinstance(value, bool):
            out[key] = value
    if apdu.name == "ERROR-Response":
        out["error_type"] = apdu.error
    if isinstance(apdu, ActionRequestNormal):
        out["parameter"] = apdu.parameter.plain()
    data = getattr(apdu, "data", None)
    if isinstance(data, Data):
        out["value"] = data.plain()
        out["data_type"] = data.type_name
    oads = getattr(apdu, "oads", None)
    if oads is not None and not callable(oads):
        out["oads"] = list(oads)
    results = getattr(apdu, "results", None)
    if isinstance(results, tuple):
        out["results"] = [_plain(getattr(r, "__dict__", r)) for r in results]
    security = getattr(apdu, "name", "").startswith("SECURITY")
    if security and getattr(apdu, "mode", None) == 0 and isinstance(data, bytes):
        try:
            inner = parse_apdu(data)
        except DecodeError as exc:
            out["inner_error"] = str(exc)
            return
        out["inner"] = {"name": inner.name}
        _describe_apdu(inner, out["inner"])
    if isinstance(apdu, LinkRequest):
        out["request_type"] = apdu.request_type_name
        out["heartbeat"] = apdu.heartbeat
        out["datetime"] = _plain(apdu.time)
