"""CRC-16/X-25 (poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF) for the controller link and
DL/T 698.45. MicroPython-safe: a 256-entry table built once at import, plain integer maths.

Check value: crc16_x25(b"123456789") == 0x906E; the residue over data + CRC (low byte first) is
0x0F47 for any data.
"""

from meterproto.compat import const

CRC16_X25_CHECK = const(0x906E)
CRC16_X25_RESIDUE = const(0x0F47)


def _make_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0x8408
            else:
                crc >>= 1
        table.append(crc)
    return tuple(table)


CRC16_X25_TABLE = _make_table()


def crc16_x25(data, crc=0xFFFF, start=0, end=None):
    """CRC-16/X-25 of data[start:end]; pass a previous raw register in crc to continue.

    Returns the final value (already XORed with 0xFFFF). To continue over several pieces use
    crc16_x25_update and finish with ``^ 0xFFFF``.
    """
    return crc16_x25_update(data, crc, start, end) ^ 0xFFFF


def crc16_x25_update(data, crc=0xFFFF, start=0, end=None):
    """Advance the raw CRC register over data[start:end] without the final XOR."""
    table = CRC16_X25_TABLE
    if end is None:
        end = len(data)
    for i in range(start, end):
        crc = (crc >> 8) ^ table[(crc ^ data[i]) & 0xFF]
    return crc
