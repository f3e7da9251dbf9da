"""meterproto.dlt645.frame golden frames (shared/reference/protocols.md section 14)."""

from mptest import raises

from meterproto.compat import from_hex
from meterproto.dlt645 import frame as f

ADDRESS = from_hex("42 00 00 15 07 23")

# (name, control, plain data, preamble, wire)
GOLDEN = (
    (
        "read voltage A",
        0x11,
        "00 01 01 02",
        4,
        "FE FE FE FE 68 42 00 00 15 07 23 68 11 04 33 34 34 35 36 16",
    ),
    (
        "reply 230.5 V",
        0x91,
        "00 01 01 02 05 23",
        0,
        "68 42 00 00 15 07 23 68 91 06 33 34 34 35 38 56 46 16",
    ),
    ("abnormal reply", 0xD1, "02", 0, "68 42 00 00 15 07 23 68 D1 01 35 58 16"),
    (
        "CS is 16H",
        0x91,
        "00 00 01 00 31 50 12 00",
        0,
        "68 42 00 00 15 07 23 68 91 08 33 33 34 33 64 83 45 33 16 16",
    ),
    ("write ack", 0x94, "", 0, "68 42 00 00 15 07 23 68 94 00 E5 16"),
    ("1DH second pulse", 0x1D, "00", 0, "68 42 00 00 15 07 23 68 1D 01 33 A2 16"),
    ("1997 read 9010", 0x01, "10 90", 0, "68 42 00 00 15 07 23 68 01 02 43 C3 5A 16"),
)
BROADCAST_TIME = "68 99 99 99 99 99 99 68 08 06 86 59 3C 47 36 58 64 16"


def test_encode_golden():
    for name, control, data, preamble, wire in GOLDEN:
        assert f.encode_frame(ADDRESS, control, from_hex(data), preamble) == from_hex(wire), name


def test_decode_golden():
    for name, control, data, _preamble, wire in GOLDEN:
        fr = f.decode_frame(from_hex(wire))
        assert fr.address == ADDRESS, name
        assert fr.control == control, name
        assert fr.data == from_hex(data), name
        assert fr.address_text == "230715000042"


def test_broadcast_time():
    fr = f.decode_frame(from_hex(BROADCAST_TIME))
    assert fr.is_broadcast and fr.function == 0x08
    assert fr.data == from_hex("53 26 09 14 03 25")


def test_decode_rejects():
    wire = bytearray(from_hex(GOLDEN[1][4]))
    wire[-2] ^= 1
    raises(f.DecodeError, f.decode_frame, wire)
    raises(f.DecodeError, f.decode_frame, from_hex(GOLDEN[1][4])[:-1])
    raises(f.DecodeError, f.decode_frame, b"")


def _all_wires():
    return [from_hex(g[4]) for g in GOLDEN]


def test_stream_garbage_split_merged():
    wires = _all_wires()
    stream = b"\x00\x68\x16garbage\xfe" + b"".join(wires) + b"\x68\x68\x16"
    for cut in range(0, len(stream), 3):
        dec = f.StreamDecoder()
        got = dec.feed(stream[:cut]) + dec.feed(stream[cut:])
        assert [g.raw for g in got] == [w.lstrip(b"\xfe") for w in wires], cut


def test_stream_fe_preamble_and_cs_16h():
    cs16 = from_hex(GOLDEN[3][4])
    dec = f.StreamDecoder()
    got = []
    for b in b"\xfe\xfe\xfe\xfe" + cs16 + b"\xfe\xfe" + cs16:
        got += dec.feed(bytes([b]))
    assert len(got) == 2
    assert got[0].data == from_hex(GOLDEN[3][2])
    assert dec.pending == 0


def test_stream_bad_checksum_then_good():
    good = from_hex(GOLDEN[1][4])
    bad = bytearray(good)
    bad[-2] ^= 0x01
    dec = f.StreamDecoder()
    got = dec.feed(bytes(bad) + good)
    assert len(got) == 1 and got[0].raw == good
    assert dec.bad_checksum == 1
