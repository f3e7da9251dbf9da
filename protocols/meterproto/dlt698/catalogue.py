"""The DL/T 698.45 objects a verification bench reads and writes: data type, scaler and unit of
each attribute, so values are scaled here and never by hand at a call site. Host-only.

An attribute's value on the wire is an integer; the engineering value is ``raw x 10^scaler`` in
``unit``. For arrays the OAD index picks one element (index 0 = the whole array, 1 = the first
element): energy arrays hold the total then tariffs 1..n, phase arrays A, B, C, and total-and-
phase arrays the total then A, B, C.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698.apdu import Data

# unit enumeration (the scaler_unit unit codes used here)
UNITS: dict[int, str] = {
    5: "h",
    6: "min",
    7: "s",
    8: "°",
    9: "°C",
    27: "W",
    28: "kW",
    29: "VA",
    30: "kVA",
    31: "var",
    32: "kvar",
    33: "kWh",
    34: "kVAh",
    35: "kvarh",
    36: "A",
    38: "V",
    47: "Hz",
    51: "%",
    255: "",
}

# data type tags
ARRAY, STRUCTURE, BIT_STRING = 0x01, 0x02, 0x04
DOUBLE_LONG, DOUBLE_LONG_UNSIGNED, OCTET_STRING, VISIBLE_STRING = 0x05, 0x06, 0x09, 0x0A
LONG, UNSIGNED, LONG_UNSIGNED, LONG64, LONG64_UNSIGNED, ENUM = 0x10, 0x11, 0x12, 0x14, 0x15, 0x16
DATE_TIME_S = 0x1C

_INTEGER_TAGS = frozenset(
    (
        DOUBLE_LONG,
        DOUBLE_LONG_UNSIGNED,
        LONG,
        UNSIGNED,
        LONG_UNSIGNED,
        LONG64,
        LONG64_UNSIGNED,
        0x0F,
    )
)


@dataclass(frozen=True)
class Attribute:
    """One attribute: its data type (the element type for arrays), scaler and unit."""

    oi: int
    attribute: int
    name: str
    tag: int
    element: int | None = None  # arrays: type of each element
    scaler: int = 0
    unit: str = ""
    layout: str = ""  # "tariffs", "phases", "total_phases" for arrays
    writable: bool = False
    record: bool = False  # read with GET-Record

    @property
    def oad(self) -> str:
        return f"{self.oi:04x}{self.attribute:02x}00"

    def element_type(self, index: int) -> int:
        return self.tag if index == 0 or self.element is None else self.element


def _energy(oi: int, name: str, signed: bool, unit: str) -> list[Attribute]:
    return [
        Attribute(
            oi, 2, name, ARRAY, DOUBLE_LONG if signed else DOUBLE_LONG_UNSIGNED, -2, unit, "tariffs"
        ),
        Attribute(
            oi,
            4,
            name + " (high resolution)",
            ARRAY,
            LONG64 if signed else LONG64_UNSIGNED,
            -4,
            unit,
            "tariffs",
        ),
    ]


def _event(oi: int, name: str) -> list[Attribute]:
    return [
        Attribute(oi, 2, name + " records", ARRAY, STRUCTURE, record=True),
        Attribute(oi, 4, name + " record count", LONG_UNSIGNED),
    ]


_ENTRIES: list[Attribute] = [
    *_energy(0x0000, "combined active energy", True, "kWh"),
    *_energy(0x0010, "forward active energy", False, "kWh"),
    *_energy(0x0020, "reverse active energy", False, "kWh"),
    *_energy(0x0030, "combined reactive energy 1", True, "kvarh"),
    *_energy(0x0040, "combined reactive energy 2", True, "kvarh"),
    *_energy(0x0050, "reactive energy quadrant I", False, "kvarh"),
    *_energy(0x0060, "reactive energy quadrant II", False, "kvarh"),
    *_energy(0x0070, "reactive energy quadrant III", False, "kvarh"),
    *_energy(0x0080, "reactive energy quadrant IV", False, "kvarh"),
    Attribute(0x1010, 2, "forward active maximum demand", ARRAY, STRUCTURE, -4, "kW", "tariffs"),
    Attribute(0x1020, 2, "reverse active maximum demand", ARRAY, STRUCTURE, -4, "kW", "tariffs"),
    Attribute(0x2000, 2, "voltage", ARRAY, LONG_UNSIGNED, -1, "V", "phases"),
    Attribute(0x2001, 2, "current", ARRAY, DOUBLE_LONG, -3, "A", "phases"),
    Attribute(0x2004, 2, "active power", ARRAY, DOUBLE_LONG, -1, "W", "total_phases"),
    Attribute(0x2005, 2, "reactive power", ARRAY, DOUBLE_LONG, -1, "var", "total_phases"),
    Attribute(0x2006, 2, "apparent power", ARRAY, DOUBLE_LONG, -1, "VA", "total_phases"),
    Attribute(0x200A, 2, "power factor", ARRAY, LONG, -3, "", "total_phases"),
    Attribute(0x200F, 2, "grid frequency", LONG_UNSIGNED, None, -2, "Hz"),
    Attribute(0x2014, 2, "running status words", ARRAY, BIT_STRING),
    Attribute(0x4000, 2, "date and time", DATE_TIME_S, writable=True),
    Attribute(0x4001, 2, "communication address", OCTET_STRING, writable=True),
    Attribute(0x4002, 2, "meter number", OCTET_STRING, writable=True),
    Attribute(0x400C, 2, "time zone and period counts", STRUCTURE, writable=True),
    Attribute(0x4014, 2, "current time zone table", ARRAY, STRUCTURE, writable=True),
    Attribute(0x4016, 2, "current daily period tables", ARRAY, ARRAY, writable=True),
    Attribute(0x4104, 2, "rated voltage", VISIBLE_STRING),
    Attribute(0x4105, 2, "rated (basic) current", VISIBLE_STRING),
    Attribute(0x4106, 2, "maximum current", VISIBLE_STRING),
    Attribute(0x4107, 2, "active accuracy class", VISIBLE_STRING),
    Attribute(0x4109, 2, "active meter constant", DOUBLE_LONG_UNSIGNED, None, 0, "imp/kWh"),
    Attribute(0x410A, 2, "reactive meter constant", DOUBLE_LONG_UNSIGNED, None, 0, "imp/kvarh"),
    *_event(0x3011, "power-down event"),
    *_event(0x3013, "meter clear event"),
    *_event(0x3016, "time setting event"),
    *_event(0x301B, "cover opening event"),
    Attribute(0xF207, 2, "multi-function terminal output mode", ARRAY, ENUM, writable=True),
]

CATALOGUE: dict[tuple[int, int], Attribute] = {(a.oi, a.attribute): a for a in _ENTRIES}

# The energy registers of the ElectricityMeter interface
ENERGY_OI = {"active_import": 0x0010, "active_export": 0x0020, "active_combined": 0x0000}

CLOCK = "40000200"
ADDRESS = "40010200"
ACTIVE_CONSTANT = "41090200"
OUTPUT_MODE = "f2070201"  # first multi-function terminal
BROADCAST_TIME = "40007f00"  # ACTION 4000 method 127: broadcast time with a date_time_s


def split_oad(oad: str) -> tuple[int, int, int]:
    """``"00100201"`` -> (OI, attribute, index); ValueError names a bad OAD."""
    if not isinstance(oad, str):
        raise ValueError(f"an OAD is 8 hex digits (OI, attribute, index), not {oad!r}")
    text = oad.strip().lower().removeprefix("0x").replace(" ", "")
    if len(text) != 8:
        raise ValueError(f"an OAD is 8 hex digits (OI, attribute, index): {oad!r}")
    try:
        number = int(text, 16)
    except ValueError:
        raise ValueError(f"an OAD is 8 hex digits (OI, attribute, index): {oad!r}") from None
    return number >> 16, (number >> 8) & 0xFF, number & 0xFF


def lookup(oad: str) -> Attribute | None:
    """The catalogue entry of an OAD's attribute (any index), or None."""
    oi, attribute, _index = split_oad(oad)
    return CATALOGUE.get((oi, attribute & 0x1F))


def energy_oad(oi: int, tariff: int = 0) -> str:
    """OAD of the total (tariff 0) or of tariff 1..n of an energy object."""
    if not 0 <= tariff <= 63:
        raise ValueError(f"tariff must be 0 (total) to 63: {tariff}")
    return f"{oi:04x}02{tariff + 1:02x}"


def name(oad: str) -> str:
    oi, attribute, index = split_oad(oad)
    entry = CATALOGUE.get((oi, attribute & 0x1F))
    if entry is None:
        return f"object {oi:04X} attribute {attribute}"
    if index == 0 or not entry.layout:
        return entry.name
    return f"{entry.name} [{_element_name(entry.layout, index)}]"


def _element_name(layout: str, index: int) -> str:
    if layout == "tariffs":
        return "total" if index == 1 else f"tariff {index - 1}"
    if layout == "phases":
        return "ABC"[index - 1] if 1 <= index <= 3 else f"element {index}"
    if layout == "total_phases":
        return ("total", "A", "B", "C")[index - 1] if 1 <= index <= 4 else f"element {index}"
    return f"element {index}"


def scale(raw: int, scaler: int) -> Decimal:
    """The exact engineering value ``raw x 10^scaler``."""
    return Decimal(raw).scaleb(scaler)


def unscale(value: Decimal | int | str, scaler: int) -> int:
    """Engineering value -> the integer on the wire; EncodeError if it is finer than allowed."""
    exact = Decimal(str(value)).scaleb(-scaler)
    if exact != exact.to_integral_value():
        raise EncodeError(f"{value} has more decimals than the scaler 10^{scaler} allows")
    return int(exact)


def engineering(oad: str, data: Data) -> tuple[Any, str]:
    """(value, unit) of ``data`` read at ``oad``: integers scaled, arrays element by element,
    structures field by field (a maximum demand: value and time). Objects not in the catalogue
    come back as plain values with no unit."""
    entry = lookup(oad)
    if entry is None:
        return data.plain(), ""
    return _convert(data, entry.scaler), entry.unit


def _convert(data: Data, scaler: int) -> Any:
    if data.tag in _INTEGER_TAGS:
        return scale(data.value, scaler)
    if data.tag in (ARRAY, STRUCTURE):
        return [_convert(item, scaler) for item in data.value]
    if data.tag == DATE_TIME_S and isinstance(data.value, datetime):
        return data.value
    return data.plain()


def integer(oad: str, data: Data) -> Decimal:
    """The one scaled number an element OAD must carry; DecodeError if it carries anything else
    (a bench must not take an array or a string for a register value)."""
    entry = lookup(oad)
    if entry is None:
        raise DecodeError(f"{oad}: not in the catalogue, no scaler known")
    _oi, _attribute, index = split_oad(oad)
    expected = entry.element_type(index)
    if expected not in _INTEGER_TAGS:
        raise DecodeError(f"{oad}: {entry.name} is not one number here; read one element")
    if data.tag != expected:
        raise DecodeError(
            f"{oad}: expected data type {expected:02X}H, the meter sent {data.tag:02X}H"
        )
    return scale(data.value, entry.scaler)


__all__ = [
    "ACTIVE_CONSTANT",
    "ADDRESS",
    "BROADCAST_TIME",
    "CATALOGUE",
    "CLOCK",
    "ENERGY_OI",
    "OUTPUT_MODE",
    "UNITS",
    "Attribute",
    "energy_oad",
    "engineering",
    "integer",
    "lookup",
    "name",
    "scale",
    "split_oad",
    "unscale",
]
