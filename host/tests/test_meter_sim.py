"""The simulated meters as pure models (no transport): they must answer exactly as the protocol
reference says a real meter does, byte for byte where the reference gives the frame."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from meterbench.sim.answer import Answer
from meterbench.sim.faults import Fault, FaultPlan
from meterbench.sim.line import LineFormat, SimLine
from meterbench.sim.meter_cjt188 import Cjt188WaterMeter
from meterbench.sim.meter_dlt645 import Dlt645Meter
from meterproto.cjt188 import frame as cframe
from meterproto.cjt188 import messages as cmsg
from meterproto.compat import from_hex
from meterproto.dlt645 import messages as msg
from meterproto.dlt645.di import lookup
from meterproto.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    DecodeError,
    Frame,
    StreamDecoder,
    decode_frame,
)

ADDRESS = "230715000042"
PASSWORD = msg.Password(2, "000000")
NOW = dt.datetime(2025, 3, 14, 9, 26, 53)


def model(**kwargs: object) -> Dlt645Meter:
    kwargs.setdefault("preamble", 0)
    kwargs.setdefault("clock_source", lambda: NOW)
    m = Dlt645Meter(address=ADDRESS, **kwargs)  # type: ignore[arg-type]
    m.set_energy(Decimal("1250.31"))
    return m


def wire(frame: Frame | None) -> str:
    assert frame is not None
    return frame.encode(preamble=0).hex(" ").upper()


def error_word(frame: Frame | None) -> int:
    assert frame is not None and frame.abnormal and len(frame.data) == 1
    return frame.data[0]


# -- worked examples of the protocol reference (section 14) ------------------------------------


def test_worked_examples_are_answered_byte_for_byte() -> None:
    m = model()
    m.set_instantaneous(voltage=Decimal("230.5"))
    request = decode_frame(from_hex("FE FE FE FE 68 42 00 00 15 07 23 68 11 04 33 34 34 35 36 16"))
    assert wire(m.handle(request)) == "68 42 00 00 15 07 23 68 91 06 33 34 34 35 38 56 46 16"
    # 1250.31 kWh: the checksum of this reply is 16H, like the end byte
    assert wire(m.handle(msg.read(ADDRESS, 0x00010000))) == (
        "68 42 00 00 15 07 23 68 91 08 33 33 34 33 64 83 45 33 16 16"
    )
    m.passwords[2] = "123456"
    write = decode_frame(
        from_hex("68 42 00 00 15 07 23 68 14 0F 35 34 33 37 35 89 67 45 34 33 33 33 63 78 46 9F 16")
    )
    assert wire(m.handle(write)) == "68 42 00 00 15 07 23 68 94 00 E5 16"
    assert m.now().time() == dt.time(13, 45, 30) and m.last_operator == 1
    m.supported_rates = (2400, 9600)
    assert (
        wire(m.handle(msg.change_baud(ADDRESS, 9600))) == "68 42 00 00 15 07 23 68 97 01 53 3C 16"
    )
    assert m.baudrate == 9600
    assert wire(
        m.handle(msg.multi_function_output(ADDRESS, msg.MultiFunctionOutput.CLOCK_SECOND_PULSE))
    ) == ("68 42 00 00 15 07 23 68 9D 01 33 22 16")


def test_unknown_identifier_is_refused_with_no_requested_data() -> None:
    reply = model().handle(msg.read(ADDRESS, 0x0201FF01))
    assert wire(reply) == "68 42 00 00 15 07 23 68 D1 01 35 58 16"


# -- addressing --------------------------------------------------------------------------------


def test_silent_on_other_addresses_and_on_broadcasts() -> None:
    m = model()
    assert m.handle(msg.read("230715000043", 0x00010000)) is None
    assert m.handle(Frame(BROADCAST_ADDRESS, 0x11, bytes(4))) is None  # 2007: no reads to 99
    assert m.handle(msg.broadcast_time(dt.datetime(2025, 3, 15, 8, 0, 0))) is None
    assert m.now() == dt.datetime(2025, 3, 15, 8, 0, 0)  # ... but it obeyed
    assert m.handle(msg.freeze(None)) is None and len(m.freezes) == 1
    reply = msg.normal_reply(ADDRESS, 0x11, bytes(4))
    assert m.handle(reply) is None  # another device's reply is not a request


def test_wildcards_get_the_real_address() -> None:
    m = model()
    reply = m.handle(msg.read_address())
    assert reply is not None and reply.address_text == ADDRESS and reply.data == reply.address
    short = m.handle(msg.read("aaaaaa000042", 0x00010000))  # AAH-padded short address
    assert short is not None and short.address_text == ADDRESS
    assert m.handle(msg.read("aaaaaa000043", 0x00010000)) is None


# -- error bits --------------------------------------------------------------------------------


def test_writes_check_password_level_and_item() -> None:
    m = model()
    value = lookup(0x04000103).encode(30)  # type: ignore[union-attr]
    assert (
        error_word(m.handle(msg.write(ADDRESS, 0x04000103, value, msg.Password(2, "111111"), 0)))
        == 0x04
    )
    weak = model(passwords={8: "000000"})
    assert (
        error_word(weak.handle(msg.write(ADDRESS, 0x04000103, value, msg.Password(8, "000000"), 0)))
        == 0x04
    )
    assert error_word(m.handle(msg.write(ADDRESS, 0x00010000, bytes(4), PASSWORD, 0))) == 0x01
    assert error_word(m.handle(msg.write(ADDRESS, 0x04000103, b"\xff", PASSWORD, 0))) == 0x01
    assert wire(m.handle(msg.write(ADDRESS, 0x04000103, value, PASSWORD, 0)))[24:26] == "94"
    assert m.params[0x04000103] == 30 and m.events["programming"] == 1
    keyed = model(require_programming_key=True)
    assert error_word(keyed.handle(msg.write(ADDRESS, 0x04000103, value, PASSWORD, 0))) == 0x04
    keyed.press_programming_key()
    assert not keyed.handle(msg.write(ADDRESS, 0x04000103, value, PASSWORD, 0)).abnormal  # type: ignore[union-attr]


def test_baud_output_follow_up_and_password_errors() -> None:
    m = model()
    assert error_word(m.handle(msg.change_baud(ADDRESS, 19200))) == 0x08
    assert m.baudrate == 2400
    bad_output = Frame(m.wire_address, 0x1D, b"\x05")
    assert error_word(m.handle(bad_output)) == 0x01
    nothing = m.handle(msg.read_follow_up(ADDRESS, 0x0001FF00, 1))
    assert nothing is not None and nothing.control == 0xD2 and error_word(nothing) == 0x02
    change = msg.change_password(ADDRESS, msg.Password(4, "999999"), msg.Password(4, "123456"))
    assert error_word(m.handle(change)) == 0x04
    good = msg.change_password(ADDRESS, msg.Password(2, "000000"), msg.Password(4, "123456"))
    reply = m.handle(good)
    assert reply is not None and reply.data == msg.Password(4, "123456").to_plain()
    assert m.passwords[4] == "123456"
    security = m.handle(Frame(m.wire_address, 0x03, bytes(12)))
    assert security is not None and security.control == 0xC3 and len(security.data) == 2


def test_relay_control_and_clears_need_the_admin_level() -> None:
    m = model()
    later = NOW + dt.timedelta(minutes=5)
    trip = msg.relay_control(ADDRESS, PASSWORD, 7, msg.RelayCommand.TRIP, later)
    assert not m.handle(trip).abnormal and m.relay_open  # type: ignore[union-attr]
    expired = msg.relay_control(
        ADDRESS, PASSWORD, 7, msg.RelayCommand.CLOSE_ALLOWED, NOW - dt.timedelta(minutes=1)
    )
    assert error_word(m.handle(expired)) == 0x01 and m.relay_open
    weak = msg.relay_control(
        ADDRESS, msg.Password(4, "000000"), 7, msg.RelayCommand.CLOSE_ALLOWED, later
    )
    assert error_word(m.handle(weak)) == 0x04
    m.events["cover opening"] = 3
    assert not m.handle(msg.clear_events(ADDRESS, PASSWORD, 1)).abnormal  # type: ignore[union-attr]
    assert m.events["cover opening"] == 0 and m.events["event clear"] == 1
    assert not m.handle(msg.clear_meter(ADDRESS, PASSWORD, 1)).abnormal  # type: ignore[union-attr]
    assert m.energy_kwh() == 0 and m.events["meter clear"] == 1


# -- values, follow-ups, clock -----------------------------------------------------------------


def test_values_decode_to_the_state() -> None:
    m = model()
    m.set_instantaneous(
        voltage=Decimal("230.1"),
        current=Decimal("-1.234"),
        power_factor=Decimal("0.5"),
        frequency=Decimal("49.98"),
    )
    reads = {
        0x02010100: Decimal("230.1"),
        0x02020100: Decimal("-1.234"),
        0x02060000: Decimal("0.500"),
        0x02800002: Decimal("49.98"),
        0x04000409: Decimal("1200"),
        0x04000401: ADDRESS,
        0x04000101: NOW.date(),
        0x04000102: NOW.time(),
        0x00000000: Decimal("1250.31"),  # combined = forward + reverse (word 05H)
    }
    for di, expected in reads.items():
        item = lookup(di)
        assert item is not None
        assert item.decode(m.value(di)) == expected, hex(di)  # type: ignore[arg-type]
    power = lookup(0x0203FF00).decode(m.value(0x0203FF00))  # type: ignore[union-attr,arg-type]
    assert power[1] == Decimal("-0.1420")  # 230.1 V x -1.234 A x 0.5 = -141.97 W
    assert m.value(0x00010100 | 0x05) is None  # tariff 1, settlement period 5: not kept


def test_long_replies_come_in_follow_up_frames() -> None:
    m = model(tariffs=63)
    for t in range(1, 64):
        m.set_energy(t, tariff=t)
    first = m.handle(msg.read(ADDRESS, 0x0001FF00))
    assert first is not None and first.control == 0xB1 and len(first.data) == 200
    second = m.handle(msg.read_follow_up(ADDRESS, 0x0001FF00, 1))
    assert second is not None and second.control == 0x92 and second.data[-1] == 1
    joined = first.data[4:] + second.data[4:-1]
    assert joined == m.value(0x0001FF00) and len(joined) == 256
    again = m.handle(msg.read_follow_up(ADDRESS, 0x0001FF00, 1))  # a retried 12H is served
    assert again == second
    assert error_word(m.handle(msg.read_follow_up(ADDRESS, 0x0001FF00, 2))) == 0x02


def test_instant_freeze_and_its_record() -> None:
    m = model()
    assert wire(m.handle(msg.freeze(ADDRESS)))[24:26] == "96"
    stamp = lookup(0x05010001).decode(m.value(0x05010001))  # type: ignore[union-attr,arg-type]
    assert stamp == NOW.replace(second=0)
    block = lookup(0x05010101).decode(m.value(0x05010101))  # type: ignore[union-attr,arg-type]
    assert block[0] == Decimal("1250.31")
    periodic = m.handle(msg.freeze(ADDRESS, {"month": 99, "day": 99, "hour": 0, "minute": 0}))
    assert periodic is not None and m.freeze_pattern == {
        "minute": 0,
        "hour": 0,
        "day": 99,
        "month": 99,
    }


def test_broadcast_time_limit_and_weekday() -> None:
    m = model(broadcast_time_limit=dt.timedelta(minutes=5))
    m.handle(msg.broadcast_time(NOW + dt.timedelta(hours=1)))
    assert m.now() == NOW  # too far: ignored, like State Grid meters
    m.handle(msg.broadcast_time(NOW + dt.timedelta(minutes=2)))
    assert m.now() == NOW + dt.timedelta(minutes=2)
    assert m.value(0x04000101)[0] == 5  # 2025-03-14 is a Friday (WW 05)  # type: ignore[index]


# -- response, delay and faults ----------------------------------------------------------------


def test_response_delay_and_preamble() -> None:
    m = model(preamble=2, response_delay=0.03)
    answer = m.respond(msg.read(ADDRESS, 0x00010000))
    assert isinstance(answer, Answer) and answer.delay == 0.03 and answer.baudrate == 2400
    assert answer.data.startswith(b"\xfe\xfe\x68")
    assert 0.02 <= Dlt645Meter().response_delay <= 0.5


@pytest.mark.parametrize("fault", list(Fault))
def test_every_fault_changes_the_bytes_as_documented(fault: Fault) -> None:
    m = model()
    request = msg.read(ADDRESS, 0x00010000)
    clean = m.respond(request)
    assert clean is not None
    m.faults = FaultPlan(fault, count=1)
    answer = m.respond(request)
    if fault is Fault.SILENT:
        assert answer is None
        return
    assert answer is not None
    data = answer.data
    frames = StreamDecoder().feed(data)
    good = [f for f in frames if f.is_response]
    if fault in (Fault.CORRUPT, Fault.WRONG_CHECKSUM):
        assert good == []
        with pytest.raises(DecodeError):
            decode_frame(data)
    else:
        assert good and good[-1].raw == clean.data
    if fault is Fault.SLOW:
        assert answer.pieces[0].offset > 0.5
    if fault is Fault.ECHO:
        assert data.startswith(request.encode(preamble=4))
    if fault is Fault.SPLIT:
        assert len(answer.pieces) > 1
    if fault is Fault.MERGE:
        assert len(good) == 2
    assert m.respond(request).data == clean.data  # type: ignore[union-attr]  # count used up


def test_fault_probability_is_reproducible() -> None:
    def pattern() -> list[Fault]:
        plan = FaultPlan(Fault.SILENT, probability=0.5, seed=7)
        return [plan.next_fault() for _ in range(20)]

    assert pattern() == pattern() and Fault.NONE in pattern() and Fault.SILENT in pattern()
    assert Fault.parse("Wrong_Checksum") is Fault.WRONG_CHECKSUM
    with pytest.raises(ValueError, match="choose one of"):
        Fault.parse("sneeze")


# -- the line ----------------------------------------------------------------------------------


def test_two_answers_collide_and_a_wrong_rate_is_not_heard() -> None:
    a, b = model(), Dlt645Meter(address="230715000043", preamble=0)
    session = SimLine([a, b]).session()
    collided = session.feed(msg.read_address().encode(), now=0.0)
    assert len(collided) == 1 and StreamDecoder().feed(collided[0].data) == []
    quiet = session.feed(msg.read(ADDRESS, 0x00010000).encode(), 0.0, LineFormat(9600))
    assert quiet == []


def test_answers_one_after_another_do_not_collide() -> None:
    """Only transmissions that overlap on the wire collide: a meter that starts answering
    after the other has finished is heard intact."""
    a = model(response_delay=0.02)
    b = Dlt645Meter(address="230715000043", preamble=0, response_delay=0.5)
    got = SimLine([a, b]).session().feed(msg.read_address().encode(), now=0.0)
    frames = StreamDecoder().feed(b"".join(s.data for s in got))
    assert sorted(f.address_text for f in frames) == [ADDRESS, "230715000043"]


def test_a_paced_line_counts_the_request_time_before_the_delay() -> None:
    m = model(response_delay=0.05)
    session = SimLine([m], pace=True).session()
    request = msg.read(ADDRESS, 0x00010000).encode(preamble=4)
    out = session.feed(request, now=10.0)
    assert len(out) == 1
    assert out[0].at == pytest.approx(10.0 + len(request) * 11 / 2400 + 0.05)


# -- DL/T 645-1997 -----------------------------------------------------------------------------


def test_a_1997_meter() -> None:
    m = model(version=1997, block_terminator=True)
    reply = m.handle(msg.read_1997(ADDRESS, 0x9010))
    assert reply is not None and reply.control == 0x81
    assert lookup(0x9010, 1997).decode(reply.data[2:]) == Decimal("1250.31")  # type: ignore[union-attr]
    block = m.handle(msg.read_1997(ADDRESS, 0x901F))
    assert block is not None and block.data[-1] == 0xAA and len(block.data) == 2 + 21
    volts = m.handle(msg.read_1997(ADDRESS, 0xB611))
    assert volts is not None and volts.data[2:] == b"\x20\x02"  # 220 V, whole volts
    anyone = m.handle(msg.read_1997(BROADCAST_ADDRESS, 0xC032))  # a lone 1997 meter answers 99
    assert anyone is not None and anyone.address_text == ADDRESS
    refused = m.handle(msg.read_1997(ADDRESS, 0x1234))
    assert refused is not None and refused.control == 0xC1 and refused.data == b"\x02"
    assert m.handle(msg.read(ADDRESS, 0x00010000)).control == 0xD1  # type: ignore[union-attr]
    write = msg.write_1997(
        ADDRESS,
        0xC011,
        lookup(0xC011, 1997).encode(dt.time(8, 0)),  # type: ignore[union-attr]
        PASSWORD,
    )
    assert m.handle(write).control == 0x84 and m.now().time() == dt.time(8, 0)  # type: ignore[union-attr]
    assert m.handle(msg.read_1997(WILDCARD_ADDRESS, 0x9010)) is not None


# -- CJ/T 188 water meter ----------------------------------------------------------------------

WATER = "00000012345678"


def water(**kwargs: object) -> Cjt188WaterMeter:
    w = Cjt188WaterMeter(address=WATER, clock_source=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    w.set_volume("123.45")
    return w


@pytest.mark.parametrize("order", ["low_first", "high_first"])
def test_water_meter_answers_901f_in_the_order_asked(order: str) -> None:
    w = water()
    address = cframe.address_from_text(WATER)
    reply = w.handle(cmsg.read_data_request(address, ser=7, di_order=order))  # type: ignore[arg-type]
    assert reply is not None
    parsed = cmsg.parse_reply(reply, cmsg.DI_CURRENT_DATA)
    assert isinstance(parsed, cmsg.Reply) and parsed.ser == 7
    assert parsed.di_order == ("low_byte_first" if order == "low_first" else "high_byte_first")
    assert parsed.meter_data is not None and parsed.meter_data.volume == Decimal("123.45")
    assert parsed.meter_data.time == NOW and parsed.meter_data.unit == "m3"
    w.set_valve(False)
    closed = cmsg.parse_reply(w.handle(cmsg.read_data_request(address)))  # type: ignore[arg-type]
    assert closed.meter_data.decoded_status().valve == "closed"  # type: ignore[union-attr]


def test_water_meter_addressing_and_refusals() -> None:
    w = water()
    found = w.handle(cmsg.read_address_request(ser=3))
    assert found is not None and found.address_text == WATER and found.function == 0x03
    other = cframe.address_from_text("00000012345679")
    assert w.handle(cmsg.read_data_request(other)) is None
    gas = cmsg.read_data_request(cframe.address_from_text(WATER), meter_type=0x30)
    assert w.handle(gas) is None
    odd = cmsg.read_data_request(cframe.address_from_text(WATER), di=0x8103, ser=9)
    refused = w.handle(odd)
    assert refused is not None and refused.abnormal
    assert cmsg.parse_reply(refused).ser == 9  # type: ignore[union-attr]
