"""Value codecs for DL/T 645 data items, built with construct (host only).

Every multi-byte value travels least significant byte first. Numbers are packed BCD with an
implied decimal point; signed quantities carry the sign in bit 7 of the most significant byte.
Dates are BCD fields, ASCII texts arrive reversed and left-padded with 00H, bit fields are plain
little-endian integers. Codecs work on *plain* bytes (33H already removed).

Decoding never crashes on real-world junk: a BCD field holding non-BCD fillers (FFH for an
absent phase) decodes to ``None`` ("not available"), which the caller reports per item.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import construct as cs

from meterproto.dlt645.frame import DecodeError, EncodeError

__all__ = [
    "Bcd",
    "BcdDigits",
    "Ascii",
    "Bits",
    "DateTimeField",
    "Composite",
    "Block",
    "ValueCodec",
    "bcd_to_int",
    "int_to_bcd",
    "parse_format",
]


def bcd_to_int(msb_first: bytes) -> int | None:
    """Packed BCD (most significant byte first) -> int, or None if a nibble is above 9.

    The hex text of packed BCD is its decimal digits; a nibble above 9 shows as a-f."""
    text = msb_first.hex()
    return int(text) if text.isdigit() else None


def int_to_bcd(value: int, size: int) -> bytes:
    """Non-negative int -> packed BCD of ``size`` bytes, most significant byte first."""
    if value < 0:
        raise EncodeError(f"BCD cannot hold a negative number: {value}")
    digits = f"{value:0{size * 2}d}"
    if len(digits) > size * 2:
        raise EncodeError(f"{value} needs more than {size * 2} BCD digits")
    return bytes(int(digits[i]) << 4 | int(digits[i + 1]) for i in range(0, len(digits), 2))


class ValueCodec(cs.Adapter):  # type: ignore[misc]
    """A construct Adapter over a fixed number of plain wire bytes (low byte first)."""

    spec: str = ""
    unit_hint: str = ""

    def __init__(self, size: int) -> None:
        super().__init__(cs.Bytes(size))
        self.size = size

    def decode(self, plain: bytes) -> Any:
        """Decode exactly ``self.size`` plain bytes; raises DecodeError on a size mismatch.

        Straight to the value, not through construct's parse machinery (which costs several
        times the decoding itself); construct's parse and build give the same values."""
        if len(plain) != self.size:
            raise DecodeError(f"{self.spec}: expected {self.size} bytes, got {len(plain)}")
        return self.value_of(plain)

    def value_of(self, plain: bytes) -> Any:
        """The value of exactly ``self.size`` plain bytes (low byte first), size unchecked."""
        return self.from_msb(plain[::-1])

    def encode(self, value: Any) -> bytes:
        try:
            return self.build(value)
        except (cs.ConstructError, ValueError, TypeError, OverflowError) as exc:
            if isinstance(exc, EncodeError):
                raise
            raise EncodeError(f"{self.spec}: cannot encode {value!r}: {exc}") from exc

    def _decode(self, obj: bytes, context: Any, path: Any) -> Any:
        return self.value_of(obj)

    def _encode(self, obj: Any, context: Any, path: Any) -> bytes:
        return bytes(reversed(self.to_msb(obj)))

    # Subclasses work most-significant-byte first, as formats are written in the standard.
    def from_msb(self, msb: bytes) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_msb(self, value: Any) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


class Bcd(ValueCodec):
    """``XXXXXX.XX``-style number: ``digits`` BCD digits, ``decimals`` implied decimals."""

    def __init__(self, digits: int, decimals: int = 0, signed: bool = False) -> None:
        # An odd digit count (1997 voltage "XXX") still occupies whole bytes.
        super().__init__((digits + 1) // 2)
        self.digits = digits
        self.decimals = decimals
        self.signed = signed
        whole = "X" * (digits - decimals)
        self.spec = whole + ("." + "X" * decimals if decimals else "")
        self.limit = (8 * 10 ** (digits - 1) if signed else 10**digits) - 1

    def from_msb(self, msb: bytes) -> Decimal | None:
        text = msb.hex()
        negative = False
        if self.signed and msb[0] & 0x80:
            negative = True
            text = f"{msb[0] & 0x7F:02x}{text[2:]}"
        if not text.isdigit():
            return None
        value = Decimal(int(text)).scaleb(-self.decimals)
        return -value if negative else value

    def to_msb(self, value: Any) -> bytes:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        scaled = number.scaleb(self.decimals)
        if scaled != scaled.to_integral_value():
            raise EncodeError(f"{self.spec}: {value} has more than {self.decimals} decimals")
        integer = int(scaled)
        negative = integer < 0
        if negative and not self.signed:
            raise EncodeError(f"{self.spec}: unsigned item cannot be {value}")
        if abs(integer) > self.limit:
            raise EncodeError(f"{self.spec}: {value} out of range")
        raw = bytearray(int_to_bcd(abs(integer), self.size))
        if negative:
            raw[0] |= 0x80
        return bytes(raw)


class BcdDigits(ValueCodec):
    """A BCD digit string such as an address or meter number (``NNNNNNNNNNNN``) -> str."""

    def __init__(self, digits: int) -> None:
        super().__init__(digits // 2)
        self.spec = "N" * digits

    def from_msb(self, msb: bytes) -> str | None:
        text = msb.hex()
        return text if text.isdigit() else None

    def to_msb(self, value: Any) -> bytes:
        text = str(value)
        if not text.isdigit() or len(text) > self.size * 2:
            raise EncodeError(f"{self.spec}: not a {self.size * 2}-digit number: {value!r}")
        return bytes.fromhex(text.rjust(self.size * 2, "0"))


class Ascii(ValueCodec):
    """Fixed-length text, written first character first and padded with 00H on the right,
    then sent low byte first like a number, so it arrives reversed."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.spec = f"ASCII{size}"

    def from_msb(self, msb: bytes) -> str:
        return msb.strip(b"\x00 ").decode("ascii", errors="replace")

    def to_msb(self, value: Any) -> bytes:
        raw = str(value).encode("ascii")
        if len(raw) > self.size:
            raise EncodeError(f"text longer than {self.size} bytes: {value!r}")
        return raw.ljust(self.size, b"\x00")


class Bits(ValueCodec):
    """Binary bit field (status, mode and baud words): an unsigned little-endian int."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.spec = f"BITS{size * 8}"

    def from_msb(self, msb: bytes) -> int:
        return int.from_bytes(msb, "big")

    def to_msb(self, value: Any) -> bytes:
        return int(value).to_bytes(self.size, "big")


# Date and time layouts, written most significant field first as in the standard.
_FIELD_NAMES = {
    "YY": "year",
    "MM": "month",
    "DD": "day",
    "WW": "weekday",
    "hh": "hour",
    "mm": "minute",
    "ss": "second",
}


class DateTimeField(ValueCodec):
    """BCD date/time layouts: YYMMDDWW, hhmmss, YYMMDDWWhhmmss, YYMMDDhhmmss, YYMMDDhhmm,
    MMDDhhmm, DDhh. Complete dates decode to date/time/datetime; partial ones (freeze
    patterns, settlement days) to a dict of fields. WW is 0 = Sunday ... 6 = Saturday."""

    def __init__(self, layout: str) -> None:
        self.fields = [layout[i : i + 2] for i in range(0, len(layout), 2)]
        if any(f not in _FIELD_NAMES for f in self.fields):
            raise ValueError(f"unknown date layout {layout}")
        super().__init__(len(self.fields))
        self.spec = layout

    def from_msb(self, msb: bytes) -> Any:
        if len(msb) != len(self.fields):
            raise ValueError(f"{self.spec}: {len(msb)} bytes for {len(self.fields)} fields")
        text = msb.hex()  # BCD: the hex text is the digits, a-f mark a filler
        if not text.isdigit():
            return None
        values = {name: int(text[2 * i : 2 * i + 2]) for i, name in enumerate(self.fields)}
        try:
            return self._assemble(values)
        except ValueError:
            return None

    def weekday_mismatch(self, plain: bytes) -> str | None:
        """A message when the WW field disagrees with the calendar (meters must compute it)."""
        if "WW" not in self.fields:
            return None
        value = self.parse(plain)
        if not isinstance(value, dt.date):
            return None
        stated = plain[len(plain) - 1 - self.fields.index("WW")]
        actual = (value.weekday() + 1) % 7
        if stated == actual:
            return None
        return f"weekday field says {stated:02X}, the date is a day {actual} (0 = Sunday)"

    def _assemble(self, v: dict[str, int]) -> Any:
        has_date = {"YY", "MM", "DD"} <= v.keys()
        has_time = {"hh", "mm"} <= v.keys()
        if has_date and has_time:
            return dt.datetime(2000 + v["YY"], v["MM"], v["DD"], v["hh"], v["mm"], v.get("ss", 0))
        if has_date:
            return dt.date(2000 + v["YY"], v["MM"], v["DD"])
        if set(self.fields) == {"hh", "mm", "ss"}:
            return dt.time(v["hh"], v["mm"], v["ss"])
        return {_FIELD_NAMES[k]: val for k, val in v.items()}

    def to_msb(self, value: Any) -> bytes:
        fields = self._fields_of(value)
        out = bytearray()
        for name in self.fields:
            number = fields[name]
            if not 0 <= number <= 99:
                raise EncodeError(f"{self.spec}: field {name}={number} out of range")
            out.append(number // 10 << 4 | number % 10)
        return bytes(out)

    def _fields_of(self, value: Any) -> dict[str, int]:
        if isinstance(value, dict):
            inverse = {v: k for k, v in _FIELD_NAMES.items()}
            return {inverse[k] if k in inverse else str(k): int(v) for k, v in value.items()}
        fields: dict[str, int] = {}
        if isinstance(value, dt.date):
            fields.update(
                YY=value.year % 100, MM=value.month, DD=value.day, WW=(value.weekday() + 1) % 7
            )
        if isinstance(value, dt.datetime | dt.time):
            fields.update(hh=value.hour, mm=value.minute, ss=value.second)
        missing = [f for f in self.fields if f not in fields]
        if missing:
            raise EncodeError(f"{self.spec}: value {value!r} lacks {','.join(missing)}")
        return fields


class Composite(ValueCodec):
    """Fields one after another, each low byte first on its own (e.g. demand + its time)."""

    def __init__(self, *parts: tuple[str, ValueCodec]) -> None:
        self.parts = parts
        super().__init__(sum(p.size for _, p in parts))
        self.spec = " ".join(p.spec for _, p in parts)

    def value_of(self, plain: bytes) -> dict[str, Any]:
        out, pos = {}, 0
        for name, part in self.parts:
            out[name] = part.value_of(plain[pos : pos + part.size])
            pos += part.size
        return out

    def _encode(self, obj: Any, context: Any, path: Any) -> bytes:
        return b"".join(part.build(obj[name]) for name, part in self.parts)


class Block:
    """Concatenation of items of one codec (total + tariffs, or phases A/B/C).

    ``count`` None means variable (the meter's tariff count decides): any whole number of items.
    """

    def __init__(self, item: ValueCodec, count: int | None = None) -> None:
        self.item = item
        self.count = count
        self.size = item.size * count if count else None
        self.spec = f"{count or 'n'} x {item.spec}"

    def decode(self, plain: bytes) -> list[Any]:
        if self.count is not None and len(plain) != self.size:
            raise DecodeError(f"block {self.spec}: expected {self.size} bytes, got {len(plain)}")
        if len(plain) % self.item.size:
            raise DecodeError(
                f"block of {self.item.spec}: {len(plain)} bytes is not a whole number of items"
            )
        step, value_of = self.item.size, self.item.value_of
        return [value_of(plain[i : i + step]) for i in range(0, len(plain), step)]

    def encode(self, values: list[Any]) -> bytes:
        if self.count is not None and len(values) != self.count:
            raise EncodeError(f"block {self.spec}: expected {self.count} values")
        return b"".join(self.item.encode(v) for v in values)

    def __repr__(self) -> str:
        return f"<Block {self.spec}>"


def parse_format(spec: str, signed: bool = False) -> ValueCodec:
    """Codec from a format string as the standard writes it: ``XXXXXX.XX``, ``NNNN``,
    ``YYMMDDWW``, ``ASCII6``, ``BITS16``."""
    if spec.startswith("ASCII"):
        return Ascii(int(spec[5:]))
    if spec.startswith("BITS"):
        return Bits(int(spec[4:]) // 8)
    if set(spec) <= {"N"}:
        return BcdDigits(len(spec)) if len(spec) >= 12 else Bcd(len(spec))
    if set(spec) <= {"X", "."}:
        whole, _, frac = spec.partition(".")
        return Bcd(len(whole) + len(frac), len(frac), signed)
    return DateTimeField(spec)
