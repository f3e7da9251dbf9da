"""CJ/T 188 requests, replies and ``describe``. Host-only.

Builders return :class:`~meterproto.cjt188.frame.Frame` objects (call ``.encode()`` for the wire
bytes) so a client can keep the request next to the reply it matches. Reply parsers raise
:class:`~meterproto.dlt645.frame.DecodeError` for bytes that pass the checksum but cannot be what
they claim (bad BCD, impossible dates, short DATA), because the sum check is blind to those.

The DI byte order is not consistent in the field (reference section 8.3): requests use the order
configured for the meter type, replies are accepted in either order and report the order seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from meterproto.cjt188.frame import (
    ABNORMAL,
    DIR_RESPONSE,
    FN_READ_ADDRESS,
    FN_READ_DATA,
    FN_WRITE_DATA,
    TYPE_ANY,
    TYPE_COLD_WATER,
    WILDCARD_ADDRESS,
    Frame,
)
from meterproto.compat import to_hex
from meterproto.dlt645.frame import DecodeError, EncodeError

if TYPE_CHECKING:
    from meterproto.cjt188.heat import HeatMeterData

# -- data identifiers --------------------------------------------------------------------------

DI_CURRENT_DATA = 0x901F
DI_PRICE_TABLE = 0x8102
DI_SETTLEMENT_DAY = 0x8103
DI_READING_DAY = 0x8104
DI_PURCHASED_AMOUNT = 0x8105
DI_KEY_VERSION = 0x8106
DI_READ_ADDRESS = 0x810A
DI_VALVE_CONTROL = 0xA017
DI_WRITE_ADDRESS = 0xA018

VALVE_OPEN = 0x55
VALVE_CLOSE = 0x99

DI_NAMES: dict[int, str] = {
    DI_CURRENT_DATA: "current metering data",
    DI_PRICE_TABLE: "price table",
    DI_SETTLEMENT_DAY: "settlement day",
    DI_READING_DAY: "reading day",
    DI_PURCHASED_AMOUNT: "purchased amount",
    DI_KEY_VERSION: "key version",
    DI_READ_ADDRESS: "meter address",
    0xA010: "write price table",
    0xA011: "write settlement day",
    0xA012: "write reading day",
    0xA013: "write purchase amount",
    0xA014: "write new key",
    0xA015: "write standard time",
    0xA016: "write motor-sync data",
    DI_VALVE_CONTROL: "valve control",
    DI_WRITE_ADDRESS: "write address",
    0xA019: "factory enable",
    0xA101: "enter verification mode",
}
DI_NAMES.update({0xD120 + m: f"history month {m + 1}" for m in range(12)})

# High bytes of the DI classes in the tables; used to guess the order of an unknown DI.
_DI_CLASSES = frozenset(di >> 8 for di in DI_NAMES)

# -- unit codes and meter types ------------------------------------------------------------------

UNIT_NAMES: dict[int, str] = {
    0x01: "J",
    0x02: "Wh",
    0x05: "kWh",
    0x08: "MWh",
    0x0A: "MWh*100",
    0x0B: "kJ",
    0x0E: "MJ",
    0x11: "GJ",
    0x13: "GJ*100",
    0x14: "W",
    0x17: "kW",
    0x1A: "MW",
    0x29: "L",
    0x2C: "m3",
    0x32: "L/h",
    0x35: "m3/h",
}
UNIT_M3 = 0x2C
UNIT_LITRE = 0x29

METER_TYPE_NAMES: dict[int, str] = {
    0x10: "cold water",
    0x11: "domestic hot water",
    0x12: "drinking water",
    0x13: "reclaimed water",
    0x20: "heat (heating)",
    0x21: "heat (cooling)",
    0x30: "gas",
    0x40: "electricity",
    TYPE_ANY: "any",
}
# 22H-29H and 31H-39H are in the heat and gas ranges; meters in the field use several of them
# (25H and 27H heat meters answer 901F in the heat layout).
METER_TYPE_NAMES.update({t: f"heat ({t:02X}H)" for t in range(0x22, 0x2A)})
METER_TYPE_NAMES.update({t: f"gas ({t:02X}H)" for t in range(0x31, 0x3A)})

FUNCTION_NAMES: dict[int, str] = {
    0x01: "read data",
    0x03: "read address",
    0x04: "write data",
    0x09: "read key version",
    0x15: "write address",
    0x16: "write motor-sync data",
}


def unit_name(code: int) -> str:
    """Unit symbol for a unit code; unknown codes come out as ``"unit XXH"`` (kept, not lost)."""
    return UNIT_NAMES.get(code, f"unit {code:02X}H")


def is_heat_meter(meter_type: int) -> bool:
    """Heat meters (2xH) use a longer 901F layout (``heat.parse_heat_data``)."""
    return 0x20 <= meter_type <= 0x29


def is_gas_meter(meter_type: int) -> bool:
    """Gas meters (3xH) answer 901F in the water-meter layout (volume, settlement volume)."""
    return 0x30 <= meter_type <= 0x39


# -- DI byte order -------------------------------------------------------------------------------

DiOrder = Literal["low_first", "high_first"]
LOW_BYTE_FIRST = "low_byte_first"
HIGH_BYTE_FIRST = "high_byte_first"
UNKNOWN_ORDER = "unknown"

_ORDER_ALIASES = {
    "low_first": LOW_BYTE_FIRST,
    LOW_BYTE_FIRST: LOW_BYTE_FIRST,
    "high_first": HIGH_BYTE_FIRST,
    HIGH_BYTE_FIRST: HIGH_BYTE_FIRST,
}


def encode_di(di: int, order: str = "low_first") -> bytes:
    """DI as sent: ``low_first`` (the standard's example, 901FH -> ``1F 90``) or ``high_first``."""
    if not 0 <= di <= 0xFFFF:
        raise EncodeError(f"DI out of range: {di!r}")
    wire_order = _ORDER_ALIASES.get(order)
    if wire_order is None:
        raise EncodeError(f"DI order must be 'low_first' or 'high_first', got {order!r}")
    if wire_order == LOW_BYTE_FIRST:
        return bytes((di & 0xFF, di >> 8))
    return bytes((di >> 8, di & 0xFF))


def decode_di(wire: bytes, expected: int | None = None) -> tuple[int, str]:
    """DI and the byte order it was sent in, from its 2 wire bytes.

    With ``expected`` (the request's DI) either order is accepted and anything else raises
    DecodeError (a stale or foreign reply). Without it the order is guessed from the DI tables:
    a known DI wins, then a known DI class (high byte); if neither order is recognised the DI is
    read low byte first, as the standard writes it, and the order is reported as "unknown".
    """
    if len(wire) < 2:
        raise DecodeError(f"DATA too short for a DI: {len(wire)} bytes")
    low_first = wire[0] | (wire[1] << 8)
    high_first = (wire[0] << 8) | wire[1]
    if expected is not None:
        if low_first == expected:
            return low_first, LOW_BYTE_FIRST
        if high_first == expected:
            return high_first, HIGH_BYTE_FIRST
        raise DecodeError(f"DI {to_hex(wire[:2])} matches {expected:04X} in neither byte order")
    if low_first == high_first:
        return low_first, UNKNOWN_ORDER
    checks = (
        (low_first in DI_NAMES, high_first in DI_NAMES),
        ((low_first >> 8) in _DI_CLASSES, (high_first >> 8) in _DI_CLASSES),
    )
    for low_ok, high_ok in checks:
        if low_ok != high_ok:
            return (low_first, LOW_BYTE_FIRST) if low_ok else (high_first, HIGH_BYTE_FIRST)
        if low_ok:
            break
    return low_first, UNKNOWN_ORDER


# -- BCD helpers ---------------------------------------------------------------------------------


def bcd_to_int(raw: bytes, what: str = "value") -> int:
    """Unsigned BCD, low byte first, to int; a nibble above 9 raises DecodeError naming ``what``."""
    value = 0
    for b in reversed(raw):
        hi, lo = b >> 4, b & 0x0F
        if hi > 9 or lo > 9:
            raise DecodeError(f"{what} is not BCD: {to_hex(raw)}")
        value = value * 100 + hi * 10 + lo
    return value


def int_to_bcd(value: int, size: int, what: str = "value") -> bytes:
    """Unsigned int to ``size`` BCD bytes, low byte first; EncodeError when it does not fit."""
    if value < 0 or value >= 100**size:
        raise EncodeError(f"{what} {value!r} does not fit in {size} BCD bytes")
    out = bytearray()
    for _ in range(size):
        value, pair = divmod(value, 100)
        out.append((pair // 10) << 4 | (pair % 10))
    return bytes(out)


def _volume_to_bcd(volume: Decimal | int | str, what: str) -> bytes:
    """XXXXXX.XX: the volume in hundredths, exact (a finer volume is an error, not a rounding)."""
    hundredths = Decimal(volume) * 100
    if hundredths != hundredths.to_integral_value():
        raise EncodeError(f"{what} {volume} has more than 2 decimals")
    return int_to_bcd(int(hundredths), 4, what)


def _decode_time(raw: bytes) -> datetime:
    """``ss mm hh DD MM YY YY`` (year as 4 BCD digits, low byte first) to a naive datetime."""
    ss, mm, hh, dd, mo = (bcd_to_int(raw[k : k + 1], "real time") for k in range(5))
    year = bcd_to_int(raw[5:7], "real time year")
    try:
        return datetime(year, mo, dd, hh, mm, ss)
    except ValueError as exc:
        raise DecodeError(f"real time {to_hex(raw)} is not a valid date: {exc}") from None


def _encode_time(when: datetime) -> bytes:
    return (
        int_to_bcd(when.second, 1)
        + int_to_bcd(when.minute, 1)
        + int_to_bcd(when.hour, 1)
        + int_to_bcd(when.day, 1)
        + int_to_bcd(when.month, 1)
        + int_to_bcd(when.year, 2, "year")
    )


# -- status word ST ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusMap:
    """Where a vendor keeps the valve state and battery flag in ST (reference 8.5: uncertain).

    ``valve_shift`` is the lowest bit of the 2-bit valve field (00 open, 01 closed, 11 abnormal)
    and ``battery_bit`` the battery-low bit, both in ST byte ``byte_index`` (0 = first on the
    wire). Configure one per meter type; the defaults are a guess, not the standard.
    """

    valve_shift: int = 0
    battery_bit: int = 2
    byte_index: int = 0


# Valve in bits 0-1, battery in bit 2: the layout most sources describe. [uncertain]
STATUS_MAP_DEFAULT = StatusMap()
# Valve in bits 6-7, battery in bit 5: the KingDa header (reference source CJC). [uncertain]
STATUS_MAP_KINGDA = StatusMap(valve_shift=6, battery_bit=5)

_VALVE_STATES = {0: "open", 1: "closed", 2: "reserved", 3: "abnormal"}


@dataclass(frozen=True)
class MeterStatus:
    """ST as decoded through a StatusMap; ``raw`` keeps the 2 wire bytes for the record."""

    raw: bytes
    valve: str
    battery_low: bool


def decode_status(raw: bytes, mapping: StatusMap = STATUS_MAP_DEFAULT) -> MeterStatus:
    """Valve state and battery flag from the 2 ST bytes, through a vendor mapping."""
    if len(raw) != 2:
        raise DecodeError(f"status ST must be 2 bytes, got {len(raw)}")
    byte = raw[mapping.byte_index]
    valve = _VALVE_STATES[(byte >> mapping.valve_shift) & 0x03]
    return MeterStatus(bytes(raw), valve, bool(byte >> mapping.battery_bit & 1))


# -- request builders ----------------------------------------------------------------------------


def _check_ser(ser: int) -> int:
    if not 0 <= ser <= 0xFF:
        raise EncodeError(f"SER must be 0..255: {ser!r}")
    return ser


def read_data_request(
    address: bytes,
    di: int = DI_CURRENT_DATA,
    ser: int = 0,
    meter_type: int = TYPE_COLD_WATER,
    di_order: DiOrder = "low_first",
) -> Frame:
    """Read data (C = 01H): DATA = DI + SER."""
    data = encode_di(di, di_order) + bytes((_check_ser(ser),))
    return Frame(meter_type, address, FN_READ_DATA, data)


def read_address_request(ser: int = 0, di_order: DiOrder = "low_first") -> Frame:
    """Read address (C = 03H, DI 810A) to meter type AAH and address AA x 7: one meter per bus."""
    data = encode_di(DI_READ_ADDRESS, di_order) + bytes((_check_ser(ser),))
    return Frame(TYPE_ANY, WILDCARD_ADDRESS, FN_READ_ADDRESS, data)


def valve_control_request(
    address: bytes,
    action: Literal["open", "close"],
    ser: int = 0,
    meter_type: int = TYPE_COLD_WATER,
    di_order: DiOrder = "low_first",
) -> Frame:
    """Valve control (C = 04H, DI A017): one byte, 55H open or 99H close."""
    if action == "open":
        code = VALVE_OPEN
    elif action == "close":
        code = VALVE_CLOSE
    else:
        raise EncodeError(f"valve action must be 'open' or 'close', got {action!r}")
    data = encode_di(DI_VALVE_CONTROL, di_order) + bytes((_check_ser(ser), code))
    return Frame(meter_type, address, FN_WRITE_DATA, data)


# -- replies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterData:
    """The 901F reply of a water or gas meter. Volumes are exact Decimals (XXXXXX.XX)."""

    volume: Decimal
    volume_unit: int
    settlement_volume: Decimal | None  # None: the field did not decode (see ``warnings``)
    settlement_unit: int
    time: datetime | None  # None: no clock (all zeros) or not a date (see ``warnings``)
    status: bytes  # ST, 2 wire bytes; decode with decode_status and the vendor's StatusMap
    warnings: tuple[str, ...] = ()  # one line per field that did not decode

    @property
    def unit(self) -> str:
        return unit_name(self.volume_unit)

    @property
    def settlement_unit_name(self) -> str:
        return unit_name(self.settlement_unit)

    def decoded_status(self, mapping: StatusMap = STATUS_MAP_DEFAULT) -> MeterStatus:
        return decode_status(self.status, mapping)


METER_DATA_LEN = 19  # after DI + SER: 4 + 1 + 4 + 1 + 7 + 2


def parse_meter_data(content: bytes) -> MeterData:
    """901F content for water and gas meters (the DATA after DI and SER, 19 bytes).

    The cumulative volume is the reading: a bad one raises DecodeError. Any other field that
    does not decode (meters without a clock send zeros as the real time) becomes None plus a
    line in ``warnings``, so one bad field never costs the reading. Extra trailing bytes are
    tolerated (vendor additions); fewer raise DecodeError.
    """
    if len(content) < METER_DATA_LEN:
        raise DecodeError(
            f"901F reply content too short: {len(content)} bytes, {METER_DATA_LEN} needed"
        )
    warnings: list[str] = []
    settlement: Decimal | None = None
    try:
        settlement = Decimal(bcd_to_int(content[5:9], "settlement-day volume")).scaleb(-2)
    except DecodeError as exc:
        warnings.append(str(exc))
    time: datetime | None = None
    if not any(content[10:17]):
        warnings.append(NO_CLOCK)
    else:
        try:
            time = _decode_time(content[10:17])
        except DecodeError as exc:
            warnings.append(str(exc))
    return MeterData(
        volume=Decimal(bcd_to_int(content[0:4], "cumulative volume")).scaleb(-2),
        volume_unit=content[4],
        settlement_volume=settlement,
        settlement_unit=content[9],
        time=time,
        status=bytes(content[17:19]),
        warnings=tuple(warnings),
    )


NO_CLOCK = "real time is all zeros: the meter has no clock"


def encode_meter_data(data: MeterData) -> bytes:
    """901F content (after DI + SER) for a simulated water or gas meter."""
    return (
        _volume_to_bcd(data.volume, "cumulative volume")
        + bytes((data.volume_unit,))
        + _volume_to_bcd(data.settlement_volume or 0, "settlement-day volume")
        + bytes((data.settlement_unit,))
        + (bytes(7) if data.time is None else _encode_time(data.time))
        + bytes(data.status)
    )


def read_data_reply(
    address: bytes,
    di: int,
    ser: int,
    content: bytes,
    meter_type: int = TYPE_COLD_WATER,
    di_order: DiOrder = "low_first",
) -> Frame:
    """Normal read reply (C = 81H): DI + SER + content (for 901F, ``encode_meter_data(...)``)."""
    data = encode_di(di, di_order) + bytes((_check_ser(ser),)) + bytes(content)
    return Frame(meter_type, address, FN_READ_DATA | DIR_RESPONSE, data)


def read_address_reply(
    address: bytes, ser: int, meter_type: int = TYPE_COLD_WATER, di_order: DiOrder = "low_first"
) -> Frame:
    """Read-address reply (C = 83H): the address travels in the address field; DATA = DI + SER."""
    data = encode_di(DI_READ_ADDRESS, di_order) + bytes((_check_ser(ser),))
    return Frame(meter_type, address, FN_READ_ADDRESS | DIR_RESPONSE, data)


def abnormal_reply(
    address: bytes, function: int, ser: int, status: bytes, meter_type: int = TYPE_COLD_WATER
) -> Frame:
    """Abnormal reply (C = function | C0H): DATA = SER + ST."""
    if len(status) != 2:
        raise EncodeError(f"status ST must be 2 bytes, got {len(status)}")
    data = bytes((_check_ser(ser),)) + bytes(status)
    return Frame(meter_type, address, (function & 0x3F) | DIR_RESPONSE | ABNORMAL, data)


@dataclass(frozen=True)
class AbnormalReply:
    """A meter's refusal (C = function | C0H): SER and the raw ST.

    The usual DATA is SER + ST (3 bytes); a 5-byte DATA is read as DI + SER + ST, since some
    meters repeat the DI. ``di`` is None when absent.
    """

    function: int
    ser: int
    status: bytes
    di: int | None = None
    di_order: str | None = None

    def error(self) -> MeterAbnormalError:
        return MeterAbnormalError(self)


class MeterAbnormalError(Exception):
    """Raised by a client when the meter answered with an abnormal reply."""

    def __init__(self, reply: AbnormalReply) -> None:
        super().__init__(
            f"meter reported abnormal status {to_hex(reply.status)} for function"
            f" {reply.function:02X}H (SER {reply.ser})"
        )
        self.reply = reply


@dataclass(frozen=True)
class Reply:
    """A normal reply: DI (and the order it came in), SER and the content after them.

    ``meter_data`` is filled for a 901F reply of a water or gas meter, ``heat_data`` for one
    of a heat meter (2xH).
    """

    function: int
    di: int
    di_order: str
    ser: int
    content: bytes
    meter_data: MeterData | None = None
    heat_data: HeatMeterData | None = None


def parse_abnormal(frame: Frame, expected_di: int | None = None) -> AbnormalReply:
    """SER + ST (or DI + SER + ST) of an abnormal reply."""
    data = frame.data
    if len(data) == 3:
        return AbnormalReply(frame.function, data[0], bytes(data[1:3]))
    if len(data) == 5:
        di, order = decode_di(data[:2], expected_di)
        return AbnormalReply(frame.function, data[2], bytes(data[3:5]), di, order)
    raise DecodeError(f"abnormal reply DATA must be SER + ST (3 bytes), got {len(data)} bytes")


def parse_reply(frame: Frame, expected_di: int | None = None) -> Reply | AbnormalReply:
    """Interpret a reply frame; pass the request's DI to accept it in either byte order only.

    Raises DecodeError for a request frame (for example the master's own echo), a DATA too short
    for DI + SER, or a 901F content that is not valid BCD or not a valid date.
    """
    if not frame.is_response:
        raise DecodeError("frame is a request (D7 = 0), not a reply; own echo?")
    if frame.abnormal:
        return parse_abnormal(frame, expected_di)
    data = frame.data
    if len(data) < 3:
        raise DecodeError(f"reply DATA too short for DI + SER: {len(data)} bytes")
    di, order = decode_di(data[:2], expected_di)
    content = bytes(data[3:])
    meter_data = None
    if (
        di == DI_CURRENT_DATA
        and frame.function == FN_READ_DATA
        and not is_heat_meter(frame.meter_type)
    ):
        meter_data = parse_meter_data(content)
    if di == DI_CURRENT_DATA and frame.function == FN_READ_DATA and is_heat_meter(frame.meter_type):
        # heat builds on this module; a content too short for the heat layout is left to
        # parse_heat_data(reply.content), which says why
        from meterproto.cjt188.heat import HEAT_DATA_LEN, parse_heat_data

        if len(content) >= HEAT_DATA_LEN:
            heat_data = parse_heat_data(content)
            return Reply(frame.function, di, order, data[2], content, heat_data=heat_data)
    return Reply(frame.function, di, order, data[2], content, meter_data)


# -- describe ------------------------------------------------------------------------------------


def describe(frame: Frame, expected_di: int | None = None) -> dict[str, Any]:
    """JSON-ready fields for a command-line decoder (``meterbench decode``).

    Never raises for a frame that passed the checksum: a content that cannot be decoded is
    reported in ``error`` and the link fields are still printed.
    """
    out: dict[str, Any] = {
        "protocol": "cjt188",
        "valid": True,
        "address": frame.address_text,
        "meter_type": frame.meter_type,
        "meter_type_name": METER_TYPE_NAMES.get(frame.meter_type, "unknown"),
        "control": frame.control,
        "direction": frame.direction,
        "abnormal": frame.abnormal,
        "function": frame.function,
        "function_name": FUNCTION_NAMES.get(frame.function, "unknown"),
        "data_hex": to_hex(frame.data),
    }
    data = frame.data
    try:
        if frame.is_response and frame.abnormal:
            ab = parse_abnormal(frame, expected_di)
            out["ser"] = ab.ser
            out["status"] = to_hex(ab.status)
            if ab.di is not None:
                _put_di(out, ab.di, ab.di_order or UNKNOWN_ORDER)
            return out
        if len(data) < 3:
            return out
        di, order = decode_di(data[:2], expected_di)
        _put_di(out, di, order)
        out["ser"] = data[2]
        if not frame.is_response:
            if di == DI_VALVE_CONTROL and len(data) >= 4:
                out["valve"] = {VALVE_OPEN: "open", VALVE_CLOSE: "close"}.get(
                    data[3], f"code {data[3]:02X}H"
                )
            return out
        reply = parse_reply(frame, expected_di)
        if isinstance(reply, Reply) and reply.meter_data is not None:
            md = reply.meter_data
            out["value"] = float(md.volume)
            out["unit"] = md.unit
            settlement = md.settlement_volume
            out["settlement_value"] = None if settlement is None else float(settlement)
            out["settlement_unit"] = md.settlement_unit_name
            out["datetime"] = None if md.time is None else md.time.isoformat()
            out["status"] = to_hex(md.status)
            if md.warnings:
                out["warnings"] = list(md.warnings)
        if isinstance(reply, Reply) and is_heat_meter(frame.meter_type) and di == DI_CURRENT_DATA:
            from meterproto.cjt188.heat import describe_heat, parse_heat_data

            out.update(describe_heat(reply.heat_data or parse_heat_data(reply.content)))
    except DecodeError as exc:
        out["error"] = str(exc)
    return out


def _put_di(out: dict[str, Any], di: int, order: str) -> None:
    out["di"] = f"{di:04x}"
    out["di_wire_order"] = order
    out["name"] = DI_NAMES.get(di, "unknown")
