"""CRC-16/X-25: the table code used on the controllers equals crcmod's reference."""

import crcmod.predefined
from hypothesis import given
from hypothesis import strategies as st

from meterproto.crc import CRC16_X25_CHECK, CRC16_X25_RESIDUE, crc16_x25, crc16_x25_update

REFERENCE = crcmod.predefined.mkPredefinedCrcFun("x-25")


def test_check_value() -> None:
    assert crc16_x25(b"123456789") == 0x906E == CRC16_X25_CHECK == REFERENCE(b"123456789")


@given(st.binary(max_size=600))
def test_equals_crcmod(data: bytes) -> None:
    assert crc16_x25(data) == REFERENCE(data)


@given(st.binary(max_size=300))
def test_residue(data: bytes) -> None:
    crc = crc16_x25(data)
    assert crc16_x25(data + crc.to_bytes(2, "little")) == CRC16_X25_RESIDUE == 0x0F47


@given(st.binary(max_size=300), st.data())
def test_continuation_and_window(data: bytes, draw: st.DataObject) -> None:
    cut = draw.draw(st.integers(0, len(data)))
    reg = crc16_x25_update(data[cut:], crc16_x25_update(data[:cut]))
    assert reg ^ 0xFFFF == REFERENCE(data)
    assert crc16_x25(b"..." + data + b"..", 0xFFFF, 3, 3 + len(data)) == REFERENCE(data)
