"""Data-identifier catalogue for DL/T 645-2007 (4-byte DIs) and -1997 (2-byte DIs).

Covers what a verification bench reads and writes: energies (every quantity, tariff and
settlement period, and their blocks), maximum demand, instantaneous variables, clock, meter
constants, address and meter number, nameplate texts, status and baud words, event counters
and freezes. Identifiers are ints written as in the standard (``0x00010000``, ``0x9010``).
Energy-class identifiers are resolved by rule (quantity x tariff x period) rather than listed.
Unknown identifiers still decode: ``lookup`` returns None and the caller keeps the raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from meterproto.dlt645.values import (
    Block,
    Composite,
    ValueCodec,
    parse_format,
)


@dataclass(frozen=True)
class DataItem:
    """One identifier: its name, value codec (or block of codecs), unit and access."""

    di: int
    name: str
    codec: ValueCodec | Block
    unit: str = ""
    writable: bool = False
    version: int = 2007

    @property
    def di_text(self) -> str:
        return format_di(self.di, self.version)

    @property
    def size(self) -> int | None:
        return self.codec.size

    def decode(self, plain: bytes) -> Any:
        return self.codec.decode(plain)

    def encode(self, value: Any) -> bytes:
        return self.codec.encode(value)


def format_di(di: int, version: int = 2007) -> str:
    """DI as written in the standard: 8 hex digits for 2007, 4 for 1997 (lower case)."""
    return f"{di:08x}" if version == 2007 else f"{di:04x}"


def parse_di(text: str | int) -> int:
    """ "02010100", "02 01 01 00", "0x9010" or an int -> int."""
    if isinstance(text, int):
        return text
    clean = text.strip().lower().replace(" ", "").removeprefix("0x")
    if len(clean) not in (4, 8):
        raise ValueError(f"a data identifier has 4 (1997) or 8 (2007) hex digits: {text!r}")
    return int(clean, 16)


def di_to_wire(di: int, version: int = 2007) -> bytes:
    """Plain DI bytes in wire order (DI0 first)."""
    return di.to_bytes(4 if version == 2007 else 2, "little")


def di_from_wire(plain: bytes) -> int:
    return int.from_bytes(plain, "little")


# ---------------------------------------------------------------------------------------------
# DL/T 645-2007
# ---------------------------------------------------------------------------------------------

_ENERGY = parse_format("XXXXXX.XX")
_ENERGY_SIGNED = parse_format("XXXXXX.XX", signed=True)

# DI2 -> (name, unit, signed)
ENERGY_QUANTITIES: dict[int, tuple[str, str, bool]] = {
    0x00: ("combined active energy", "kWh", True),
    0x01: ("forward active energy", "kWh", False),
    0x02: ("reverse active energy", "kWh", False),
    0x03: ("combined reactive energy 1", "kvarh", True),
    0x04: ("combined reactive energy 2", "kvarh", True),
    0x05: ("quadrant I reactive energy", "kvarh", False),
    0x06: ("quadrant II reactive energy", "kvarh", False),
    0x07: ("quadrant III reactive energy", "kvarh", False),
    0x08: ("quadrant IV reactive energy", "kvarh", False),
    0x09: ("forward apparent energy", "kVAh", False),
    0x0A: ("reverse apparent energy", "kVAh", False),
    0x15: ("phase A forward active energy", "kWh", False),
    0x16: ("phase A reverse active energy", "kWh", False),
    0x29: ("phase B forward active energy", "kWh", False),
    0x2A: ("phase B reverse active energy", "kWh", False),
    0x3D: ("phase C forward active energy", "kWh", False),
    0x3E: ("phase C reverse active energy", "kWh", False),
}

DEMAND_QUANTITIES: dict[int, tuple[str, str, bool]] = {
    0x01: ("forward active maximum demand", "kW", False),
    0x02: ("reverse active maximum demand", "kW", False),
    0x03: ("combined reactive 1 maximum demand", "kvar", True),
    0x04: ("combined reactive 2 maximum demand", "kvar", True),
    0x05: ("quadrant I reactive maximum demand", "kvar", False),
    0x06: ("quadrant II reactive maximum demand", "kvar", False),
    0x07: ("quadrant III reactive maximum demand", "kvar", False),
    0x08: ("quadrant IV reactive maximum demand", "kvar", False),
    0x09: ("forward apparent maximum demand", "kVA", False),
    0x0A: ("reverse apparent maximum demand", "kVA", False),
}


def _demand_codec(signed: bool) -> Composite:
    return Composite(
        ("demand", parse_format("XX.XXXX", signed=signed)),
        ("time", parse_format("YYMMDDhhmm")),
    )


def _tariff_text(tariff: int) -> str:
    return "total" if tariff == 0 else f"tariff {tariff}"


def _period_text(period: int) -> str:
    if period == 0:
        return ""
    return f", settlement period -{period}"


@lru_cache(maxsize=4096)  # items are immutable; naming one costs more than decoding its value
def _energy_item(di: int) -> DataItem | None:
    di2, di1, di0 = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
    table = ENERGY_QUANTITIES if di >> 24 == 0x00 else DEMAND_QUANTITIES
    if di2 not in table or di0 > 0x0C:
        return None
    name, unit, signed = table[di2]
    if table is ENERGY_QUANTITIES:
        codec: ValueCodec = _ENERGY_SIGNED if signed else _ENERGY
    else:
        codec = _demand_codec(signed)
    if di1 == 0xFF:
        return DataItem(
            di, f"{name}, block (total and tariffs){_period_text(di0)}", Block(codec), unit
        )
    if di1 > 0x3F:
        return None
    return DataItem(di, f"{name}, {_tariff_text(di1)}{_period_text(di0)}", codec, unit)


_PHASES = {1: "A", 2: "B", 3: "C"}


def _phase_items() -> list[DataItem]:
    items: list[DataItem] = []

    def add(di2: int, what: str, spec: str, unit: str, signed: bool, with_total: bool) -> None:
        codec = parse_format(spec, signed=signed)
        base = 0x02000000 | di2 << 16
        first = 0 if with_total else 1
        if with_total:
            items.append(DataItem(base, f"{what}, total", codec, unit))
        for p, letter in _PHASES.items():
            items.append(DataItem(base | p << 8, f"{what}, phase {letter}", codec, unit))
        count = 4 if with_total else 3
        items.append(
            DataItem(
                base | 0xFF00,
                f"{what}, block ({'total, ' if first == 0 else ''}A, B, C)",
                Block(codec, count),
                unit,
            )
        )

    add(0x01, "voltage", "XXX.X", "V", False, False)
    add(0x02, "current", "XXX.XXX", "A", True, False)
    add(0x03, "active power", "XX.XXXX", "kW", True, True)
    add(0x04, "reactive power", "XX.XXXX", "kvar", True, True)
    add(0x05, "apparent power", "XX.XXXX", "kVA", True, True)
    add(0x06, "power factor", "X.XXX", "", True, True)
    add(0x07, "phase angle", "XXX.X", "deg", False, False)
    add(0x08, "voltage waveform distortion", "XX.XX", "%", False, False)
    add(0x09, "current waveform distortion", "XX.XX", "%", False, False)
    return items


def _item(
    di: int, name: str, spec: str, unit: str = "", *, signed: bool = False, writable: bool = False
) -> DataItem:
    return DataItem(di, name, parse_format(spec, signed=signed), unit, writable)


_EXPLICIT_2007: list[DataItem] = [
    *_phase_items(),
    _item(0x02800001, "neutral current", "XXX.XXX", "A", signed=True),
    _item(0x02800002, "grid frequency", "XX.XX", "Hz"),
    _item(0x02800003, "one-minute average active power", "XX.XXXX", "kW", signed=True),
    _item(0x02800004, "current active demand", "XX.XXXX", "kW", signed=True),
    _item(0x02800005, "current reactive demand", "XX.XXXX", "kvar", signed=True),
    _item(0x02800006, "current apparent demand", "XX.XXXX", "kVA", signed=True),
    _item(0x02800007, "meter temperature", "XXX.X", "degC", signed=True),
    _item(0x02800008, "clock battery voltage", "XX.XX", "V"),
    _item(0x02800009, "meter-reading battery voltage", "XX.XX", "V"),
    _item(0x0280000A, "internal battery working time", "XXXXXXXX", "min"),
    _item(0x0280000B, "current step price", "XXXX.XXXX", "yuan/kWh"),
    _item(0x00900100, "remaining energy", "XXXXXX.XX", "kWh"),
    _item(0x00900200, "remaining money", "XXXXXX.XX", "yuan"),
    # class 03: events a bench checks
    _item(0x03300000, "programming count", "NNNNNN"),
    _item(0x03300100, "meter-clear count", "NNNNNN"),
    _item(0x03300200, "demand-clear count", "NNNNNN"),
    _item(0x03300300, "event-clear count", "NNNNNN"),
    _item(0x03300400, "time-setting count", "NNNNNN"),
    _item(0x03300D00, "meter-cover openings, count", "NNNNNN"),
    _item(0x03300E00, "terminal-cover openings, count", "NNNNNN"),
    _item(0x03110000, "power-down count", "NNNNNN"),
    # class 04: parameters
    _item(0x04000101, "date and weekday", "YYMMDDWW", writable=True),
    _item(0x04000102, "time", "hhmmss", writable=True),
    _item(0x04000103, "maximum-demand period", "NN", "min", writable=True),
    _item(0x04000104, "sliding window time", "NN", "min", writable=True),
    _item(0x04000105, "calibration pulse width", "XXXX", "ms", writable=True),
    _item(0x04000106, "time-zone set switch time", "YYMMDDhhmm", writable=True),
    _item(0x04000107, "daily-table set switch time", "YYMMDDhhmm", writable=True),
    _item(0x0400010C, "date, weekday and time", "YYMMDDWWhhmmss", writable=True),
    _item(0x04000201, "number of year time zones", "NN", writable=True),
    _item(0x04000202, "number of daily tables", "NN", writable=True),
    _item(0x04000203, "number of daily periods", "NN", writable=True),
    _item(0x04000204, "number of tariffs", "NN", writable=True),
    _item(0x04000205, "number of public holidays", "NNNN", writable=True),
    _item(0x04000206, "harmonic analysis order", "NN", writable=True),
    _item(0x04000401, "communication address", "NNNNNNNNNNNN", writable=True),
    _item(0x04000402, "meter number", "NNNNNNNNNNNN", writable=True),
    _item(0x04000403, "asset management code", "ASCII32", writable=True),
    _item(0x04000404, "rated voltage", "ASCII6"),
    _item(0x04000405, "rated current", "ASCII6"),
    _item(0x04000406, "maximum current", "ASCII6"),
    _item(0x04000407, "active accuracy class", "ASCII4"),
    _item(0x04000408, "reactive accuracy class", "ASCII4"),
    _item(0x04000409, "active meter constant", "XXXXXX", "imp/kWh"),
    _item(0x0400040A, "reactive meter constant", "XXXXXX", "imp/kvarh"),
    _item(0x0400040B, "meter model", "ASCII10"),
    _item(0x0400040C, "production date", "ASCII10"),
    _item(0x0400040D, "protocol version", "ASCII16"),
    *[_item(0x04000500 | n, f"running status word {n}", "BITS16") for n in range(1, 8)],
    DataItem(0x040005FF, "running status words 1-7", Block(parse_format("BITS16"), 7)),
    _item(0x04000601, "active combination word", "BITS8", writable=True),
    _item(0x04000602, "reactive combination word 1", "BITS8", writable=True),
    _item(0x04000603, "reactive combination word 2", "BITS8", writable=True),
    _item(0x04000701, "baud word, modulated infrared", "BITS8", writable=True),
    _item(0x04000702, "baud word, contact infrared", "BITS8", writable=True),
    _item(0x04000703, "baud word, RS-485 port 1", "BITS8", writable=True),
    _item(0x04000704, "baud word, RS-485 port 2", "BITS8", writable=True),
    _item(0x04000705, "baud word, RS-485 port 3", "BITS8", writable=True),
    _item(0x04000801, "weekend word", "BITS8", writable=True),
    _item(0x04000802, "weekend daily table", "NN", writable=True),
    _item(0x04000901, "load-record mode word", "BITS8", writable=True),
    _item(0x04000902, "freeze mode word", "BITS8", writable=True),
    _item(0x04000A01, "load-record start time", "MMDDhhmm", writable=True),
    *[
        _item(0x04000B00 | n, f"monthly settlement day {n}", "DDhh", writable=True)
        for n in range(1, 4)
    ],
    _item(0x04000E01, "forward active power upper limit", "XX.XXXX", "kW", writable=True),
    _item(0x04000E02, "reverse active power upper limit", "XX.XXXX", "kW", writable=True),
    _item(0x04000E03, "voltage upper limit", "XXX.X", "V", writable=True),
    _item(0x04000E04, "voltage lower limit", "XXX.X", "V", writable=True),
    _item(0x04800001, "vendor software version", "ASCII32"),
    _item(0x04800002, "vendor hardware version", "ASCII32"),
    _item(0x04800003, "vendor code", "ASCII32"),
]

CATALOGUE_2007: dict[int, DataItem] = {item.di: item for item in _EXPLICIT_2007}

# Freeze items (class 05): DI2 = freeze kind, DI1 = item, DI0 = n-th most recent.
FREEZE_KINDS = {
    0x00: "timed",
    0x01: "instant",
    0x02: "time-zone-set switch",
    0x03: "daily-table-set switch",
    0x04: "hourly",
    0x05: "price-set switch",
    0x06: "daily",
    0x07: "step switch",
}


@lru_cache(maxsize=4096)
def _freeze_item(di: int) -> DataItem | None:
    kind, what, n = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
    if kind not in FREEZE_KINDS or not 1 <= n <= 0x3E:
        return None
    prefix = f"{FREEZE_KINDS[kind]} freeze -{n}"
    if what == 0x00:
        return DataItem(di, f"{prefix}, time", parse_format("YYMMDDhhmm"))
    if 0x01 <= what <= 0x08:  # the energy quantity with the same DI2 code
        name, unit, signed = ENERGY_QUANTITIES[what]
        return DataItem(
            di, f"{prefix}, {name} block", Block(_ENERGY_SIGNED if signed else _ENERGY), unit
        )
    if what in (0x09, 0x0A):
        name, unit, signed = DEMAND_QUANTITIES[what - 0x08]
        return DataItem(di, f"{prefix}, {name} block", Block(_demand_codec(signed)), unit)
    return None


def lookup(di: int, version: int = 2007) -> DataItem | None:
    """The catalogue entry for a DI, or None when the identifier is not known."""
    if version == 1997:
        return CATALOGUE_1997.get(di)
    if di in CATALOGUE_2007:
        return CATALOGUE_2007[di]
    cls = di >> 24
    if cls in (0x00, 0x01):
        return _energy_item(di)
    if cls == 0x05:
        return _freeze_item(di)
    return None


# ---------------------------------------------------------------------------------------------
# DL/T 645-1997
# ---------------------------------------------------------------------------------------------

_DIRECTIONS_1997 = {
    0x1: "forward",
    0x2: "reverse",
    0x3: "quadrant I",
    0x4: "quadrant IV",
    0x5: "quadrant II",
    0x6: "quadrant III",
}
_PERIODS_1997 = {0: "", 1: ", last month", 2: ", month before last"}


def _energy_1997() -> list[DataItem]:
    items = []
    for period, period_text in _PERIODS_1997.items():
        for kind, (kind_text, unit) in {0: ("active", "kWh"), 1: ("reactive", "kvarh")}.items():
            di1 = 0x90 | period << 2 | kind
            for direction, dir_text in _DIRECTIONS_1997.items():
                if kind == 0 and direction > 2:
                    continue
                for tariff in range(5):
                    di = di1 << 8 | direction << 4 | tariff
                    items.append(
                        DataItem(
                            di,
                            f"{dir_text} {kind_text} energy, {_tariff_text(tariff)}{period_text}",
                            _ENERGY,
                            unit,
                            version=1997,
                        )
                    )
                di = di1 << 8 | direction << 4 | 0xF
                items.append(
                    DataItem(
                        di,
                        f"{dir_text} {kind_text} energy block{period_text}",
                        _BLOCK_1997,
                        unit,
                        version=1997,
                    )
                )
    return items


class _Block1997(Block):
    """1997 energy block: 5 items, optionally followed by an AAH terminator (meter-dependent)."""

    def decode(self, plain: bytes) -> list[Any]:
        if len(plain) == self.item.size * 5 + 1 and plain[-1] == 0xAA:
            plain = plain[:-1]
        return super().decode(plain)


_BLOCK_1997 = _Block1997(_ENERGY, 5)


def _item97(di: int, name: str, spec: str, unit: str = "", *, writable: bool = False) -> DataItem:
    return DataItem(di, name, parse_format(spec), unit, writable, version=1997)


_EXPLICIT_1997: list[DataItem] = [
    *_energy_1997(),
    *[_item97(0xB610 | p, f"voltage, phase {c}", "XXX", "V") for p, c in _PHASES.items()],
    *[_item97(0xB620 | p, f"current, phase {c}", "XX.XX", "A") for p, c in _PHASES.items()],
    _item97(0xB630, "active power, total", "XX.XXXX", "kW"),
    *[_item97(0xB630 | p, f"active power, phase {c}", "XX.XXXX", "kW") for p, c in _PHASES.items()],
    _item97(0xB640, "reactive power, total", "XX.XX", "kvar"),
    _item97(0xB650, "power factor, total", "X.XXX"),
    *[_item97(0xB650 | p, f"power factor, phase {c}", "X.XXX") for p, c in _PHASES.items()],
    _item97(0xC010, "date and weekday", "YYMMDDWW", writable=True),
    _item97(0xC011, "time", "hhmmss", writable=True),
    _item97(0xC020, "meter status word", "BITS8"),
    _item97(0xC030, "active meter constant", "NNNNNN", "imp/kWh"),
    _item97(0xC031, "reactive meter constant", "NNNNNN", "imp/kvarh"),
    _item97(0xC032, "meter number", "NNNNNNNNNNNN", writable=True),
    _item97(0xC033, "user number", "NNNNNNNNNNNN", writable=True),
    _item97(0xC034, "device code", "NNNNNNNNNNNN", writable=True),
]

CATALOGUE_1997: dict[int, DataItem] = {item.di: item for item in _EXPLICIT_1997}
