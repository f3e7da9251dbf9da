"""meterproto.link (frame codec, stream decoder, message table) on CPython and MicroPython."""

from mptest import Lcg, raises

from meterproto import link
from meterproto.link import messages

_MAX = {"b": 0x7F, "B": 0xFF, "h": 0x7FFF, "H": 0xFFFF, "i": 0x7FFFFFFF, "I": 0xFFFFFFFF}


def sample_fields(spec, rng, extreme=False):
    """Field values for a message: random, or the largest each field allows."""
    fields = {}
    for name, code in zip(spec.fields, spec.codes):
        if isinstance(code, int):
            text = b"x" * code if extreme else ("v%d" % rng.below(1000)).encode()
            fields[name] = text[:code]
        elif code in ("q", "Q"):
            fields[name] = (1 << 63) - 1 if extreme else rng.next() * rng.next()
        else:
            top = _MAX[code]
            fields[name] = top if extreme else rng.next() % (top + 1)
    if spec.tail is not None:
        room = link.MAX_PAYLOAD - spec.size
        fields[spec.tail] = b"\x00\xa5" * (room // 2) if extreme else rng.bytes(rng.below(40))
    return fields


def _stream(rng, count):
    msgs = []
    for k in range(count):
        spec = messages.TABLE[rng.below(len(messages.TABLE))]
        spec = messages.SPECS[spec[0]]
        msgs.append((spec.msg_type, k & 0xFF, sample_fields(spec, rng)))
    return msgs


def test_every_message_round_trips():
    rng = Lcg(1)
    for row in messages.TABLE:
        spec = messages.SPECS[row[0]]
        for extreme in (False, True):
            fields = sample_fields(spec, rng, extreme)
            wire = link.encode(spec.msg_type, 200, **fields)
            msg = link.decode(wire)
            assert msg.msg_type == spec.msg_type and msg.seq == 200, spec.name
            assert msg.fields == fields, spec.name
            assert msg.name == spec.name
            assert msg.encode() == wire


def test_encode_by_name_equals_by_id():
    a = link.encode("ACK", 5, req_type=link.HELLO)
    b = link.encode(link.ACK, 5, req_type=link.HELLO)
    assert a == b


def test_table_ids_unique_and_in_their_ranges():
    seen = {}
    for row in messages.TABLE:
        assert row[0] not in seen
        seen[row[0]] = row[1]
        assert 0 < row[0] <= 0xFF
    assert messages.is_request(link.HELLO) and messages.is_reply(link.HELLO_REPLY)
    assert messages.is_event(link.ERR_READING)
    for t in messages.RESULT_TYPES:
        assert messages.SPECS[t].fields[0] == "result_id"


def test_frame_layout():
    wire = link.encode(link.ACK, 0x42, req_type=0x10)
    assert wire[0] == 0xA5
    assert wire[1] == 1 and wire[2] == 0
    assert wire[3] == 0x42 and wire[4] == link.ACK
    assert wire[5] == link.header_check(wire)
    assert wire[6] == 0x10
    assert len(wire) == link.OVERHEAD + 1


def test_encode_errors():
    raises(link.EncodeError, link.encode, link.ACK, 1)
    raises(link.EncodeError, link.encode, link.ACK, 1, req_type=1, other=2)
    raises(link.EncodeError, link.encode, link.ACK, 1, req_type=256)
    raises(link.EncodeError, link.encode, link.ACK, 256, req_type=1)
    raises(link.EncodeError, link.encode, link.NAK, 1, req_type=1, reason=-1, detail=0)
    raises(link.EncodeError, link.encode, link.ACK, 1, req_type="x")
    raises(link.LinkError, link.encode, 0x7E, 1)
    raises(link.EncodeError, link.encode_frame, 1, 1, bytes(link.MAX_PAYLOAD + 1))
    big = bytes(link.MAX_PAYLOAD)
    raises(link.EncodeError, link.encode, link.LOG, 1, level=1, text=big)


def test_decode_errors():
    wire = bytearray(link.encode(link.ACK, 1, req_type=2))
    raises(link.LinkError, link.decode, wire[:-1])
    raises(link.LinkError, link.decode, wire + b"\x00")
    bad = bytearray(wire)
    bad[-1] ^= 1
    raises(link.LinkError, link.decode, bad)
    bad = bytearray(wire)
    bad[5] ^= 1
    raises(link.LinkError, link.decode, bad)
    raises(link.LinkError, link.decode, b"\x00" + wire[1:])
    raises(link.UnknownMessage, link.decode, link.encode_frame(0x7E, 1, b""))
    raises(link.LinkError, link.decode, link.encode_frame(link.ACK, 1, b"\x01\x02"))


def test_stream_split_at_every_point():
    wire = link.encode(link.RS485_XFER, 9, position=1, framing=1, timeout_ms=500, data=b"\xa5\xa5")
    stream = wire + wire
    for cut in range(len(stream) + 1):
        dec = link.LinkDecoder()
        got = dec.feed(stream[:cut]) + dec.feed(stream[cut:])
        assert len(got) == 2, cut
        assert got[0].payload == got[1].payload
        assert dec.pending == 0


def test_stream_byte_by_byte_with_garbage():
    rng = Lcg(3)
    msgs = _stream(rng, 20)
    stream = bytearray()
    for t, seq, fields in msgs:
        stream += rng.bytes(rng.below(12))
        stream += link.encode(t, seq, **fields)
    dec = link.LinkDecoder()
    got = []
    for b in stream:
        got += dec.feed(bytes([b]))
    assert [(f.msg_type, f.seq) for f in got] == [(t, s) for t, s, _ in msgs]


def test_random_chunks_find_every_frame():
    rng = Lcg(11)
    msgs = _stream(rng, 40)
    stream = bytearray()
    for t, seq, fields in msgs:
        stream += rng.bytes(rng.below(30))
        stream += link.encode(t, seq, **fields)
    dec = link.LinkDecoder()
    got = []
    i = 0
    while i < len(stream):
        n = 1 + rng.below(64)
        got += dec.feed(stream[i : i + n])
        i += n
    assert len(got) == len(msgs)
    for frame, (t, seq, fields) in zip(got, msgs):
        assert link.parse(frame).fields == fields


def test_garbage_never_raises_and_memory_is_bounded():
    rng = Lcg(5)
    dec = link.LinkDecoder()
    for _ in range(200):
        chunk = rng.bytes(rng.below(100))
        if rng.below(4) == 0:
            chunk = b"\xa5" + chunk  # many start bytes
        dec.feed(chunk)
        assert dec.pending < link.MAX_FRAME
    assert dec.frames == 0


def test_corrupted_frames_never_raise_and_good_ones_survive():
    rng = Lcg(9)
    dec = link.LinkDecoder()
    good = 0
    found = 0
    for t, seq, fields in _stream(rng, 60):
        wire = bytearray(link.encode(t, seq, **fields))
        if rng.below(2):
            wire[rng.below(len(wire))] ^= 1 + rng.below(255)
        else:
            good += 1
        found += len(dec.feed(wire))
        assert dec.pending < link.MAX_FRAME
    assert found >= good  # a corrupted frame's damage can only hide itself


def test_false_start_with_huge_length_does_not_delay_next_frame():
    wire = link.encode(link.ACK, 3, req_type=1)
    fake = bytearray(b"\xa5\xff\x01\x00\x00\x00")  # LEN 511, wrong header check
    if fake[5] == link.header_check(fake):
        fake[5] ^= 0xFF
    dec = link.LinkDecoder()
    got = dec.feed(bytes(fake) + wire)
    assert len(got) == 1 and got[0].seq == 3
    assert dec.bad_header == 1


def test_bad_crc_is_reported_for_nak():
    wire = bytearray(link.encode(link.STATUS_GET, 77))
    wire[-1] ^= 0x55
    dec = link.LinkDecoder()
    assert dec.feed(wire) == []
    assert dec.bad_crc == 1
    assert dec.pop_rejects() == [(77, link.STATUS_GET)]
    assert dec.pop_rejects() == []


def test_start_byte_inside_payload():
    payload = b"\xa5" * 50
    wire = link.encode(link.LOG, 1, level=20, text=payload)
    dec = link.LinkDecoder()
    got = dec.feed(b"\xa5\xa5" + wire)
    assert len(got) == 1 and link.parse(got[0])["text"] == payload


def test_reset_discards_partial():
    wire = link.encode(link.ACK, 3, req_type=1)
    dec = link.LinkDecoder()
    dec.feed(wire[:7])
    assert dec.pending == 7
    dec.reset()
    assert dec.pending == 0
    assert len(dec.feed(wire)) == 1


def test_flush_drops_a_truncated_frame_and_frees_the_next():
    """A frame cut short (the controller reset mid-send) must not hold up the next one: flush
    gives up on the incomplete candidate and returns every frame hidden behind it."""
    first = link.encode(link.LOG, 1, level=20, text=b"x" * 120)
    second = link.encode(link.ACK, 2, req_type=2)
    dec = link.LinkDecoder()
    assert dec.feed(first[:20] + second) == []  # the cut frame's length swallows the next
    got = dec.flush()
    assert [f.seq for f in got] == [2]
    assert dec.pending == 0
    assert [f.seq for f in dec.feed(first)] == [1]  # and decoding goes on


def test_flush_keeps_nothing_and_finds_nothing_in_garbage():
    dec = link.LinkDecoder()
    dec.feed(b"\xa5\x10")
    assert dec.flush() == []
    assert dec.pending == 0
