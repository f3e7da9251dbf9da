"""The DL/T 645 client's commands against the simulated meter over a pty or TCP: values come
back decoded, refusals come back as typed errors with named bits, broadcasts wait for nothing,
the baud change moves the bus along, and no password ever shows up in a message or a trace."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, meter, run, served, within  # noqa: E402

from meterbench.devices.dlt645_client import (  # noqa: E402
    Dlt645Client,
    MeterAbnormalReply,
    MultiFunctionOutput,
    Password,
    RelayCommand,
    parse_password,
)
from meterbench.sim.answer import Answer  # noqa: E402
from meterbench.sim.faults import Piece  # noqa: E402
from meterbench.sim.meter_dlt645 import Dlt645Meter  # noqa: E402
from meterproto.dlt645.frame import WILDCARD_ADDRESS, Frame  # noqa: E402

PASSWORD = Password(2, "000000")
T0 = dt.datetime(2025, 3, 14, 9, 26, 53)


def fixed_clock() -> dt.datetime:
    return T0


async def _with_client(m: Any, body: Any, kind: str = "tcp", **client: Any) -> Any:
    async with served([m], kind) as (_, url), bus_on(url) as bus:
        c = Dlt645Client(bus, ADDRESS, password=PASSWORD, operator=12345678, **client)
        return await within(body(c, bus), 10)


def test_reads_decode_by_the_catalogue() -> None:
    m = meter(clock_source=fixed_clock)
    m.set_instantaneous(current=Decimal("-1.234"))

    async def body(c: Dlt645Client, bus: Any) -> None:
        readings = await c.read_many(
            ["00010000", 0x02020100, "0201FF00", "04000409", "04000101", "04000102", "040005FF"]
        )
        energy, current, volts, constant, date, time_, status = readings
        assert (energy.value, energy.unit, energy.name) == (
            Decimal("1250.31"),
            "kWh",
            "forward active energy, total",
        )
        assert current.value == Decimal("-1.234") and current.unit == "A"
        assert volts.value == [Decimal("220.0")] * 3
        assert constant.value == 1200 and constant.unit == "imp/kWh"
        assert (date.value, time_.value) == (T0.date(), T0.time())
        assert len(status.value) == 7
        assert energy.to_json() == {
            "di": "00010000",
            "name": "forward active energy, total",
            "value": 1250.31,
            "unit": "kWh",
            "raw_hex": "31501200",
        }
        assert await c.read_raw(0x00010000) == bytes.fromhex("31501200")

    run(_with_client(m, body))


def test_refusals_carry_the_named_error_bits() -> None:
    async def body(c: Dlt645Client, bus: Any) -> None:
        with pytest.raises(MeterAbnormalReply) as info:
            await c.read(0x02800099)
        assert info.value.error_word == 0x02 and info.value.errors == ("no requested data",)
        with pytest.raises(MeterAbnormalReply) as info:
            await c.write(0x04000103, 30, Password(2, "314159"))
        assert info.value.errors == ("password wrong or not authorised",)
        assert "314159" not in str(info.value)
        with pytest.raises(MeterAbnormalReply) as info:
            await c.change_baud(19200)
        assert info.value.errors == ("baud rate cannot be changed",)
        assert bus.settings.baudrate == 2400  # no switch after a refusal
        trace = "\n".join(e.format() for e in bus.trace.last())
        wire_digits = bytes(b + 0x33 for b in Password(2, "314159").to_plain()).hex(" ").upper()
        assert wire_digits not in trace and "**" in trace

    run(_with_client(meter(), body))


def test_writes_clock_output_relay_and_password() -> None:
    m = meter(clock_source=fixed_clock)

    async def body(c: Dlt645Client, bus: Any) -> None:
        await c.write(0x04000103, 30)
        assert m.params[0x04000103] == 30 and m.last_operator == 12345678
        target = dt.datetime(2024, 2, 29, 23, 59, 30)
        await c.set_clock(target)
        assert m.now() == target
        await c.set_clock(target + dt.timedelta(days=1), combined=True)
        assert m.now() == target + dt.timedelta(days=1)
        await c.set_multi_function_output(MultiFunctionOutput.TARIFF_SWITCH)
        assert m.output_mode == 2
        await c.set_multi_function_output(MultiFunctionOutput.CLOCK_SECOND_PULSE)
        assert m.output_mode == 0
        await c.relay_control(RelayCommand.TRIP, expiry=m.now() + dt.timedelta(minutes=1))
        assert m.relay_open
        await c.change_password(PASSWORD, Password(4, "654321"))
        await c.write(0x04000104, 5, Password(4, "654321"))
        assert m.params[0x04000104] == 5
        await c.clear_events()
        assert m.events["event clear"] == 1

    run(_with_client(m, body))


def test_broadcasts_wait_for_no_reply() -> None:
    m = meter()

    async def body(c: Dlt645Client, bus: Any) -> None:
        await c.broadcast_time(T0)
        assert abs((m.now() - T0).total_seconds()) < 2
        await c.freeze(broadcast=True)
        await c.freeze()
        assert len(m.freezes) == 2
        assert bus.stats.timeouts == 0 and bus.stats.attempts == 3
        directions = [e.direction for e in bus.trace.last() if e.direction != "event"]
        assert directions == ["tx", "tx", "tx", "rx"]

    run(_with_client(m, body))


def test_baud_change_moves_the_meter_and_the_bus() -> None:
    m = meter()  # on a pty the simulator checks the master's rate, as a real line would

    async def body(c: Dlt645Client, bus: Any) -> None:
        await c.change_baud(9600)
        assert m.baudrate == 9600 and bus.settings.baudrate == 9600
        assert (await c.read(0x00010000)).value == Decimal("1250.31")

    run(_with_client(m, body, kind="pty"))


class _EchoesWildcard:
    """A virtual meter that answers with the request's address (AA x 6 on a wildcard),
    as the PyPI dlt645 simulator and some test tools do."""

    protocol = "dlt645"

    def __init__(self, inner: Dlt645Meter) -> None:
        self.inner = inner
        self.baudrate = inner.baudrate

    def respond(self, request: Frame) -> Answer | None:
        reply = self.inner.handle(request)
        if reply is None:
            return None
        reply.address = request.address
        return Answer(0.02, [Piece(0.0, reply.encode(preamble=0))])


def test_wildcard_reads_learn_a_real_address_and_keep_the_known_one_otherwise() -> None:
    async def scenario() -> None:
        async with served([meter()], "tcp") as (_, url), bus_on(url) as bus:
            c = Dlt645Client(bus)
            assert c.address == "aaaaaaaaaaaa"
            await c.read(0x00010000)
            assert c.address == ADDRESS  # learned from the reply's address field
            assert await Dlt645Client(bus).read_address() == ADDRESS
        async with served([_EchoesWildcard(meter())], "tcp") as (_, url), bus_on(url) as bus:
            c = Dlt645Client(bus, WILDCARD_ADDRESS)
            assert (await c.read(0x00010000)).value == Decimal("1250.31")
            assert c.address == "aaaaaaaaaaaa"  # an AA reply teaches nothing
            assert await c.read_address() == ADDRESS  # from the reply's data

    run(scenario())


def test_a_1997_meter_through_the_same_client() -> None:
    m = meter(version=1997, block_terminator=True, clock_source=fixed_clock)

    async def body(c: Dlt645Client, bus: Any) -> None:
        assert (await c.read(0x9010)).value == Decimal("1250.31")
        block = await c.read("901F")
        assert block.value[0] == Decimal("1250.31") and len(block.value) == 5
        assert (await c.read(0xB611)).value == Decimal("220")
        await c.set_clock(dt.datetime(2025, 1, 2, 3, 4, 5))
        assert m.now() == dt.datetime(2025, 1, 2, 3, 4, 5)
        with pytest.raises(MeterAbnormalReply) as info:
            await c.read(0x1234)
        assert info.value.errors == ("data identifier error",)
        assert await Dlt645Client(bus, version=1997).read_address() == ADDRESS

    run(_with_client(m, body, version=1997))


def test_password_text_and_bad_arguments() -> None:
    secret = parse_password("02:123456")
    assert (secret.level, secret.digits) == (2, "123456") and "123456" not in repr(secret)
    with pytest.raises(ValueError) as info:
        parse_password("02:12345x")
    assert "12345" not in str(info.value)
    with pytest.raises(ValueError):
        Dlt645Client(None, "12x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Dlt645Client(None, ADDRESS, version=1999)  # type: ignore[arg-type]
