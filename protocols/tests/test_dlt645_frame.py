"""The DL/T 645 framer: exact encoding, one-frame decoding with clear errors, and a stream
decoder that survives every parsing trap of the protocol reference (section 11)."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterproto.dlt645.frame import (
    MAX_FRAME_LEN,
    DecodeError,
    EncodeError,
    Frame,
    StreamDecoder,
    address_from_text,
    address_to_text,
    decode_frame,
    scramble,
    unscramble,
)

H = bytes.fromhex
ADDRESS = address_from_text("230715000042")

# Worked examples, protocol reference section 14 (wire bytes without preamble).
READ_VOLTAGE = H("68 42 00 00 15 07 23 68 11 04 33 34 34 35 36 16")
REPLY_ENERGY_CS_16 = H("68 42 00 00 15 07 23 68 91 08 33 33 34 33 64 83 45 33 16 16")
REPLY_CURRENT_NEG = H("68 42 00 00 15 07 23 68 91 07 33 34 35 35 67 45 B3 19 16")
ABNORMAL_REPLY = H("68 42 00 00 15 07 23 68 D1 01 35 58 16")


def test_address_text_round_trip_and_padding() -> None:
    assert H("42 00 00 15 07 23") == ADDRESS
    assert address_to_text(ADDRESS) == "230715000042"
    assert address_from_text("1234") == H("34 12 00 00 00 00")
    assert address_from_text("1234", pad=0xAA) == H("34 12 AA AA AA AA")
    assert address_from_text("aaaaaaaaaaaa") == H("AA AA AA AA AA AA")
    with pytest.raises(EncodeError):
        address_from_text("12345678901234")
    with pytest.raises(EncodeError):
        address_from_text("12345x")


def test_scramble_wraps_modulo_256() -> None:
    assert scramble(H("00 CD FF")) == H("33 00 32")
    assert unscramble(H("33 00 32")) == H("00 CD FF")


def test_encode_matches_worked_example_with_preamble() -> None:
    frame = Frame(ADDRESS, 0x11, H("00 01 01 02"))
    assert frame.encode() == b"\xfe" * 4 + READ_VOLTAGE
    assert frame.encode(preamble=0) == READ_VOLTAGE


def test_decode_frame_whose_checksum_is_16h() -> None:
    frame = decode_frame(REPLY_ENERGY_CS_16)
    assert frame.data == H("00 00 01 00 31 50 12 00")
    assert frame.control == 0x91 and frame.is_response and not frame.abnormal


def test_control_code_fields() -> None:
    frame = decode_frame(ABNORMAL_REPLY)
    assert (frame.direction, frame.abnormal, frame.follow_up, frame.function) == (
        "response",
        True,
        False,
        0x11,
    )
    assert Frame(ADDRESS, 0xB1).follow_up
    assert Frame(ADDRESS, 0x01, b"\x10\x90").version == "dlt645-1997"
    assert Frame(ADDRESS, 0x11, b"\x00" * 4).version == "dlt645-2007"
    assert Frame(ADDRESS, 0x03).version == "dlt645-1997"  # re-read, no data
    assert Frame(ADDRESS, 0x03, b"\x00" * 8).version == "dlt645-2007"  # security


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (H("FE FE"), "only FEH"),
        (H("00") + READ_VOLTAGE, "does not start with 68H"),
        (READ_VOLTAGE[:8], "too short"),
        (READ_VOLTAGE[:7] + b"\x00" + READ_VOLTAGE[8:], "second 68H"),
        (READ_VOLTAGE[:-3], "truncated"),
        (READ_VOLTAGE[:-2] + b"\x00\x16", "checksum mismatch"),
        (READ_VOLTAGE[:-1] + b"\x17", "end byte"),
        (READ_VOLTAGE + b"\x00", "unexpected bytes"),
        (
            H("68 4A 00 00 15 07 23 68 11 00") + bytes([(0xD0 + 0x4A + 0x11) & 0xFF]) + b"\x16",
            "not BCD",
        ),
    ],
)
def test_decode_frame_names_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_frame(data)


def test_stream_decoder_handles_the_parsing_traps() -> None:
    stream = (
        H("00 16 68 68 FE")  # junk with stray start and end bytes
        + b"\xfe" * 9
        + REPLY_ENERGY_CS_16  # long preamble, CS = 16H
        + H("68")
        + READ_VOLTAGE  # an extra 68H glued in front (WKJay #5)
        + READ_VOLTAGE[:-2]
        + b"\x00\x16"  # a frame with a wrong checksum
        + REPLY_CURRENT_NEG
        + REPLY_CURRENT_NEG  # two frames in one read
        + H("00 11 22 33")  # trailing junk
    )
    decoder = StreamDecoder()
    frames = []
    for size in (1, 3, 7, 2, 50):  # split anywhere
        for i in range(0, len(stream), size):
            frames += decoder.feed(stream[i : i + size])
        frames += decoder.flush()
        assert [f.raw for f in frames] == [
            REPLY_ENERGY_CS_16,
            READ_VOLTAGE,
            REPLY_CURRENT_NEG,
            REPLY_CURRENT_NEG,
        ]
        assert decoder.pending == 0
        frames = []
    assert decoder.bad_checksum >= 5


def test_stray_68_inside_address_and_data() -> None:
    addr = address_from_text("686868686868")
    frame = Frame(addr, 0x91, H("68 16 68 16 FE"))
    wire = frame.encode()
    decoder = StreamDecoder()
    assert decoder.feed(H("68 68") + wire) == [frame]


def test_incomplete_candidate_waits_then_flush_releases_hidden_frame() -> None:
    # Junk that looks like the head of a long frame (L = 200) hides a real frame behind it
    # until the inter-byte gap expires and the owner calls flush().
    junk = H("68 11 11 11 11 11 11 68 91 C8")
    decoder = StreamDecoder()
    assert decoder.feed(junk + READ_VOLTAGE) == []
    assert [f.raw for f in decoder.flush()] == [READ_VOLTAGE]


def test_memory_stays_bounded_on_endless_garbage() -> None:
    rng = random.Random(7)
    decoder = StreamDecoder()
    for _ in range(2000):
        decoder.feed(bytes(rng.getrandbits(8) for _ in range(64)))
        assert decoder.pending < MAX_FRAME_LEN
    # Worst case: garbage made only of plausible frame heads.
    head = H("68 00 00 00 00 00 00 68 11 FF")
    for _ in range(100):
        decoder.feed(head)
        assert decoder.pending < MAX_FRAME_LEN


# ---- properties ------------------------------------------------------------------------------

address_bytes = st.lists(
    st.one_of(st.integers(0, 99).map(lambda n: n // 10 << 4 | n % 10), st.just(0xAA)),
    min_size=6,
    max_size=6,
).map(bytes)
frames = st.builds(Frame, address_bytes, st.integers(0, 255), st.binary(max_size=255))


@given(frames, st.integers(0, 8))
def test_encode_decode_round_trip(frame: Frame, preamble: int) -> None:
    wire = frame.encode(preamble)
    decoded = decode_frame(wire)
    assert decoded == frame
    assert decoded.encode(preamble) == wire


@given(st.binary(max_size=300))
def test_decode_frame_raises_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_frame(data)


@given(frames, st.lists(st.tuples(st.integers(0, 299), st.integers(0, 255)), max_size=6))
def test_mutated_frames_raise_only_decode_error(frame: Frame, flips: list[tuple[int, int]]) -> None:
    wire = bytearray(frame.encode(2))
    for pos, value in flips:
        if pos < len(wire):
            wire[pos] = value
    with contextlib.suppress(DecodeError):
        decode_frame(bytes(wire))
    decoder = StreamDecoder()
    decoder.feed(bytes(wire))
    decoder.flush()


@given(
    st.lists(st.tuples(st.binary(max_size=40), frames), min_size=1, max_size=6),
    st.binary(max_size=40),
    st.randoms(use_true_random=False),
)
def test_valid_frames_in_noise_are_never_lost(
    pieces: list[tuple[bytes, Frame]], tail: bytes, rnd: random.Random
) -> None:
    stream = b"".join(junk + f.encode(rnd.randint(0, 4)) for junk, f in pieces) + tail
    decoder = StreamDecoder()
    found: list[Frame] = []
    pos = 0
    while pos < len(stream):
        step = rnd.randint(1, 64)
        found += decoder.feed(stream[pos : pos + step])
        pos += step
    found += decoder.flush()
    wanted = [f for _, f in pieces]
    # Every embedded frame comes out, in order (random junk may add frames of its own).
    it = iter(found)
    assert all(any(w == g for g in it) for w in wanted), (wanted, found)
