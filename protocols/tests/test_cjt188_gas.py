"""CJ/T 188 gas meters (30H, and the vendor codes 31H-39H): the read request and 901F replies
as they appear on the line, with preamble and in either DI byte order, decoded to every field.

The frames are written out byte by byte as a line monitor shows them, so the decoder is checked
against the wire, not against our own encoder."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from meterproto.cjt188 import messages as cm
from meterproto.cjt188.frame import TYPE_GAS, StreamDecoder, decode_frame
from meterproto.cjt188.heat import volume_m3
from meterproto.compat import from_hex

ADDRESS = bytes.fromhex("78563412000000")

# Read 901F from gas meter 00000012345678, SER 05 (DI low byte first, 3 bytes preamble).
REQUEST = "FE FE FE 68 30 78 56 34 12 00 00 00 01 03 1F 90 05 64 16"
# Its reply: 1234.56 m³, settlement day 1200.00 m³, 2025-03-14 09:26:53, valve closed.
REPLY_M3 = (
    "FE FE 68 30 78 56 34 12 00 00 00 81 16 1F 90 05 56 34 12 00 2C 00 00 12 00 2C"
    " 53 26 09 14 03 25 20 01 00 DC 16"
)
# A vendor code 33H meter in verification mode: litres, DI high byte first, no clock, battery low.
REPLY_LITRES = (
    "68 33 78 56 34 12 00 00 00 81 16 90 1F 11 40 87 00 00 29 00 00 00 00 29"
    " 00 00 00 00 00 00 00 04 00 23 16"
)


def _frame(text: str) -> bytes:
    wire = from_hex(text.replace(" ", ""))
    return wire[wire.index(0x68) :]


def test_the_read_request_decodes_to_type_address_and_di() -> None:
    frame = decode_frame(_frame(REQUEST))
    assert frame.meter_type == TYPE_GAS and frame.function == 0x01 and not frame.is_response
    described = cm.describe(frame)
    assert described["meter_type_name"] == "gas" and described["di"] == "901f"
    assert described["address"] == "00000012345678" and described["ser"] == 5
    built = cm.read_data_request(ADDRESS, cm.DI_CURRENT_DATA, 5, meter_type=TYPE_GAS)
    assert built.encode(preamble=3) == from_hex(REQUEST.replace(" ", ""))


def test_a_gas_reply_in_m3_decodes_to_every_field() -> None:
    frame = decode_frame(_frame(REPLY_M3))
    reply = cm.parse_reply(frame, cm.DI_CURRENT_DATA)
    assert isinstance(reply, cm.Reply) and reply.heat_data is None
    data = reply.meter_data
    assert data is not None
    assert data.volume == Decimal("1234.56") and data.unit == "m3"
    assert data.settlement_volume == Decimal("1200.00") and data.settlement_unit_name == "m3"
    assert data.time == datetime(2025, 3, 14, 9, 26, 53)
    assert data.status == b"\x01\x00" and data.warnings == ()
    status = data.decoded_status()
    assert status.valve == "closed" and not status.battery_low
    assert reply.ser == 5 and reply.di_order == cm.LOW_BYTE_FIRST
    described = cm.describe(frame)
    assert described["value"] == 1234.56 and described["unit"] == "m3"
    assert described["datetime"] == "2025-03-14T09:26:53"


def test_a_vendor_type_reply_in_litres_without_clock_decodes() -> None:
    frame = decode_frame(_frame(REPLY_LITRES))
    assert cm.is_gas_meter(frame.meter_type) and not cm.is_heat_meter(frame.meter_type)
    reply = cm.parse_reply(frame, cm.DI_CURRENT_DATA)
    assert isinstance(reply, cm.Reply) and reply.meter_data is not None
    data = reply.meter_data
    assert reply.di_order == cm.HIGH_BYTE_FIRST and reply.ser == 0x11
    assert data.volume == Decimal("87.40") and data.unit == "L"
    assert volume_m3(data.volume, data.volume_unit) == Decimal("0.0874")
    assert data.time is None and cm.NO_CLOCK in data.warnings
    status = data.decoded_status()
    assert status.valve == "open" and status.battery_low
    assert cm.describe(frame)["meter_type_name"] == "gas (33H)"


def test_replies_are_found_in_a_stream_with_noise_between_them() -> None:
    decoder = StreamDecoder()
    wire = b"\x00\x13" + from_hex(REPLY_M3.replace(" ", "")) + b"\xff"
    wire += from_hex(REPLY_LITRES.replace(" ", ""))
    frames = [f for chunk in (wire[:9], wire[9:30], wire[30:]) for f in decoder.feed(chunk)]
    assert [f.meter_type for f in frames] == [0x30, 0x33]
