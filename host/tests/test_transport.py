"""Transport pieces: line settings and wire time, endpoints by URL with exclusive open, echo
removal, masked traces, and a bus on ``loop://`` (which returns every byte it is sent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import FAST, run  # noqa: E402

from meterbench.transport import (  # noqa: E402
    DLT645,
    Bus,
    BusTiming,
    Exchange,
    PortInUseError,
    PortOpenError,
    ReplyTimeout,
    SerialSettings,
    TraceBuffer,
)
from meterbench.transport.echo import EchoCanceller  # noqa: E402
from meterbench.transport.endpoint import endpoint_key  # noqa: E402
from meterbench.transport.port import AsyncPort  # noqa: E402
from meterbench.transport.trace import masked_hex  # noqa: E402
from meterproto.dlt645 import messages as msg  # noqa: E402

# -- settings ----------------------------------------------------------------------------------


def test_wire_time_counts_eleven_bits_per_byte_at_8e1() -> None:
    s = SerialSettings()
    assert (s.baudrate, s.parity, s.bytesize, s.stopbits, s.char_bits) == (2400, "E", 8, 1, 11)
    assert s.wire_time(24) == pytest.approx(24 * 11 / 2400)
    assert SerialSettings(9600, "N").char_bits == 10
    assert str(SerialSettings(1200, "e")) == "1200 8E1"


def test_settings_from_config_and_bad_values() -> None:
    s = SerialSettings.from_config({"baud": "9600", "parity": "n", "data_bits": 8, "stop_bits": 2})
    assert (s.baudrate, s.parity, s.stopbits) == (9600, "N", 2)
    for bad in ({"baudrate": 0}, {"parity": "X"}, {"bytesize": 9}, {"stopbits": 3}):
        with pytest.raises(ValueError):
            SerialSettings.from_config(bad)


# -- endpoints ---------------------------------------------------------------------------------


def test_endpoint_keys_resolve_links_and_keep_private_lines_apart(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        link = tmp_path / "ttyBENCH"
        link.symlink_to(path)
        assert endpoint_key(str(link)) == endpoint_key(path)
        assert endpoint_key("loop://") is None
        assert endpoint_key("socket://Host:6450") == "socket://host:6450"
    finally:
        os.close(master)
        os.close(slave)


def test_exclusive_open_refuses_a_second_name_for_the_same_port(tmp_path: Path) -> None:
    master, slave = os.openpty()
    link = tmp_path / "ttyPOSITION3"
    link.symlink_to(os.ttyname(slave))

    async def scenario() -> None:
        first = await AsyncPort.open(os.ttyname(slave), SerialSettings())
        try:
            with pytest.raises(PortInUseError, match="already open"):
                await AsyncPort.open(str(link), SerialSettings())
        finally:
            await first.close()
        again = await AsyncPort.open(str(link), SerialSettings())  # free after close
        await again.close()

    try:
        run(scenario())
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/dev/does-not-exist", "No such file"),
        ("socket://127.0.0.1:1", "refused"),
        ("nosuch://x", "not known"),
    ],
)
def test_bad_ports_give_one_line_errors(url: str, reason: str) -> None:
    with pytest.raises(PortOpenError) as info:
        run(Bus(url).open())
    text = str(info.value)
    assert reason in text and url in text and "\n" not in text


# -- echo --------------------------------------------------------------------------------------

REQUEST = msg.read("230715000042", 0x00010000).encode(preamble=4)
REPLY = msg.read_reply("230715000042", 0x00010000, bytes.fromhex("31501200")).encode(2)
DECISIVE = DLT645.control_index(REQUEST) + 1


def _filter(chunks: list[bytes]) -> tuple[bytes, int]:
    echo = EchoCanceller(REQUEST, DECISIVE)
    out = b"".join(echo.filter(c) for c in chunks) + echo.release()
    return out, echo.removed


def test_full_echo_is_removed_even_when_split() -> None:
    stream = REQUEST + REPLY
    out, removed = _filter([stream[i : i + 3] for i in range(0, len(stream), 3)])
    assert (out, removed) == (REPLY, len(REQUEST))


def test_echo_cut_short_after_the_control_code_is_removed() -> None:
    partial = REQUEST[: DECISIVE + 2]
    assert _filter([partial + REPLY]) == (REPLY, len(partial))


def test_a_short_echo_like_prefix_is_handed_on_not_dropped() -> None:
    # A reply starts like the request up to its control code; nothing may be lost.
    assert _filter([REPLY]) == (REPLY, 0)
    prefix = REQUEST[:6]
    assert _filter([prefix + REPLY]) == (prefix + REPLY, 0)


def test_no_echo_and_echo_with_its_start_lost_pass_through() -> None:
    assert _filter([b"", REPLY]) == (REPLY, 0)
    assert _filter([REQUEST[7:] + REPLY]) == (REQUEST[7:] + REPLY, 0)


# -- traces ------------------------------------------------------------------------------------


def test_trace_masks_password_operator_and_checksum() -> None:
    password = msg.Password(2, "987654")
    frame = msg.write("230715000042", 0x04000102, bytes([0x30, 0x45, 0x13]), password, 12345678)
    wire = frame.encode(preamble=4)
    secret = DLT645.secret_positions(wire)
    trace = TraceBuffer(port="bench-1")
    trace.add("tx", wire, secret, "write")
    text = trace.last()[0].format()
    assert text.count("**") == 9  # PA P0 P1 P2 C0 C1 C2 C3 + CS
    # neither the scrambled password nor the operator code survives in the text
    assert "87 A9 CB" not in text and "AB 89 67 45" not in text
    assert "35 34 33 37" in text  # the DI stays readable
    assert "987654" not in repr(password)
    record = trace.records()[0]
    assert record["direction"] == "tx" and "**" in str(record["hex"])


def test_trace_ring_keeps_the_last_entries() -> None:
    trace = TraceBuffer(size=3)
    for i in range(5):
        trace.add("rx", bytes([i]))
    assert [e.hex for e in trace.last()] == ["02", "03", "04"]
    assert masked_hex(b"\x01\x02\x03", [1]) == "01 ** 03"


def test_change_password_reply_is_masked_too() -> None:
    reply = msg.normal_reply("230715000042", 0x18, msg.Password(4, "111111").to_plain())
    wire = reply.encode(preamble=0)
    assert len(DLT645.secret_positions(wire)) == 5  # 4 data bytes + CS


# -- bus on loop:// ----------------------------------------------------------------------------


def test_a_loopback_line_returns_only_our_echo_so_the_read_times_out_in_budget() -> None:
    async def scenario() -> None:
        bus = Bus("loop://", timing=BusTiming(td_max=0.05, tb=0.05, margin=0.02, retries=1))
        await bus.open()
        try:
            ex = Exchange(REQUEST, DLT645, match=lambda frame: True, label="read")
            with pytest.raises(ReplyTimeout) as info:
                await bus.transact(ex)
            assert info.value.attempts == 2
            assert bus.stats.echo_bytes == 2 * len(REQUEST)
            notes = [e.note for e in bus.trace.last()]
            assert "local echo, removed" in notes
        finally:
            await bus.close()

    run(scenario(), timeout=5)


def test_budget_bounds_every_transaction() -> None:
    bus = Bus("loop://", timing=FAST)
    ex = Exchange(REQUEST, DLT645, match=lambda frame: True)
    one = bus.attempt_limit(ex)
    assert FAST.td_max is not None
    assert one > FAST.td_max + SerialSettings().wire_time(len(REQUEST))
    # attempts, a reconnect wait, and the wait for a reply still due to an earlier request
    quiet = 2 * (FAST.td_max + FAST.margin)
    assert bus.budget(ex) == pytest.approx(quiet + 3 * one + FAST.reconnect_grace)
