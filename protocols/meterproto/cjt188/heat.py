"""CJ/T 188 heat-meter data (901F from meter types 20H-29H) and unit conversions. Host-only.

The heat-meter 901F reply (L = 2EH) carries, after DI and SER, 43 bytes:

====  =====  ======================================================================
off   bytes  field
====  =====  ======================================================================
0     4+1    settlement-day heat, XXXXXX.XX + unit (heating/cooling meters put
             the cooling energy here)
5     4+1    current cumulative heat, XXXXXX.XX + unit
10    4+1    heat power, XXXXXX.XX + unit
15    4+1    flow rate, XXXX.XXXX + unit
20    4+1    cumulative volume, XXXXXX.XX + unit
25    3      supply temperature, XXXX.XX °C
28    3      return temperature, XXXX.XX °C
31    3      cumulative working time, XXXXXX h
34    7      real time ``ss mm hh DD MM YY YY``
41    2      status ST
====  =====  ======================================================================

All values are BCD, low byte first. Some meters send each unit byte *before* its value; the
decoder recognises that layout by where the unit codes sit and says so in ``warnings``.

Why one bad field is a warning, not a lost reading: a meter with an unset clock (all-zero real
time) or one garbled temperature still reports a valid heat register, and the register test
needs exactly that. Only a reply too short for the layout is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from meterproto.cjt188.messages import (
    STATUS_MAP_DEFAULT,
    UNIT_NAMES,
    MeterStatus,
    StatusMap,
    bcd_to_int,
    decode_status,
    int_to_bcd,
    unit_name,
)
from meterproto.compat import to_hex
from meterproto.dlt645.frame import DecodeError, EncodeError

T = TypeVar("T")

HEAT_DATA_LEN = 43
_VALUE_FIELDS = ("settlement_heat", "heat", "power", "flow", "volume")
_DECIMALS = {"settlement_heat": 2, "heat": 2, "power": 2, "flow": 4, "volume": 2}
_NAMES = {
    "settlement_heat": "settlement-day heat",
    "heat": "current heat",
    "power": "heat power",
    "flow": "flow rate",
    "volume": "cumulative volume",
}

# -- units ---------------------------------------------------------------------------------------

UNIT_KWH: dict[int, Decimal] = {
    0x02: Decimal("0.001"),  # Wh
    0x05: Decimal(1),  # kWh
    0x08: Decimal(1000),  # MWh
    0x0A: Decimal(100000),  # MWh x 100
    0x01: Decimal(1) / Decimal(3600000),  # J
    0x0B: Decimal(1) / Decimal(3600),  # kJ
    0x0E: Decimal(1) / Decimal("3.6"),  # MJ
    0x11: Decimal(1000) / Decimal("3.6"),  # GJ
    0x13: Decimal(100000) / Decimal("3.6"),  # GJ x 100
}
UNIT_KW: dict[int, Decimal] = {0x14: Decimal("0.001"), 0x17: Decimal(1), 0x1A: Decimal(1000)}
UNIT_M3: dict[int, Decimal] = {0x29: Decimal("0.001"), 0x2C: Decimal(1)}
UNIT_M3H: dict[int, Decimal] = {0x32: Decimal("0.001"), 0x35: Decimal(1)}


def _convert(value: Decimal | None, unit: int, table: dict[int, Decimal], what: str) -> Decimal:
    if value is None:
        raise ValueError(f"{what} was not decoded")
    if unit not in table:
        raise ValueError(f"{what}: unit {unit_name(unit)} cannot be converted")
    return value * table[unit]


def heat_kwh(value: Decimal | None, unit: int) -> Decimal:
    """A heat value in kWh from any CJ/T 188 energy unit (Wh ... GJ x 100)."""
    return _convert(value, unit, UNIT_KWH, "heat")


def power_kw(value: Decimal | None, unit: int) -> Decimal:
    return _convert(value, unit, UNIT_KW, "power")


def volume_m3(value: Decimal | None, unit: int) -> Decimal:
    """A volume in m³ from L or m³ (water, gas and heat meters alike)."""
    return _convert(value, unit, UNIT_M3, "volume")


def flow_m3h(value: Decimal | None, unit: int) -> Decimal:
    return _convert(value, unit, UNIT_M3H, "flow")


# -- the reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatMeterData:
    """A heat meter's 901F reading. A field that could not be decoded is None and explained in
    ``warnings``; units are the raw codes (``unit_name`` gives the symbol)."""

    settlement_heat: Decimal | None
    settlement_heat_unit: int
    heat: Decimal | None
    heat_unit: int
    power: Decimal | None
    power_unit: int
    flow: Decimal | None
    flow_unit: int
    volume: Decimal | None
    volume_unit: int
    supply_c: Decimal | None
    return_c: Decimal | None
    working_hours: int | None
    time: datetime | None
    status: bytes
    unit_first: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def heat_kwh(self) -> Decimal:
        """Current cumulative heat in kWh (ValueError when it was not decoded)."""
        return heat_kwh(self.heat, self.heat_unit)

    @property
    def volume_m3(self) -> Decimal:
        return volume_m3(self.volume, self.volume_unit)

    @property
    def delta_theta_k(self) -> Decimal | None:
        """Supply minus return temperature, when both were decoded."""
        if self.supply_c is None or self.return_c is None:
            return None
        return self.supply_c - self.return_c

    def decoded_status(self, mapping: StatusMap = STATUS_MAP_DEFAULT) -> MeterStatus:
        return decode_status(self.status, mapping)


def _field(warnings: list[str], what: str, decode: Callable[[], T]) -> T | None:
    try:
        return decode()
    except DecodeError as exc:
        warnings.append(f"{what}: {exc}")
        return None


def _bcd_decimal(raw: bytes, places: int, what: str) -> Decimal:
    return Decimal(bcd_to_int(raw, what)).scaleb(-places)


def _time(raw: bytes) -> datetime:
    if not any(raw):
        raise DecodeError("all zero (clock not set)")
    ss, mm, hh, dd, mo = (bcd_to_int(raw[k : k + 1], "real time") for k in range(5))
    year = bcd_to_int(raw[5:7], "real time year")
    try:
        return datetime(year, mo, dd, hh, mm, ss)
    except ValueError as exc:
        raise DecodeError(f"{to_hex(raw)} is not a valid date: {exc}") from None


def _unit_first(content: bytes) -> bool:
    """Whether the unit bytes precede their values: the standard positions hold no known unit
    code but the shifted ones all do."""
    standard = all(content[5 * i + 4] in UNIT_NAMES for i in range(5))
    shifted = all(content[5 * i] in UNIT_NAMES for i in range(5))
    return shifted and not standard


def parse_heat_data(content: bytes) -> HeatMeterData:
    """901F content of a heat meter (after DI and SER, 43 bytes; extra bytes are vendor
    additions and ignored). Raises DecodeError only when the content is too short."""
    if len(content) < HEAT_DATA_LEN:
        raise DecodeError(
            f"heat-meter 901F content too short: {len(content)} bytes, {HEAT_DATA_LEN} needed"
        )
    warnings: list[str] = []
    unit_first = _unit_first(content)
    if unit_first:
        warnings.append("unit codes precede their values (vendor layout)")
    values: dict[str, Decimal | None] = {}
    units: dict[str, int] = {}
    for index, name in enumerate(_VALUE_FIELDS):
        start = 5 * index
        value_at, unit_at = (start + 1, start) if unit_first else (start, start + 4)
        raw = content[value_at : value_at + 4]
        units[name] = content[unit_at]
        values[name] = _field(
            warnings, _NAMES[name], lambda r=raw, n=name: _bcd_decimal(r, _DECIMALS[n], "value")
        )
        if content[unit_at] not in UNIT_NAMES:
            warnings.append(f"{_NAMES[name]}: unknown unit code {content[unit_at]:02X}H")
    return HeatMeterData(
        settlement_heat=values["settlement_heat"],
        settlement_heat_unit=units["settlement_heat"],
        heat=values["heat"],
        heat_unit=units["heat"],
        power=values["power"],
        power_unit=units["power"],
        flow=values["flow"],
        flow_unit=units["flow"],
        volume=values["volume"],
        volume_unit=units["volume"],
        supply_c=_field(
            warnings, "supply temperature", lambda: _bcd_decimal(content[25:28], 2, "value")
        ),
        return_c=_field(
            warnings, "return temperature", lambda: _bcd_decimal(content[28:31], 2, "value")
        ),
        working_hours=_field(warnings, "working time", lambda: bcd_to_int(content[31:34], "value")),
        time=_field(warnings, "real time", lambda: _time(content[34:41])),
        status=bytes(content[41:43]),
        unit_first=unit_first,
        warnings=tuple(warnings),
    )


def _encode_value(value: Decimal | None, places: int, size: int, what: str) -> bytes:
    if value is None:
        raise EncodeError(f"{what} is missing")
    scaled = Decimal(value).scaleb(places)
    if scaled != scaled.to_integral_value():
        raise EncodeError(f"{what} {value} has more than {places} decimals")
    return int_to_bcd(int(scaled), size, what)


def _encode_time(when: datetime | None) -> bytes:
    if when is None:
        return bytes(7)  # an unset clock reads as all zero
    return (
        int_to_bcd(when.second, 1)
        + int_to_bcd(when.minute, 1)
        + int_to_bcd(when.hour, 1)
        + int_to_bcd(when.day, 1)
        + int_to_bcd(when.month, 1)
        + int_to_bcd(when.year, 2, "year")
    )


def encode_heat_data(data: HeatMeterData) -> bytes:
    """901F content (after DI + SER) for a simulated heat meter, in the standard layout (or
    unit-first when ``data.unit_first``). ``time = None`` encodes an unset clock."""
    out = bytearray()
    for name in _VALUE_FIELDS:
        value = _encode_value(getattr(data, name), _DECIMALS[name], 4, _NAMES[name])
        unit = bytes((getattr(data, f"{name}_unit") & 0xFF,))
        out += unit + value if data.unit_first else value + unit
    out += _encode_value(data.supply_c, 2, 3, "supply temperature")
    out += _encode_value(data.return_c, 2, 3, "return temperature")
    if data.working_hours is None:
        raise EncodeError("working time is missing")
    out += int_to_bcd(data.working_hours, 3, "working time")
    out += _encode_time(data.time)
    if len(data.status) != 2:
        raise EncodeError(f"status ST must be 2 bytes, got {len(data.status)}")
    out += bytes(data.status)
    return bytes(out)


def describe_heat(data: HeatMeterData) -> dict[str, object]:
    """JSON-ready fields of a heat reading for ``meterbench decode``."""

    def value(v: Decimal | None) -> float | None:
        return None if v is None else float(v)

    out: dict[str, object] = {
        "settlement_heat": value(data.settlement_heat),
        "settlement_heat_unit": unit_name(data.settlement_heat_unit),
        "heat": value(data.heat),
        "heat_unit": unit_name(data.heat_unit),
        "power": value(data.power),
        "power_unit": unit_name(data.power_unit),
        "flow": value(data.flow),
        "flow_unit": unit_name(data.flow_unit),
        "volume": value(data.volume),
        "volume_unit": unit_name(data.volume_unit),
        "supply_c": value(data.supply_c),
        "return_c": value(data.return_c),
        "working_hours": data.working_hours,
        "datetime": None if data.time is None else data.time.isoformat(),
        "status": to_hex(data.status),
    }
    if data.warnings:
        out["warnings"] = list(data.warnings)
    return out
