"""Value codecs and the identifier catalogue: BCD with decimals and sign, dates, reversed
ASCII, bit fields, blocks, and the catalogue's names and units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterproto.dlt645 import di
from meterproto.dlt645.describe import decode_item
from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt645.values import Ascii, Bcd, Bits, DateTimeField, parse_format

H = bytes.fromhex


def test_bcd_with_decimals_low_byte_first() -> None:
    energy = parse_format("XXXXXX.XX")
    assert energy.encode(Decimal("1234.56")) == H("56 34 12 00")
    assert energy.decode(H("56 34 12 00")) == Decimal("1234.56")


def test_sign_bit_in_top_byte() -> None:
    current = parse_format("XXX.XXX", signed=True)
    assert current.encode(Decimal("-1.234")) == H("34 12 80")
    assert current.decode(H("34 12 80")) == Decimal("-1.234")
    with pytest.raises(EncodeError):
        current.encode(Decimal("800.000"))  # the top digit cannot reach 8 when signed
    with pytest.raises(EncodeError):
        parse_format("XXX.X").encode(-1)


def test_invalid_bcd_is_not_available_not_a_crash() -> None:
    assert parse_format("XXX.X").decode(H("FF FF")) is None
    assert decode_item(0x0201FF00, H("00 22 FF FF 00 23"))["value"] == [220.0, None, 230.0]


def test_length_mismatch_is_reported_and_decoded_by_table() -> None:
    item = decode_item(0x02010100, H("00 22 00"))  # 3 bytes for a 2-byte voltage
    assert item["value"] == 220.0 and "3 bytes" in item["warning"]


def test_dates_and_weekday() -> None:
    date = DateTimeField("YYMMDDWW")
    assert date.decode(H("06 14 03 25")) == dt.date(2025, 3, 14)  # a wrong WW keeps the date
    assert "weekday" in decode_item(0x04000101, H("06 14 03 25"))["warning"]  # a Friday: 5
    assert "warning" not in decode_item(0x04000101, H("05 14 03 25"))
    assert date.encode(dt.date(2025, 3, 15)) == H("06 15 03 25")  # a Saturday: WW = 6
    assert date.decode(H("01 11 01 16")) == dt.date(2016, 1, 11)
    assert DateTimeField("hhmmss").decode(H("30 45 13")) == dt.time(13, 45, 30)
    stamp = DateTimeField("YYMMDDWWhhmmss")
    when = dt.datetime(2025, 3, 14, 9, 26, 53)
    assert stamp.encode(when) == H("53 26 09 05 14 03 25")
    assert stamp.decode(H("53 26 09 05 14 03 25")) == when
    assert DateTimeField("DDhh").decode(H("00 01")) == {"day": 1, "hour": 0}
    assert DateTimeField("YYMMDD" + "hhmm").decode(H("99 99 99 99 99")) is None


def test_ascii_arrives_reversed_with_padding_first() -> None:
    assert Ascii(6).encode("5(60)A") == H("41 29 30 36 28 35")
    assert Ascii(6).encode("1.5A") == H("00 00 41 35 2E 31")
    assert Ascii(6).decode(H("00 00 41 35 2E 31")) == "1.5A"


def test_bit_fields_are_binary() -> None:
    assert Bits(2).decode(H("08 00")) == 8
    assert Bits(2).encode(0x0102) == H("02 01")


def test_wrong_size_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        parse_format("XXXXXX.XX").decode(H("00 00"))
    with pytest.raises(DecodeError):
        _lookup(0x0201FF00).decode(H("00 22 00"))


@pytest.mark.parametrize(
    ("number", "name", "unit"),
    [
        (0x00010000, "forward active energy, total", "kWh"),
        (0x00010300, "forward active energy, tariff 3", "kWh"),
        (0x00010001, "forward active energy, total, settlement period -1", "kWh"),
        (0x00000000, "combined active energy, total", "kWh"),
        (0x0001FF00, "forward active energy, block (total and tariffs)", "kWh"),
        (0x01010000, "forward active maximum demand, total", "kW"),
        (0x02010100, "voltage, phase A", "V"),
        (0x0203FF00, "active power, block (total, A, B, C)", "kW"),
        (0x02800002, "grid frequency", "Hz"),
        (0x04000409, "active meter constant", "imp/kWh"),
        (0x04000401, "communication address", ""),
        (0x05060001, "daily freeze -1, time", ""),
    ],
)
def test_catalogue_names(number: int, name: str, unit: str) -> None:
    item = di.lookup(number)
    assert item is not None and (item.name, item.unit) == (name, unit)


def test_unknown_identifier_keeps_raw_data() -> None:
    assert di.lookup(0x04CC0509) is None
    assert decode_item(0x04CC0509, H("01 02")) == {"di": "04cc0509", "raw_hex": "0102"}


def test_1997_catalogue_and_block_terminator() -> None:
    assert _lookup(0x9010, 1997).name == "forward active energy, total"
    assert _lookup(0xB611, 1997).decode(H("20 02")) == 220
    block = _lookup(0x901F, 1997)
    plain = H("00 01 00 00") * 5
    assert block.decode(plain) == block.decode(plain + b"\xaa")


@given(
    st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n * 2), st.integers(0, n * 2))),
    st.booleans(),
    st.data(),
)
def test_bcd_round_trip(shape: tuple[int, int], signed: bool, data: st.DataObject) -> None:
    digits, decimals = shape
    codec = Bcd(digits, decimals, signed)
    magnitude = data.draw(st.integers(0, codec.limit))
    number = Decimal(-magnitude if signed and data.draw(st.booleans()) else magnitude)
    value = number.scaleb(-decimals)
    assert codec.decode(codec.encode(value)) == value


@given(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)))
def test_datetime_round_trip(when: dt.datetime) -> None:
    when = when.replace(microsecond=0)
    for layout in ("YYMMDDhhmmss", "YYMMDDWWhhmmss"):
        codec = DateTimeField(layout)
        assert codec.decode(codec.encode(when)) == when
    assert DateTimeField("YYMMDDWW").decode(DateTimeField("YYMMDDWW").encode(when)) == when.date()


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=10))
def test_ascii_round_trip(text: str) -> None:
    assert Ascii(10).decode(Ascii(10).encode(text)) == text


def _lookup(identifier: int, version: int = 2007) -> di.DataItem:
    """The catalogued data item (the test failing plainly when it is not catalogued)."""
    item = di.lookup(identifier, version)
    assert item is not None, f"{identifier:08X} not catalogued"
    return item


def _nibble_reference(codec: Bcd, plain: bytes) -> Decimal | None:
    """BCD decoded the slow, obvious way: nibble by nibble, sign bit first."""
    msb = bytearray(reversed(plain))
    negative = codec.signed and bool(msb[0] & 0x80)
    if negative:
        msb[0] &= 0x7F
    magnitude = 0
    for b in msb:
        for nibble in (b >> 4, b & 0x0F):
            if nibble > 9:
                return None
            magnitude = magnitude * 10 + nibble
    value = Decimal(magnitude).scaleb(-codec.decimals)
    return -value if negative else value


@given(
    digits=st.integers(1, 12),
    decimals=st.integers(0, 4),
    signed=st.booleans(),
    raw=st.binary(min_size=6, max_size=6),
)
def test_bcd_decodes_exactly_like_the_nibble_reference(
    digits: int, decimals: int, signed: bool, raw: bytes
) -> None:
    codec = Bcd(digits, min(decimals, digits), signed)
    plain = raw[: codec.size]
    got, want = codec.decode(plain), _nibble_reference(codec, plain)
    assert got == want and (got is None or str(got) == str(want))  # same value, same exponent
    assert codec.parse(plain) == got  # construct's path gives the same


@given(raw=st.binary(min_size=6, max_size=6))
def test_dates_decode_only_bcd_fields(raw: bytes) -> None:
    codec = DateTimeField("YYMMDDhhmmss")
    value = codec.decode(raw)
    if any(b >> 4 > 9 or b & 0x0F > 9 for b in raw):
        assert value is None
    elif value is not None:
        assert codec.encode(value) == raw
