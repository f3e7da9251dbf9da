"""meterproto.crc on CPython and MicroPython."""

from mptest import Lcg

from meterproto.crc import (
    CRC16_X25_CHECK,
    CRC16_X25_RESIDUE,
    CRC16_X25_TABLE,
    crc16_x25,
    crc16_x25_update,
)


def test_check_value():
    assert crc16_x25(b"123456789") == 0x906E == CRC16_X25_CHECK


def test_empty():
    assert crc16_x25(b"") == 0x0000


def test_table_shape():
    assert len(CRC16_X25_TABLE) == 256
    assert CRC16_X25_TABLE[0] == 0 and CRC16_X25_TABLE[1] == 0x1189
    assert CRC16_X25_TABLE[255] == 0x0F78


def test_residue_for_many_messages():
    rng = Lcg(7)
    for n in range(0, 40):
        data = rng.bytes(n)
        crc = crc16_x25(data)
        assert crc16_x25(data + bytes([crc & 0xFF, crc >> 8])) == CRC16_X25_RESIDUE


def test_pieces_equal_whole():
    data = b"meterbench controller link"
    reg = crc16_x25_update(data[:5])
    reg = crc16_x25_update(data[5:17], reg)
    reg = crc16_x25_update(data[17:], reg)
    assert reg ^ 0xFFFF == crc16_x25(data)


def test_start_end_window():
    data = b"xx123456789yy"
    assert crc16_x25(data, 0xFFFF, 2, 11) == 0x906E


def test_bytearray_and_memoryview():
    assert crc16_x25(bytearray(b"123456789")) == 0x906E
    assert crc16_x25(memoryview(b"123456789")) == 0x906E


def test_single_bit_errors_detected():
    data = bytearray(b"\xa5\x10\x00\x07\x80abcdefghijklmnop")
    good = crc16_x25(data)
    for i in range(len(data)):
        for bit in range(8):
            data[i] ^= 1 << bit
            assert crc16_x25(data) != good
            data[i] ^= 1 << bit
