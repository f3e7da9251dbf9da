"""DL/T 698.45 application services beyond GET/ACTION-Normal: builders and parsers. Host-only.

CONNECT, RELEASE, GET (normal list, record), SET (normal, normal list), ACTION (normal list),
REPORT (notification and response), ERROR-Response and the LINK builders. Each APDU is a frozen
dataclass; ``encode_apdu`` turns one into bytes and ``apdu.parse_apdu`` turns bytes back into
the same value, so every builder is also checked by its parser. Bad bytes raise
:class:`~meterproto.dlt645.frame.DecodeError`, impossible values
:class:`~meterproto.dlt645.frame.EncodeError`, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from meterproto.compat import to_hex
from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698 import apdu as ap
from meterproto.dlt698 import security
from meterproto.dlt698.apdu import Data, _Reader

CONNECT_REQUEST = 0x02
CONNECT_RESPONSE = 0x82
RELEASE_REQUEST = 0x03
RELEASE_RESPONSE = 0x83
SET_REQUEST = 0x06
SET_RESPONSE = 0x86
REPORT_RESPONSE = 0x08
REPORT_NOTIFICATION = 0x88
ERROR_RESPONSE = 0xEE

NORMAL_LIST = 0x02
RECORD = 0x03
NEXT = 0x05

# DAR: the result code of every access (0 = success)
DAR_NAMES: dict[int, str] = {
    0: "success",
    1: "hardware failure",
    2: "temporary failure",
    3: "read/write denied",
    4: "object undefined",
    5: "object class inconsistent",
    6: "object does not exist",
    7: "type mismatch",
    8: "out of range",
    9: "data block unavailable",
    10: "fragmented transfer cancelled",
    11: "not in fragmented transfer",
    12: "block write cancelled",
    13: "no block write state",
    14: "invalid data block number",
    15: "password wrong or not authorised",
    16: "baud rate cannot be changed",
    17: "year time zones exceeded",
    18: "daily time periods exceeded",
    19: "tariffs exceeded",
    20: "security authentication mismatch",
    21: "repeated top-up",
    22: "ESAM verification failed",
    23: "security authentication failed",
    24: "customer number mismatch",
    25: "top-up count error",
    26: "purchase exceeds hoarding limit",
    27: "address exception",
    28: "symmetric decryption error",
    29: "asymmetric decryption error",
    30: "signature error",
    31: "meter suspended",
    32: "time tag invalid",
    33: "request timed out",
    34: "ESAM P1P2 incorrect",
    35: "ESAM Lc error",
    255: "other",
}


def dar_name(dar: int) -> str:
    return DAR_NAMES.get(dar, f"DAR {dar}")


# Default conformance blocks: every protocol service bit, no function claims
PROTOCOL_CONFORMANCE_ALL = bytes.fromhex("fffffffffffffffe")
FUNCTION_CONFORMANCE_NONE = bytes(16)


# -- small helpers -------------------------------------------------------------------------------


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise EncodeError(f"{what} must be 0..255: {value!r}")
    return bytes((value,))


def _uint(value: int, size: int, what: str) -> bytes:
    try:
        return int(value).to_bytes(size, "big")
    except OverflowError:
        raise EncodeError(f"{what} does not fit {size} bytes: {value!r}") from None


def _four(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except (ValueError, TypeError):
        raise EncodeError(f"{what} must be 8 hex digits: {text!r}") from None
    if len(raw) != 4:
        raise EncodeError(f"{what} must be 8 hex digits: {text!r}")
    return raw


def _count(n: int) -> bytes:
    return ap._encode_length(n)


def _octets(raw: bytes) -> bytes:
    return _count(len(raw)) + bytes(raw)


def _read_octets(r: _Reader, what: str) -> bytes:
    return r.take(r.length(what), what)


def _read_count(r: _Reader, what: str, item_size: int = 1) -> int:
    n = r.length(what)
    if n * item_size > r.remaining:
        raise DecodeError(f"APDU truncated: {what} announces {n} items")
    return n


def _time_tag(tag: bytes | None) -> bytes:
    if tag is None:
        return b"\x00"
    if len(tag) != 10:
        raise EncodeError("a time tag is date_time_s (7) + TI (3) = 10 bytes")
    return b"\x01" + bytes(tag)


def _read_time_tag(r: _Reader) -> bytes | None:
    return ap._time_tag(r)


def _end(r: _Reader, name: str) -> None:
    ap._check_end(r, name)


def date_time_bytes(when: datetime) -> bytes:
    """date_time (10 bytes) as LINK APDUs carry it: the weekday is 0 for Sunday."""
    return ap.encode_data(Data(0x19, when))[1:]


def _read_date_time(r: _Reader, what: str) -> datetime | bytes:
    return ap._date_time(r.take(10, what))


def _dt_raw(value: datetime | bytes) -> bytes:
    if isinstance(value, bytes | bytearray):
        if len(value) != 10:
            raise EncodeError("a date_time is 10 bytes")
        return bytes(value)
    return date_time_bytes(value)


# -- A-ResultNormal / A-ResultRecord / RCSD / RSD -------------------------------------------------


@dataclass(frozen=True)
class ResultNormal:
    """One attribute's outcome: its OAD and Data, or a DAR."""

    oad: str
    data: Data | None = None
    dar: int | None = None


def _encode_result_normal(item: ResultNormal) -> bytes:
    head = _four(item.oad, "OAD")
    if item.data is not None:
        return head + b"\x01" + ap.encode_data(item.data)
    if item.dar is None:
        raise EncodeError(f"result for {item.oad} needs data or a DAR")
    return head + b"\x00" + _u8(item.dar, "DAR")


def _read_result_normal(r: _Reader) -> ResultNormal:
    oad = to_hex(r.take(4, "OAD"))
    kind = r.byte("Get-Result")
    if kind == 1:
        return ResultNormal(oad, ap._read_data(r, 0), None)
    if kind == 0:
        return ResultNormal(oad, None, r.byte("DAR"))
    raise DecodeError(f"Get-Result choice must be 0 (DAR) or 1 (Data), got {kind}")


@dataclass(frozen=True)
class Csd:
    """A column: an OAD, or a ROAD (record OAD plus the OADs of its columns)."""

    oad: str
    columns: tuple[str, ...] | None = None  # set: a ROAD


def _encode_csd(csd: Csd) -> bytes:
    if csd.columns is None:
        return b"\x00" + _four(csd.oad, "OAD")
    out = b"\x01" + _four(csd.oad, "ROAD") + _count(len(csd.columns))
    return out + b"".join(_four(c, "OAD") for c in csd.columns)


def _read_csd(r: _Reader) -> Csd:
    choice = r.byte("CSD")
    if choice == 0:
        return Csd(to_hex(r.take(4, "CSD")))
    if choice == 1:
        oad = to_hex(r.take(4, "ROAD"))
        n = _read_count(r, "ROAD", 4)
        return Csd(oad, tuple(to_hex(r.take(4, "ROAD")) for _ in range(n)))
    raise DecodeError(f"CSD choice must be 0 (OAD) or 1 (ROAD), got {choice}")


def _encode_rcsd(columns: tuple[Csd, ...]) -> bytes:
    return _count(len(columns)) + b"".join(_encode_csd(c) for c in columns)


def _read_rcsd(r: _Reader) -> tuple[Csd, ...]:
    n = _read_count(r, "RCSD", 5)
    return tuple(_read_csd(r) for _ in range(n))


@dataclass(frozen=True)
class Rsd:
    """Row selector. ``selector`` 0 none, 1 one value of a column (``oad``, ``values[0]``),
    2 a column range (``oad``; start, end, interval), 9 the n-th last record (``last``).
    Selectors 4-8 and 10 with the all-meters MS are kept as raw parameters."""

    selector: int
    oad: str | None = None
    values: tuple[Data, ...] = ()
    last: int | None = None
    raw: bytes = b""


def _encode_rsd(rsd: Rsd) -> bytes:
    head = _u8(rsd.selector, "RSD selector")
    if rsd.selector == 0:
        return head
    if rsd.selector in (1, 2):
        if rsd.oad is None or len(rsd.values) != (1 if rsd.selector == 1 else 3):
            raise EncodeError(f"RSD selector {rsd.selector} needs an OAD and its values")
        return head + _four(rsd.oad, "OAD") + b"".join(ap.encode_data(v) for v in rsd.values)
    if rsd.selector == 9:
        return head + _u8(rsd.last or 0, "last record number")
    if rsd.selector in _RSD_RAW:
        if len(rsd.raw) != _RSD_RAW[rsd.selector]:
            raise EncodeError(f"RSD selector {rsd.selector} takes {_RSD_RAW[rsd.selector]} bytes")
        return head + rsd.raw
    raise EncodeError(f"RSD selector {rsd.selector} is not supported")


# selector -> bytes of its parameters when MS is 01H (all meters): times (7) / TI (3) / n (1)
_RSD_RAW = {4: 7 + 1, 5: 7 + 1, 6: 7 + 7 + 3 + 1, 7: 7 + 7 + 3 + 1, 8: 7 + 7 + 3 + 1, 10: 1 + 1}


def _read_rsd(r: _Reader) -> Rsd:
    selector = r.byte("RSD")
    if selector == 0:
        return Rsd(0)
    if selector in (1, 2):
        oad = to_hex(r.take(4, "RSD"))
        n = 1 if selector == 1 else 3
        return Rsd(selector, oad, tuple(ap._read_data(r, 0) for _ in range(n)))
    if selector == 9:
        return Rsd(9, last=r.byte("RSD"))
    if selector in _RSD_RAW:
        raw = r.take(_RSD_RAW[selector], "RSD")
        if raw[-1] not in (0, 1) and selector != 10:
            raise DecodeError("RSD meter set (MS) other than none/all is not supported")
        if selector == 10 and raw[1] not in (0, 1):
            raise DecodeError("RSD meter set (MS) other than none/all is not supported")
        return Rsd(selector, raw=raw)
    raise DecodeError(f"RSD selector {selector} not supported")


@dataclass(frozen=True)
class ResultRecord:
    """Records of one record OAD: the columns and the rows (each a tuple of Data), or a DAR."""

    oad: str
    columns: tuple[Csd, ...]
    rows: tuple[tuple[Data, ...], ...] | None = None
    dar: int | None = None


def _encode_result_record(item: ResultRecord) -> bytes:
    out = _four(item.oad, "OAD") + _encode_rcsd(item.columns)
    if item.rows is None:
        if item.dar is None:
            raise EncodeError("a record result needs rows or a DAR")
        return out + b"\x00" + _u8(item.dar, "DAR")
    out += b"\x01" + _count(len(item.rows))
    for row in item.rows:
        if len(row) != len(item.columns):
            raise EncodeError("every record row has one value per column")
        out += b"".join(ap.encode_data(v) for v in row)
    return out


def _read_result_record(r: _Reader) -> ResultRecord:
    oad = to_hex(r.take(4, "OAD"))
    columns = _read_rcsd(r)
    kind = r.byte("record result")
    if kind == 0:
        return ResultRecord(oad, columns, None, r.byte("DAR"))
    if kind != 1:
        raise DecodeError(f"record result choice must be 0 (DAR) or 1 (records), got {kind}")
    n = _read_count(r, "records", max(1, len(columns)))
    rows = tuple(tuple(ap._read_data(r, 0) for _ in columns) for _ in range(n))
    return ResultRecord(oad, columns, rows)


@dataclass(frozen=True)
class FollowReport:
    """Data the server adds to a response without being asked (events since the last read)."""

    normal: tuple[ResultNormal, ...] = ()
    records: tuple[ResultRecord, ...] = ()


def _encode_follow(follow: FollowReport | None) -> bytes:
    if follow is None:
        return b"\x00"
    if follow.records:
        items = b"".join(_encode_result_record(x) for x in follow.records)
        return b"\x01\x02" + _count(len(follow.records)) + items
    items = b"".join(_encode_result_normal(x) for x in follow.normal)
    return b"\x01\x01" + _count(len(follow.normal)) + items


def _read_follow(r: _Reader) -> FollowReport | None:
    if not r.optional_flag("follow report"):
        return None
    choice = r.byte("follow report")
    if choice == 1:
        n = _read_count(r, "follow report", 6)
        return FollowReport(normal=tuple(_read_result_normal(r) for _ in range(n)))
    if choice == 2:
        n = _read_count(r, "follow report", 7)
        return FollowReport(records=tuple(_read_result_record(r) for _ in range(n)))
    raise DecodeError(f"follow report choice must be 1 or 2, got {choice}")


def _trailer(r: _Reader, name: str) -> tuple[FollowReport | None, bytes | None]:
    """FollowReport OPTIONAL, TimeTag OPTIONAL; missing trailing flags read as absent."""
    follow = _read_follow(r)
    tag = _read_time_tag(r)
    _end(r, name)
    return follow, tag


# -- LINK builders -------------------------------------------------------------------------------


def link_request(
    request_type: int, heartbeat: int, when: datetime | bytes, piid_acd: int = 0
) -> bytes:
    """LINK-Request (server -> client): login 0, heartbeat 1, logout 2."""
    return (
        bytes((ap.LINK_REQUEST,))
        + _u8(piid_acd, "PIID-ACD")
        + _u8(request_type, "request type")
        + _uint(heartbeat, 2, "heartbeat period")
        + _dt_raw(when)
    )


def link_response(
    piid: int,
    result: int,
    request_time: datetime | bytes,
    received_time: datetime | bytes,
    response_time: datetime | bytes,
) -> bytes:
    """LINK-Response (client -> server). ``result`` bit 7: the client's clock is trustworthy."""
    return (
        bytes((ap.LINK_RESPONSE,))
        + _u8(piid, "PIID")
        + _u8(result, "result")
        + _dt_raw(request_time)
        + _dt_raw(received_time)
        + _dt_raw(response_time)
    )


# -- CONNECT -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectParameters:
    """What both sides announce: protocol version, conformance blocks and the sizes that decide
    link-layer fragmentation (``send_frame``/``receive_frame``, bytes of APDU per frame)."""

    version: int = 0x0010  # the protocol version meters and PyPI dlt698 announce
    protocol_conformance: bytes = PROTOCOL_CONFORMANCE_ALL
    function_conformance: bytes = FUNCTION_CONFORMANCE_NONE
    send_frame: int = 1024
    receive_frame: int = 1024
    window: int = 1
    max_apdu: int = 2048
    timeout: int = 7200  # seconds the application connection stays open


def _encode_parameters(p: ConnectParameters, with_timeout: bool = True) -> bytes:
    if len(p.protocol_conformance) != 8 or len(p.function_conformance) != 16:
        raise EncodeError("conformance blocks are 8 and 16 bytes")
    out = (
        _uint(p.version, 2, "version")
        + bytes(p.protocol_conformance)
        + bytes(p.function_conformance)
        + _uint(p.send_frame, 2, "send frame size")
        + _uint(p.receive_frame, 2, "receive frame size")
        + _u8(p.window, "window")
        + _uint(p.max_apdu, 2, "APDU size")
    )
    return out + _uint(p.timeout, 4, "timeout") if with_timeout else out


def _read_parameters(r: _Reader) -> ConnectParameters:
    return ConnectParameters(
        r.uint(2, "version"),
        r.take(8, "protocol conformance"),
        r.take(16, "function conformance"),
        r.uint(2, "send frame size"),
        r.uint(2, "receive frame size"),
        r.byte("window"),
        r.uint(2, "APDU size"),
        r.uint(4, "timeout"),
    )


@dataclass(frozen=True)
class ConnectRequest:
    """Open an application connection. ``mechanism`` 0 none, 1 password (``password``),
    2 symmetric and 3 signature (``cipher`` and ``signature``, from a security module)."""

    piid: int = 0
    parameters: ConnectParameters = ConnectParameters()
    mechanism: int = 0
    password: str = ""
    cipher: bytes = b""
    signature: bytes = b""
    time_tag: bytes | None = None
    name: str = "CONNECT-Request"


@dataclass(frozen=True)
class FactoryVersion:
    """The server's identity in CONNECT-Response (fixed-size visible strings)."""

    manufacturer: str = "0000"
    software_version: str = "0000"
    software_date: str = "000000"
    hardware_version: str = "0000"
    hardware_date: str = "000000"
    extension: str = "00000000"


_FACTORY_SIZES = (4, 4, 6, 4, 6, 8)


def _fixed_text(text: str, size: int, what: str) -> bytes:
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raise EncodeError(f"{what} must be Latin-1 text") from None
    if len(raw) != size:
        raise EncodeError(f"{what} is {size} characters: {text!r}")
    return raw


@dataclass(frozen=True)
class ConnectResponse:
    """``result`` 0 accepted, 1 password wrong, 2 symmetric decryption error, 3 asymmetric
    decryption error, 4 signature error, 5 version mismatch, 255 other."""

    piid_acd: int = 0
    factory: FactoryVersion = FactoryVersion()
    parameters: ConnectParameters = ConnectParameters()
    result: int = 0
    random: bytes | None = None  # SecurityData: server RN and signature
    signature: bytes = b""
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "CONNECT-Response"


def _encode_connect_request(a: ConnectRequest) -> bytes:
    out = bytes((CONNECT_REQUEST,)) + _u8(a.piid, "PIID") + _encode_parameters(a.parameters)
    out += _u8(a.mechanism, "connect mechanism")
    if a.mechanism == 1:
        try:
            out += _octets(a.password.encode("latin-1"))
        except UnicodeEncodeError:
            raise EncodeError("a connect password is Latin-1 text") from None
    elif a.mechanism in (2, 3):
        out += _octets(a.cipher) + _octets(a.signature)
    elif a.mechanism != 0:
        raise EncodeError(f"connect mechanism must be 0..3: {a.mechanism}")
    return out + _time_tag(a.time_tag)


def _read_connect_request(r: _Reader) -> ConnectRequest:
    piid = r.byte("PIID")
    parameters = _read_parameters(r)
    mechanism = r.byte("connect mechanism")
    password, cipher, signature = "", b"", b""
    if mechanism == 1:
        password = _read_octets(r, "password").decode("latin-1")
    elif mechanism in (2, 3):
        cipher = _read_octets(r, "cipher")
        signature = _read_octets(r, "signature")
    elif mechanism != 0:
        raise DecodeError(f"connect mechanism must be 0..3, got {mechanism}")
    tag = _read_time_tag(r)
    result = ConnectRequest(piid, parameters, mechanism, password, cipher, signature, tag)
    _end(r, result.name)
    return result


def _encode_connect_response(a: ConnectResponse) -> bytes:
    f = a.factory
    texts = (
        f.manufacturer,
        f.software_version,
        f.software_date,
        f.hardware_version,
        f.hardware_date,
        f.extension,
    )
    out = bytes((CONNECT_RESPONSE,)) + _u8(a.piid_acd, "PIID-ACD")
    fixed = zip(texts, _FACTORY_SIZES, strict=True)
    out += b"".join(_fixed_text(t, n, "factory version") for t, n in fixed)
    out += _encode_parameters(a.parameters) + _u8(a.result, "connect result")
    if a.random is None:
        out += b"\x00"
    else:
        out += b"\x01" + _octets(a.random) + _octets(a.signature)
    return out + _encode_follow(a.follow) + _time_tag(a.time_tag)


def _read_connect_response(r: _Reader) -> ConnectResponse:
    piid = r.byte("PIID-ACD")
    texts = [r.take(n, "factory version").decode("latin-1") for n in _FACTORY_SIZES]
    factory = FactoryVersion(*texts)
    parameters = _read_parameters(r)
    result = r.byte("connect result")
    random, signature = None, b""
    if r.optional_flag("security data"):
        random = _read_octets(r, "server random")
        signature = _read_octets(r, "server signature")
    follow, tag = _trailer(r, "CONNECT-Response")
    return ConnectResponse(piid, factory, parameters, result, random, signature, follow, tag)


# -- RELEASE -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseRequest:
    piid: int = 0
    time_tag: bytes | None = None
    name: str = "RELEASE-Request"


@dataclass(frozen=True)
class ReleaseResponse:
    piid_acd: int = 0
    result: int = 0
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "RELEASE-Response"


# -- GET -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GetRequestNormalList:
    piid: int
    oads: tuple[str, ...]
    time_tag: bytes | None = None
    name: str = "GET-Request-NormalList"


@dataclass(frozen=True)
class GetRequestRecord:
    piid: int
    oad: str
    rsd: Rsd
    columns: tuple[Csd, ...]
    time_tag: bytes | None = None
    name: str = "GET-Request-Record"


@dataclass(frozen=True)
class GetResponseNormalList:
    piid_acd: int
    results: tuple[ResultNormal, ...]
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "GET-Response-NormalList"


@dataclass(frozen=True)
class GetResponseRecord:
    piid_acd: int
    result: ResultRecord
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "GET-Response-Record"


@dataclass(frozen=True)
class GetRequestNext:
    """Ask for the block after ``last_block`` of a response the server sends in blocks."""

    piid: int
    last_block: int
    time_tag: bytes | None = None
    name: str = "GET-Request-Next"


@dataclass(frozen=True)
class GetResponseNext:
    """One block of a long GET response: attribute results, record results, or a DAR."""

    piid_acd: int
    last: bool
    block: int
    results: tuple[ResultNormal, ...] = ()
    records: tuple[ResultRecord, ...] = ()
    dar: int | None = None
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "GET-Response-Next"


def _encode_next(a: GetResponseNext) -> bytes:
    out = bytes((0x85, NEXT)) + _u8(a.piid_acd, "PIID-ACD") + (b"\x01" if a.last else b"\x00")
    out += _uint(a.block, 2, "block number")
    if a.dar is not None:
        out += b"\x00" + _u8(a.dar, "DAR")
    elif a.records:
        out += b"\x02" + _count(len(a.records))
        out += b"".join(_encode_result_record(x) for x in a.records)
    else:
        out += b"\x01" + _count(len(a.results))
        out += b"".join(_encode_result_normal(x) for x in a.results)
    return out + _tail(a.follow, a.time_tag)


def _parse_get_next(r: _Reader) -> GetRequestNext:
    result = GetRequestNext(r.byte("PIID"), r.uint(2, "last block"), _read_time_tag(r))
    _end(r, result.name)
    return result


def _parse_get_response_next(r: _Reader) -> GetResponseNext:
    piid = r.byte("PIID-ACD")
    last = r.byte("last block flag")
    if last > 1:
        raise DecodeError(f"last block flag must be 00 or 01, got {last:02X}H")
    block = r.uint(2, "block number")
    kind = r.byte("block choice")
    results: tuple[ResultNormal, ...] = ()
    records: tuple[ResultRecord, ...] = ()
    dar = None
    if kind == 0:
        dar = r.byte("DAR")
    elif kind == 1:
        results = tuple(_read_result_normal(r) for _ in range(_read_count(r, "results", 6)))
    elif kind == 2:
        records = tuple(_read_result_record(r) for _ in range(_read_count(r, "records", 7)))
    else:
        raise DecodeError(f"block choice must be 0 (DAR), 1 or 2, got {kind}")
    follow, tag = _trailer(r, "GET-Response-Next")
    return GetResponseNext(piid, bool(last), block, results, records, dar, follow, tag)


# -- SET -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetRequestNormal:
    piid: int
    oad: str
    data: Data
    time_tag: bytes | None = None
    name: str = "SET-Request-Normal"


@dataclass(frozen=True)
class SetRequestNormalList:
    piid: int
    items: tuple[tuple[str, Data], ...]
    time_tag: bytes | None = None
    name: str = "SET-Request-NormalList"


@dataclass(frozen=True)
class SetResponseNormal:
    piid_acd: int
    oad: str
    dar: int
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "SET-Response-Normal"


@dataclass(frozen=True)
class SetResponseNormalList:
    piid_acd: int
    results: tuple[tuple[str, int], ...]
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "SET-Response-NormalList"


# -- ACTION (list) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRequestList:
    piid: int
    items: tuple[tuple[str, Data], ...]
    time_tag: bytes | None = None
    name: str = "ACTION-Request-NormalList"


@dataclass(frozen=True)
class ActionResult:
    omd: str
    dar: int
    data: Data | None = None


@dataclass(frozen=True)
class ActionResponseList:
    piid_acd: int
    results: tuple[ActionResult, ...]
    follow: FollowReport | None = None
    time_tag: bytes | None = None
    name: str = "ACTION-Response-NormalList"


# -- REPORT and ERROR ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportNotification:
    """Server-started report: attribute values (``kind`` 1) or records (``kind`` 2)."""

    piid_acd: int
    normal: tuple[ResultNormal, ...] = ()
    records: tuple[ResultRecord, ...] = ()
    time_tag: bytes | None = None
    name: str = "REPORT-Notification"

    @property
    def oads(self) -> tuple[str, ...]:
        return tuple(x.oad for x in self.normal) + tuple(x.oad for x in self.records)


@dataclass(frozen=True)
class ReportResponse:
    """The client's acknowledgement of a report: the OADs it took."""

    piid: int
    kind: int
    oads: tuple[str, ...]
    time_tag: bytes | None = None
    name: str = "REPORT-Response"


@dataclass(frozen=True)
class ErrorResponse:
    """The server could not parse (1) or does not support (2) the request, or other (255)."""

    piid_acd: int
    error: int
    name: str = "ERROR-Response"


# -- encoding ------------------------------------------------------------------------------------


def _pairs(items: tuple[tuple[str, Data], ...], what: str) -> bytes:
    return _count(len(items)) + b"".join(_four(o, what) + ap.encode_data(d) for o, d in items)


def encode_apdu(a: Any) -> bytes:
    """Any APDU value of this package (or of ``apdu``) -> bytes; EncodeError when impossible."""
    if isinstance(a, ap.GetRequestNormal):
        return (
            bytes((0x05, 0x01)) + _u8(a.piid, "PIID") + _four(a.oad, "OAD") + _time_tag(a.time_tag)
        )
    if isinstance(a, ap.GetResponseNormal):
        head = bytes((0x85, 0x01)) + _u8(a.piid_acd, "PIID-ACD")
        return (
            head
            + _encode_result_normal(ResultNormal(a.oad, a.data, a.dar))
            + b"\x00"
            + _time_tag(a.time_tag)
        )
    if isinstance(a, ap.ActionRequestNormal):
        body = _u8(a.piid, "PIID") + _four(a.omd, "OMD") + ap.encode_data(a.parameter)
        return bytes((0x07, 0x01)) + body + _time_tag(a.time_tag)
    if isinstance(a, ap.ActionResponseNormal):
        body = _u8(a.piid_acd, "PIID-ACD") + _encode_action_result(
            ActionResult(a.omd, a.dar, a.data)
        )
        return bytes((0x87, 0x01)) + body + b"\x00\x00"
    if isinstance(a, ap.LinkRequest):
        return link_request(a.request_type, a.heartbeat, a.time, a.piid_acd)
    if isinstance(a, ap.LinkResponse):
        return link_response(a.piid, a.result, a.request_time, a.received_time, a.response_time)
    if isinstance(a, security.SecurityRequest):
        return security.encode_security_request(a)
    if isinstance(a, security.SecurityResponse):
        return security.encode_security_response(a)
    encoder = _ENCODERS.get(type(a))
    if encoder is None:
        raise EncodeError(f"cannot encode {type(a).__name__}")
    return encoder(a)


def _encode_action_result(x: ActionResult) -> bytes:
    out = _four(x.omd, "OMD") + _u8(x.dar, "DAR")
    return out + (b"\x00" if x.data is None else b"\x01" + ap.encode_data(x.data))


def _tail(follow: FollowReport | None, tag: bytes | None) -> bytes:
    return _encode_follow(follow) + _time_tag(tag)


_ENCODERS: dict[type, Any] = {
    ConnectRequest: _encode_connect_request,
    ConnectResponse: _encode_connect_response,
    ReleaseRequest: lambda a: (
        bytes((RELEASE_REQUEST,)) + _u8(a.piid, "PIID") + _time_tag(a.time_tag)
    ),
    ReleaseResponse: lambda a: (
        bytes((RELEASE_RESPONSE,))
        + _u8(a.piid_acd, "PIID-ACD")
        + _u8(a.result, "result")
        + _tail(a.follow, a.time_tag)
    ),
    GetRequestNormalList: lambda a: (
        bytes((0x05, NORMAL_LIST))
        + _u8(a.piid, "PIID")
        + _count(len(a.oads))
        + b"".join(_four(o, "OAD") for o in a.oads)
        + _time_tag(a.time_tag)
    ),
    GetRequestRecord: lambda a: (
        bytes((0x05, RECORD))
        + _u8(a.piid, "PIID")
        + _four(a.oad, "OAD")
        + _encode_rsd(a.rsd)
        + _encode_rcsd(a.columns)
        + _time_tag(a.time_tag)
    ),
    GetRequestNext: lambda a: (
        bytes((0x05, NEXT))
        + _u8(a.piid, "PIID")
        + _uint(a.last_block, 2, "last block")
        + _time_tag(a.time_tag)
    ),
    GetResponseNext: _encode_next,
    GetResponseNormalList: lambda a: (
        bytes((0x85, NORMAL_LIST))
        + _u8(a.piid_acd, "PIID-ACD")
        + _count(len(a.results))
        + b"".join(_encode_result_normal(x) for x in a.results)
        + _tail(a.follow, a.time_tag)
    ),
    GetResponseRecord: lambda a: (
        bytes((0x85, RECORD))
        + _u8(a.piid_acd, "PIID-ACD")
        + _encode_result_record(a.result)
        + _tail(a.follow, a.time_tag)
    ),
    SetRequestNormal: lambda a: (
        bytes((SET_REQUEST, 0x01))
        + _u8(a.piid, "PIID")
        + _four(a.oad, "OAD")
        + ap.encode_data(a.data)
        + _time_tag(a.time_tag)
    ),
    SetRequestNormalList: lambda a: (
        bytes((SET_REQUEST, NORMAL_LIST))
        + _u8(a.piid, "PIID")
        + _pairs(a.items, "OAD")
        + _time_tag(a.time_tag)
    ),
    SetResponseNormal: lambda a: (
        bytes((SET_RESPONSE, 0x01))
        + _u8(a.piid_acd, "PIID-ACD")
        + _four(a.oad, "OAD")
        + _u8(a.dar, "DAR")
        + _tail(a.follow, a.time_tag)
    ),
    SetResponseNormalList: lambda a: (
        bytes((SET_RESPONSE, NORMAL_LIST))
        + _u8(a.piid_acd, "PIID-ACD")
        + _count(len(a.results))
        + b"".join(_four(o, "OAD") + _u8(d, "DAR") for o, d in a.results)
        + _tail(a.follow, a.time_tag)
    ),
    ActionRequestList: lambda a: (
        bytes((0x07, NORMAL_LIST))
        + _u8(a.piid, "PIID")
        + _pairs(a.items, "OMD")
        + _time_tag(a.time_tag)
    ),
    ActionResponseList: lambda a: (
        bytes((0x87, NORMAL_LIST))
        + _u8(a.piid_acd, "PIID-ACD")
        + _count(len(a.results))
        + b"".join(_encode_action_result(x) for x in a.results)
        + _tail(a.follow, a.time_tag)
    ),
    ReportNotification: lambda a: _encode_report(a),
    ReportResponse: lambda a: (
        bytes((REPORT_RESPONSE,))
        + _u8(a.kind, "report kind")
        + _u8(a.piid, "PIID")
        + _count(len(a.oads))
        + b"".join(_four(o, "OAD") for o in a.oads)
        + _time_tag(a.time_tag)
    ),
    ErrorResponse: lambda a: (
        bytes((ERROR_RESPONSE,)) + _u8(a.piid_acd, "PIID-ACD") + _u8(a.error, "error")
    ),
}


def _encode_report(a: ReportNotification) -> bytes:
    if a.records:
        items = b"".join(_encode_result_record(x) for x in a.records)
        body = bytes((REPORT_NOTIFICATION, 0x02)) + _u8(a.piid_acd, "PIID-ACD")
        return body + _count(len(a.records)) + items + _time_tag(a.time_tag)
    items = b"".join(_encode_result_normal(x) for x in a.normal)
    body = bytes((REPORT_NOTIFICATION, 0x01)) + _u8(a.piid_acd, "PIID-ACD")
    return body + _count(len(a.normal)) + items + _time_tag(a.time_tag)


# -- parsing -------------------------------------------------------------------------------------


def parse_service(apdu: bytes) -> Any:
    """Parse the APDUs of this module; None when the tag/choice is not one of them."""
    r = _Reader(apdu)
    tag = r.byte("APDU tag")
    if tag == CONNECT_REQUEST:
        return _read_connect_request(r)
    if tag == CONNECT_RESPONSE:
        return _read_connect_response(r)
    if tag == RELEASE_REQUEST:
        result: Any = ReleaseRequest(r.byte("PIID"), _read_time_tag(r))
        _end(r, result.name)
        return result
    if tag == RELEASE_RESPONSE:
        piid, res = r.byte("PIID-ACD"), r.byte("result")
        follow, ttag = _trailer(r, "RELEASE-Response")
        return ReleaseResponse(piid, res, follow, ttag)
    if tag == ERROR_RESPONSE:
        result = ErrorResponse(r.byte("PIID-ACD"), r.byte("error type"))
        _end(r, result.name)
        return result
    if tag == REPORT_RESPONSE:
        kind = r.byte("APDU choice")
        if kind not in (1, 2):
            return None
        piid = r.byte("PIID")
        n = _read_count(r, "OADs", 4)
        oads = tuple(to_hex(r.take(4, "OAD")) for _ in range(n))
        result = ReportResponse(piid, kind, oads, _read_time_tag(r))
        _end(r, result.name)
        return result
    if tag not in _CHOICE_TAGS:
        return None
    choice = r.byte("APDU choice")
    handler = _PARSERS.get((tag, choice))
    return None if handler is None else handler(r)


def _parse_get_list(r: _Reader) -> GetRequestNormalList:
    piid = r.byte("PIID")
    n = _read_count(r, "OADs", 4)
    oads = tuple(to_hex(r.take(4, "OAD")) for _ in range(n))
    result = GetRequestNormalList(piid, oads, _read_time_tag(r))
    _end(r, result.name)
    return result


def _parse_get_record(r: _Reader) -> GetRequestRecord:
    piid = r.byte("PIID")
    oad = to_hex(r.take(4, "OAD"))
    rsd = _read_rsd(r)
    columns = _read_rcsd(r)
    result = GetRequestRecord(piid, oad, rsd, columns, _read_time_tag(r))
    _end(r, result.name)
    return result


def _parse_get_response_list(r: _Reader) -> GetResponseNormalList:
    piid = r.byte("PIID-ACD")
    n = _read_count(r, "results", 6)
    results = tuple(_read_result_normal(r) for _ in range(n))
    follow, tag = _trailer(r, "GET-Response-NormalList")
    return GetResponseNormalList(piid, results, follow, tag)


def _parse_get_response_record(r: _Reader) -> GetResponseRecord:
    piid = r.byte("PIID-ACD")
    record = _read_result_record(r)
    follow, tag = _trailer(r, "GET-Response-Record")
    return GetResponseRecord(piid, record, follow, tag)


def _read_pairs(r: _Reader, what: str) -> tuple[tuple[str, Data], ...]:
    n = _read_count(r, what, 5)
    return tuple((to_hex(r.take(4, what)), ap._read_data(r, 0)) for _ in range(n))


def _parse_set(r: _Reader) -> SetRequestNormal:
    piid = r.byte("PIID")
    oad = to_hex(r.take(4, "OAD"))
    data = ap._read_data(r, 0)
    result = SetRequestNormal(piid, oad, data, _read_time_tag(r))
    _end(r, result.name)
    return result


def _parse_set_list(r: _Reader) -> SetRequestNormalList:
    piid = r.byte("PIID")
    items = _read_pairs(r, "OAD")
    result = SetRequestNormalList(piid, items, _read_time_tag(r))
    _end(r, result.name)
    return result


def _parse_set_response(r: _Reader) -> SetResponseNormal:
    piid = r.byte("PIID-ACD")
    oad = to_hex(r.take(4, "OAD"))
    dar = r.byte("DAR")
    follow, tag = _trailer(r, "SET-Response-Normal")
    return SetResponseNormal(piid, oad, dar, follow, tag)


def _parse_set_response_list(r: _Reader) -> SetResponseNormalList:
    piid = r.byte("PIID-ACD")
    n = _read_count(r, "results", 5)
    results = tuple((to_hex(r.take(4, "OAD")), r.byte("DAR")) for _ in range(n))
    follow, tag = _trailer(r, "SET-Response-NormalList")
    return SetResponseNormalList(piid, results, follow, tag)


def _parse_action_list(r: _Reader) -> ActionRequestList:
    piid = r.byte("PIID")
    items = _read_pairs(r, "OMD")
    result = ActionRequestList(piid, items, _read_time_tag(r))
    _end(r, result.name)
    return result


def _read_action_result(r: _Reader) -> ActionResult:
    omd = to_hex(r.take(4, "OMD"))
    dar = r.byte("DAR")
    data = ap._read_data(r, 0) if r.optional_flag("return data") else None
    return ActionResult(omd, dar, data)


def _parse_action_response_list(r: _Reader) -> ActionResponseList:
    piid = r.byte("PIID-ACD")
    n = _read_count(r, "results", 6)
    results = tuple(_read_action_result(r) for _ in range(n))
    follow, tag = _trailer(r, "ACTION-Response-NormalList")
    return ActionResponseList(piid, results, follow, tag)


def _parse_report(kind: int) -> Any:
    def parse(r: _Reader) -> ReportNotification:
        piid = r.byte("PIID-ACD")
        if kind == 1:
            n = _read_count(r, "report", 6)
            normal = tuple(_read_result_normal(r) for _ in range(n))
            result = ReportNotification(piid, normal=normal, time_tag=_read_time_tag(r))
        else:
            n = _read_count(r, "report", 7)
            records = tuple(_read_result_record(r) for _ in range(n))
            result = ReportNotification(piid, records=records, time_tag=_read_time_tag(r))
        _end(r, result.name)
        return result

    return parse


_PARSERS: dict[tuple[int, int], Any] = {
    (0x05, NORMAL_LIST): _parse_get_list,
    (0x05, RECORD): _parse_get_record,
    (0x85, NORMAL_LIST): _parse_get_response_list,
    (0x05, NEXT): _parse_get_next,
    (0x85, NEXT): _parse_get_response_next,
    (0x85, RECORD): _parse_get_response_record,
    (SET_REQUEST, 0x01): _parse_set,
    (SET_REQUEST, NORMAL_LIST): _parse_set_list,
    (SET_RESPONSE, 0x01): _parse_set_response,
    (SET_RESPONSE, NORMAL_LIST): _parse_set_response_list,
    (0x07, NORMAL_LIST): _parse_action_list,
    (0x87, NORMAL_LIST): _parse_action_response_list,
    (REPORT_NOTIFICATION, 0x01): _parse_report(1),
    (REPORT_NOTIFICATION, 0x02): _parse_report(2),
}

_CHOICE_TAGS = frozenset(tag for tag, _choice in _PARSERS)

__all__ = [
    "DAR_NAMES",
    "ActionRequestList",
    "ActionResponseList",
    "ActionResult",
    "ConnectParameters",
    "ConnectRequest",
    "ConnectResponse",
    "Csd",
    "ErrorResponse",
    "FactoryVersion",
    "FollowReport",
    "GetRequestNext",
    "GetRequestNormalList",
    "GetRequestRecord",
    "GetResponseNext",
    "GetResponseNormalList",
    "GetResponseRecord",
    "ReleaseRequest",
    "ReleaseResponse",
    "ReportNotification",
    "ReportResponse",
    "ResultNormal",
    "ResultRecord",
    "Rsd",
    "SetRequestNormal",
    "SetRequestNormalList",
    "SetResponseNormal",
    "SetResponseNormalList",
    "dar_name",
    "encode_apdu",
    "link_request",
    "link_response",
    "parse_service",
]
