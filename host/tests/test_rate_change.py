"""17H with a lost reply: the meter has switched, the bus has not. The client must find the
meter again at the new rate (then the old one) instead of retrying at the old rate into
silence. Runs on an in-memory line under virtual time (sim devices hear only their own rate)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.errors import MeterAbnormalReply, MeterTimeout
from meterbench.sim.faults import Fault, FaultPlan
from meterbench.sim.line import SimLine
from meterbench.sim.memory_port import MemoryPort
from meterbench.sim.meter_dlt645 import Dlt645Meter
from meterbench.sim.virtual_loop import run as run_virtual
from meterbench.transport import Bus, BusTiming, SerialSettings

ADDRESS = "230715000042"


def _meter() -> Dlt645Meter:
    m = Dlt645Meter(address=ADDRESS, response_delay=0.05)
    m.set_energy(Decimal("1250.31"))
    return m


async def _on_line(m: Dlt645Meter, body, **client):  # type: ignore[no-untyped-def]
    bus = Bus(
        "memory://rate",
        SerialSettings(2400),
        timing=BusTiming(retries=2),
        opener=MemoryPort.opener(SimLine([m])),
    )
    await bus.open()
    try:
        return await body(Dlt645Client(bus, ADDRESS, **client), bus)
    finally:
        await bus.close()


def test_first_reply_dropped_meter_reached_at_the_new_rate() -> None:
    m = _meter()
    m.faults = FaultPlan(Fault.SILENT, count=1)  # the 97H is lost; the meter switches anyway

    async def body(client: Dlt645Client, bus: Bus) -> None:
        await client.change_baud(9600)
        assert m.baudrate == 9600 and bus.settings.baudrate == 9600
        assert (await client.read(0x00010000)).value == Decimal("1250.31")

    run_virtual(_on_line(m, body))


def test_request_lost_meter_found_at_the_old_rate_and_asked_again() -> None:
    """The 17H itself never arrived: the meter still answers at the old rate, so the change is
    sent again and succeeds."""
    m = _meter()
    original = m.respond
    lost = [True]

    def lose_first(request):  # type: ignore[no-untyped-def]
        if lost[0] and request.function == 0x17:
            lost[0] = False
            return None  # as if the request had been garbled on the way
        return original(request)

    m.respond = lose_first  # type: ignore[method-assign]

    async def body(client: Dlt645Client, bus: Bus) -> None:
        await client.change_baud(4800)
        assert m.baudrate == 4800 and bus.settings.baudrate == 4800

    run_virtual(_on_line(m, body))


def test_rates_outside_the_meter_type_are_refused_before_sending() -> None:
    m = _meter()

    async def body(client: Dlt645Client, bus: Bus) -> None:
        with pytest.raises(ValueError, match="may use 1200, 2400"):
            await client.change_baud(9600)
        assert bus.stats.transactions == 0

    run_virtual(_on_line(m, body, baudrates=(1200, 2400)))


def test_a_refused_change_leaves_the_rate_and_a_dead_meter_times_out() -> None:
    m = _meter()
    m.supported_rates = (2400,)

    async def refused(client: Dlt645Client, bus: Bus) -> None:
        with pytest.raises(MeterAbnormalReply):
            await client.change_baud(9600)
        assert bus.settings.baudrate == 2400

    run_virtual(_on_line(m, refused))
    silent = _meter()
    silent.faults = FaultPlan(Fault.SILENT)

    async def dead(client: Dlt645Client, bus: Bus) -> None:
        with pytest.raises(MeterTimeout):
            await client.change_baud(9600)
        assert bus.settings.baudrate == 2400  # back where it was

    run_virtual(_on_line(silent, dead))
