"""DL/T 645 requests and replies: byte-exact against the reference's worked examples, round
trips for every function, and abnormal replies decoded into named error bits."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterproto.dlt645 import messages as m
from meterproto.dlt645.frame import DecodeError, EncodeError, Frame, decode_frame

H = bytes.fromhex
A = "230715000042"
PW = m.Password(2, "123456")


@pytest.mark.parametrize(
    ("frame", "wire"),
    [
        (m.read(A, 0x02010100), "68 42 00 00 15 07 23 68 11 04 33 34 34 35 36 16"),
        (
            m.read_reply(A, 0x02010100, H("05 23")),
            "68 42 00 00 15 07 23 68 91 06 33 34 34 35 38 56 46 16",
        ),
        (m.abnormal_reply(A, 0x11, 0x02), "68 42 00 00 15 07 23 68 D1 01 35 58 16"),
        (
            m.read_reply(A, 0x00010000, H("31 50 12 00")),
            "68 42 00 00 15 07 23 68 91 08 33 33 34 33 64 83 45 33 16 16",
        ),
        (
            m.write(A, 0x04000102, H("30 45 13"), PW, 1),
            "68 42 00 00 15 07 23 68 14 0F 35 34 33 37 35 89 67 45 34 33 33 33 63 78 46 9F 16",
        ),
        (m.normal_reply(A, m.Function.WRITE), "68 42 00 00 15 07 23 68 94 00 E5 16"),
        (
            m.broadcast_time(dt.datetime(2025, 3, 14, 9, 26, 53)),
            "68 99 99 99 99 99 99 68 08 06 86 59 3C 47 36 58 64 16",
        ),
        (m.change_baud(A, 9600), "68 42 00 00 15 07 23 68 17 01 53 BC 16"),
        (
            m.normal_reply(A, m.Function.CHANGE_BAUD, b"\x20"),
            "68 42 00 00 15 07 23 68 97 01 53 3C 16",
        ),
        (
            m.multi_function_output(A, m.MultiFunctionOutput.CLOCK_SECOND_PULSE),
            "68 42 00 00 15 07 23 68 1D 01 33 A2 16",
        ),
        (
            m.normal_reply(A, m.Function.MULTI_FUNCTION_OUTPUT, b"\x00"),
            "68 42 00 00 15 07 23 68 9D 01 33 22 16",
        ),
        (m.read_follow_up(A, 0x03300D01, 1), "68 42 00 00 15 07 23 68 12 05 34 40 63 36 34 A9 16"),
        (m.clear_demand(A, PW, 1), "68 42 00 00 15 07 23 68 19 08 35 89 67 45 34 33 33 33 A9 16"),
        (m.read_1997(A, 0x9010), "68 42 00 00 15 07 23 68 01 02 43 C3 5A 16"),
    ],
)
def test_worked_examples_byte_exact(frame: Frame, wire: str) -> None:
    assert frame.encode(preamble=0) == H(wire)


def test_read_address_goes_to_wildcard_and_reply_carries_real_address() -> None:
    assert m.read_address().address == b"\xaa" * 6
    reply = m.parse_reply(decode_frame(m.read_address_reply(A).encode()))
    assert isinstance(reply, m.ReadAddressReply) and reply.meter_address == A


def test_baud_word_is_one_hot_not_bcd() -> None:
    assert [m.baud_word(r) for r in (600, 1200, 2400, 4800, 9600, 19200)] == [
        0x02,
        0x04,
        0x08,
        0x10,
        0x20,
        0x40,
    ]
    with pytest.raises(EncodeError):
        m.baud_word(115200)
    with pytest.raises(DecodeError):
        m.baud_from_word(0x16)


def test_change_password_di_is_level_plus_one() -> None:
    frame = m.change_password(A, m.Password(0, "000000"), m.Password(4, "654321"))
    assert frame.data[:4] == H("05 0C 00 04")
    req = m.parse_request(frame)
    assert isinstance(req, m.ChangePasswordRequest)
    assert req.level == 4 and req.new.digits == "654321"


def test_freeze_fields_are_minute_first() -> None:
    assert m.freeze(A, dt.datetime(2025, 3, 14, 9, 26)).data == H("26 09 14 03")
    assert m.freeze(None).data == H("99 99 99 99") and m.freeze(None).is_broadcast
    daily = m.freeze(A, {"month": 99, "day": 99, "hour": 0, "minute": 0})
    assert daily.data == H("00 00 99 99")
    request = m.parse_request(daily)
    assert isinstance(request, m.FreezeRequest)
    assert request.pattern == {"minute": 0, "hour": 0, "day": 99, "month": 99}


def test_relay_control_layout() -> None:
    frame = m.relay_control(A, PW, 1, m.RelayCommand.TRIP, dt.datetime(2025, 3, 14, 9, 26, 53))
    assert len(frame.data) == 16
    assert frame.data[8:10] == H("1A 00") and frame.data[10:] == H("53 26 09 14 03 25")
    req = m.parse_request(frame)
    assert isinstance(req, m.AuthorisedRequest) and req.command == m.RelayCommand.TRIP


def test_password_never_printed() -> None:
    assert "123456" not in repr(PW)
    assert "123456" not in repr(m.parse_request(m.write(A, 0x04000102, b"\x00\x00\x00", PW, 1)))


@pytest.mark.parametrize(
    ("word", "version", "names"),
    [
        (0x02, 2007, ["no requested data"]),
        (0x05, 2007, ["other error", "password wrong or not authorised"]),
        (0x08, 2007, ["baud rate cannot be changed"]),
        (0x70, 2007, ["year time zones exceeded", "daily periods exceeded", "tariffs exceeded"]),
        (0x02, 1997, ["data identifier error"]),
        (0x08, 1997, ["reserved"]),
    ],
)
def test_abnormal_reply_named_bits(word: int, version: int, names: list[str]) -> None:
    function = 0x11 if version == 2007 else 0x01
    with pytest.raises(m.AbnormalReply) as info:
        m.parse_reply(m.abnormal_reply(A, function, word))
    assert info.value.errors == names and info.value.error_word == word


def test_reply_parser_rejects_requests_and_short_data() -> None:
    with pytest.raises(DecodeError, match="own echo"):
        m.parse_reply(m.read(A, 0x00010000))
    with pytest.raises(DecodeError):
        m.parse_reply(Frame(m.to_address(A), 0x91, b"\x00\x01"))
    with pytest.raises(DecodeError):
        m.parse_request(Frame(m.to_address(A), 0x11, b"\x00"))


def test_follow_up_reply_strips_seq() -> None:
    reply = m.parse_reply(m.read_follow_up_reply(A, 0x03300D01, b"abc", 2, follow_up=True))
    assert isinstance(reply, m.ReadReply)
    assert (reply.payload, reply.seq, reply.follow_up) == (b"abc", 2, True)


def test_sender_limits() -> None:
    with pytest.raises(EncodeError):
        m.write(A, 0x04000403, b"x" * 40, PW, 1)
    with pytest.raises(EncodeError):
        m.read_reply(A, 0x00010000, b"\x00" * 200)


# ---- round trips for every function --------------------------------------------------------

addresses = st.integers(0, 10**12 - 1).map(lambda n: f"{n:012d}")
dis = st.integers(0, 0xFFFFFFFF)
passwords = st.builds(
    m.Password, st.integers(0, 9), st.integers(0, 999999).map(lambda n: f"{n:06d}")
)
operators = st.integers(0, 99999999)
times = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)


@given(addresses, dis, passwords, operators, st.binary(max_size=38), times)
def test_every_request_round_trips(
    address: str, di: int, pw: m.Password, op: int, value: bytes, when: dt.datetime
) -> None:
    cases = [
        (m.read(address, di), m.ReadRequest, {"di": di}),
        (m.read_follow_up(address, di, 3), m.ReadFollowUpRequest, {"di": di, "seq": 3}),
        (
            m.write(address, di, value, pw, op),
            m.WriteRequest,
            {"di": di, "password": pw, "operator": op, "value": value},
        ),
        (m.write_address(address), m.WriteAddressRequest, {"new_address": address}),
        (m.broadcast_time(when), m.BroadcastTimeRequest, {"when": when}),
        (m.change_baud(address, 2400), m.ChangeBaudRequest, {"rate": 2400}),
        (m.clear_demand(address, pw, op), m.AuthorisedRequest, {"password": pw, "operator": op}),
        (m.clear_meter(address, pw, op), m.AuthorisedRequest, {"password": pw, "operator": op}),
        (m.clear_events(address, pw, op, di), m.AuthorisedRequest, {"event_di": di}),
        (
            m.relay_control(address, pw, op, m.RelayCommand.ALARM, when),
            m.AuthorisedRequest,
            {"command": m.RelayCommand.ALARM, "expiry": when},
        ),
        (
            m.multi_function_output(address, m.MultiFunctionOutput.TARIFF_SWITCH),
            m.MultiFunctionOutputRequest,
            {"mode": 2},
        ),
        (m.read_1997(address, di & 0xFFFF), m.ReadRequest, {"di": di & 0xFFFF, "version": 1997}),
        (
            m.write_1997(address, di & 0xFFFF, value[:30], pw),
            m.WriteRequest,
            {"di": di & 0xFFFF, "value": value[:30], "version": 1997},
        ),
    ]
    for frame, kind, fields in cases:
        parsed = m.parse_request(decode_frame(frame.encode()))
        assert isinstance(parsed, kind)
        for name, want in fields.items():
            assert getattr(parsed, name) == want, (kind, name)


@given(addresses, dis, st.binary(max_size=196), st.booleans())
def test_read_replies_round_trip(address: str, di: int, payload: bytes, more: bool) -> None:
    reply = m.parse_reply(decode_frame(m.read_reply(address, di, payload, more).encode()))
    assert isinstance(reply, m.ReadReply)
    assert (reply.address, reply.di, reply.payload, reply.follow_up) == (address, di, payload, more)


# -- the edition is the caller's knowledge, not a guess from the function code ------------------


def test_2007_security_error_reply_decodes_as_2007_when_the_caller_says_so() -> None:
    """C3H (03H security, abnormal) with a 2-byte SERR looked like a 1997 re-read."""
    frame = Frame(b"\x01\x00\x00\x00\x00\x00", 0xC3, b"\x04\x00")
    with pytest.raises(m.AbnormalReply) as caught:
        m.parse_reply(frame, version=2007)
    assert caught.value.version == 2007
    assert caught.value.errors == ["password wrong or not authorised"]


def test_1997_reread_reply_decodes_as_1997_when_the_caller_says_so() -> None:
    """83H (1997 re-read reply) with DI + value looked like a 2007 security reply."""
    frame = Frame(b"\x01\x00\x00\x00\x00\x00", 0x83, b"\x10\x90\x42\x06\x12\x00")
    reply = m.parse_reply(frame, version=1997)
    assert isinstance(reply, m.ReadReply)
    assert (reply.version, reply.di, reply.payload) == (1997, 0x9010, b"\x42\x06\x12\x00")


def test_request_edition_from_the_caller() -> None:
    frame = m.read_1997("000000000001", 0xC032)
    assert m.parse_request(frame, version=1997).version == 1997
    with pytest.raises(ValueError, match="edition"):
        m.parse_reply(frame, version=2001)
