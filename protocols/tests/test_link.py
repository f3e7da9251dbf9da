"""Controller link: every message round-trips; the stream decoder never raises and finds every
embedded frame whatever the split points; memory stays bounded."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from meterproto import link
from meterproto.link import messages

_INT_RANGES = {
    "b": (-0x80, 0x7F),
    "B": (0, 0xFF),
    "h": (-0x8000, 0x7FFF),
    "H": (0, 0xFFFF),
    "i": (-(2**31), 2**31 - 1),
    "I": (0, 2**32 - 1),
    "q": (-(2**63), 2**63 - 1),
    "Q": (0, 2**64 - 1),
}


def fields_for(spec: messages.MessageSpec) -> st.SearchStrategy[dict[str, object]]:
    """Strategy for valid field values of one message (text fields never end in NUL)."""
    parts: dict[str, st.SearchStrategy[object]] = {}
    for name, code in zip(spec.fields, spec.codes, strict=True):
        if isinstance(code, int):
            parts[name] = st.binary(max_size=code).map(lambda b: b.rstrip(b"\x00"))
        else:
            lo, hi = _INT_RANGES[code]
            parts[name] = st.integers(lo, hi)
    if spec.tail is not None:
        parts[spec.tail] = st.binary(max_size=link.MAX_PAYLOAD - spec.size)
    return st.fixed_dictionaries(parts)


message_st = st.sampled_from(sorted(messages.SPECS)).flatmap(
    lambda t: st.tuples(st.just(t), st.integers(0, 255), fields_for(messages.SPECS[t]))
)


@given(message_st)
def test_every_message_round_trips(msg: tuple[int, int, dict[str, object]]) -> None:
    msg_type, seq, fields = msg
    wire = link.encode(msg_type, seq, **fields)
    decoded = link.decode(wire)
    assert (decoded.msg_type, decoded.seq, decoded.fields) == (msg_type, seq, fields)
    assert len(wire) <= link.MAX_FRAME


def test_table_covers_the_firmware_functions() -> None:
    names = set(messages.SPECS_BY_NAME)
    assert {
        "HELLO",
        "HELLO_REPLY",
        "ACK",
        "NAK",
        "ERR_START",
        "ERR_READING",
        "STOP",
        "WINDOW_START",
        "WINDOW_PULSE",
        "WINDOW_END",
        "PERIOD_START",
        "PERIOD_READING",
        "RS485_XFER",
        "RS485_REPLY",
        "OUTPUT_SET",
        "STATUS_GET",
        "STATUS",
        "HEARTBEAT",
        "RESULT_ACK",
        "LOG",
        "RESET",
    } <= names


def _wire(msgs: list[tuple[int, int, dict[str, object]]]) -> list[bytes]:
    return [link.encode(t, s, **f) for t, s, f in msgs]


def _feed_split(data: bytes, cuts: list[int]) -> tuple[list[link.Frame], link.LinkDecoder]:
    dec = link.LinkDecoder()
    frames: list[link.Frame] = []
    prev = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        frames += dec.feed(data[prev:cut])
        assert dec.pending < link.MAX_FRAME
        prev = cut
    return frames, dec


@settings(max_examples=150)
@given(
    st.lists(message_st, min_size=1, max_size=6),
    st.lists(st.binary(max_size=40), min_size=7, max_size=7),
    st.data(),
)
def test_embedded_frames_found_with_random_splits(
    msgs: list[tuple[int, int, dict[str, object]]], garbage: list[bytes], data: st.DataObject
) -> None:
    wires = _wire(msgs)
    stream = bytearray(garbage[0])
    for w, g in zip(wires, garbage[1:], strict=False):
        stream += w + g
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    frames, _ = _feed_split(bytes(stream), cuts)
    got = [f.encode() for f in frames]
    # Garbage can only add frames if it happens to hold a valid one; ours must all be there,
    # in order.
    it = iter(got)
    assert all(any(g == w for g in it) for w in wires)


@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=20))
def test_random_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    _feed_split(data, [c for c in cuts if c <= len(data)])


@given(
    st.lists(message_st, min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=8),
    st.lists(st.integers(0, 10_000), max_size=8),
)
def test_mutated_streams_never_raise(
    msgs: list[tuple[int, int, dict[str, object]]],
    flips: list[tuple[int, int]],
    drops: list[int],
) -> None:
    stream = bytearray(b"".join(_wire(msgs)))
    for pos, mask in flips:
        stream[pos % len(stream)] ^= mask
    for pos in drops:
        if stream:
            del stream[pos % len(stream)]
    frames, dec = _feed_split(bytes(stream), [len(stream) // 3, len(stream) // 2])
    for frame in frames:
        # A mutation can make a frame of an unknown type; never any other error.
        with contextlib.suppress(link.LinkError):
            link.parse(frame)
    assert dec.frames == len(frames)


@given(st.lists(st.binary(min_size=1, max_size=700), max_size=30))
def test_memory_bounded_on_start_bytes(chunks: list[bytes]) -> None:
    dec = link.LinkDecoder()
    for chunk in chunks:
        dec.feed(b"\xa5" + chunk)
        assert dec.pending < link.MAX_FRAME


def test_random_garbage_yields_no_false_frames() -> None:
    import random

    rnd = random.Random(42)
    dec = link.LinkDecoder()
    frames = []
    for _ in range(50):
        frames += dec.feed(rnd.randbytes(20_000))
    assert frames == []
    # Nearly every false start dies at the header check, long before its LEN would be read.
    assert dec.bad_header > 50 * dec.bad_crc


def test_max_payload_frame() -> None:
    wire = link.encode_frame(link.LOG, 1, bytes(link.MAX_PAYLOAD))
    assert len(wire) == link.MAX_FRAME
    assert link.decode_frame(wire).payload == bytes(link.MAX_PAYLOAD)
