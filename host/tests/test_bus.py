"""The bus manager against simulated meters over real ptys and TCP sockets, with faults
injected: garbage, split and merged frames, echo, dropped and late replies, wrong checksums,
colliding meters, a port that disappears and comes back. Every read must return the right
value or a typed error within its deadline; ``run``/``within`` fail the test on any hang."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, meter, run, served, within  # noqa: E402

from meterbench.devices.dlt645_client import Dlt645Client  # noqa: E402
from meterbench.devices.errors import MeterBadReply, MeterError, MeterTimeout  # noqa: E402
from meterbench.sim.faults import Fault, FaultPlan  # noqa: E402
from meterbench.transport import BusTiming, PortLostError  # noqa: E402

ENERGY = 0x00010000
VOLTAGE = 0x02010100
KINDS = ["pty", "tcp"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "fault",
    [Fault.GARBAGE, Fault.SPLIT, Fault.ECHO, Fault.PARTIAL_ECHO, Fault.MERGE],
)
def test_reads_survive_line_faults_on_every_reply(kind: str, fault: Fault) -> None:
    """Faults that garble the stream but leave the reply intact: no retry may be needed."""
    m = meter()

    async def scenario() -> None:
        async with served([m], kind) as (_, url), bus_on(url) as bus:
            client = Dlt645Client(bus, ADDRESS)
            assert (await client.read(VOLTAGE)).value == Decimal("220.0")  # a stale reply
            m.faults = FaultPlan(fault)
            for _ in range(3):
                assert (await within(client.read(ENERGY), 3)).value == Decimal("1250.31")
                assert (await within(client.read(VOLTAGE), 3)).value == Decimal("220.0")
            assert bus.stats.attempts == bus.stats.transactions  # no retries were needed

    run(scenario())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", [Fault.SILENT, Fault.SLOW, Fault.CORRUPT, Fault.WRONG_CHECKSUM])
def test_one_bad_reply_costs_one_retry(kind: str, fault: Fault) -> None:
    m = meter()
    m.faults = FaultPlan(fault, count=1, slow_delay=0.4)

    async def scenario() -> None:
        async with served([m], kind) as (_, url), bus_on(url) as bus:
            reading = await within(Dlt645Client(bus, ADDRESS).read(ENERGY), 3)
            assert reading.value == Decimal("1250.31")
            assert bus.stats.attempts == 2
            # the retry's reply, not a late copy of the first, must be the one taken
            assert (await Dlt645Client(bus, ADDRESS).read(VOLTAGE)).value == Decimal("220.0")

    run(scenario())


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.SILENT, MeterTimeout),
        (Fault.SLOW, MeterTimeout),
        (Fault.WRONG_CHECKSUM, MeterBadReply),
        (Fault.CORRUPT, MeterBadReply),
    ],
)
def test_persistent_faults_end_in_a_typed_error_within_the_budget(
    fault: Fault, error: type[MeterError]
) -> None:
    m = meter()
    m.faults = FaultPlan(fault, slow_delay=0.6)

    async def scenario() -> None:
        async with served([m], "pty") as (_, url), bus_on(url) as bus:
            client = Dlt645Client(bus, ADDRESS, retries=1)
            with pytest.raises(error) as info:
                await within(client.read(ENERGY), 3)
            assert ADDRESS in str(info.value) and "\n" not in str(info.value)
            assert bus.stats.attempts == 2 and bus.is_open  # a bad meter is not a dead bus

    run(scenario())


def test_a_silent_meter_costs_timeouts_not_the_bus() -> None:
    dead, alive = meter("230715000001"), meter("230715000002")
    dead.faults = FaultPlan(Fault.SILENT)

    async def scenario() -> None:
        async with served([dead, alive], "pty") as (_, url), bus_on(url) as bus:
            for _ in range(2):
                with pytest.raises(MeterTimeout):
                    await within(Dlt645Client(bus, dead.address).read(ENERGY), 3)
                reading = await within(Dlt645Client(bus, alive.address).read(ENERGY), 3)
                assert reading.value == Decimal("1250.31")
            assert bus.stats.port_losses == 0 and bus.stats.reconnects == 0

    run(scenario())


def test_local_echo_of_the_whole_line_is_removed() -> None:
    async def scenario() -> None:
        async with served([meter()], "pty", echo=True) as (_, url), bus_on(url) as bus:
            client = Dlt645Client(bus, ADDRESS)
            assert (await client.read(ENERGY)).value == Decimal("1250.31")
            assert bus.stats.echo_bytes == 20 and bus.stats.attempts == 1

    run(scenario())


def test_concurrent_reads_are_serialised_on_one_bus() -> None:
    meters = [meter(f"23071500001{i}") for i in range(5)]
    for i, m in enumerate(meters):
        m.set_energy(Decimal(100 + i))

    async def scenario() -> None:
        async with served(meters, "tcp") as (_, url), bus_on(url) as bus:
            clients = [Dlt645Client(bus, m.address) for m in meters]
            readings = await asyncio.gather(*(c.read(ENERGY) for c in clients))
            assert [r.value for r in readings] == [Decimal(100 + i) for i in range(5)]
            assert bus.stats.attempts == 5

    run(scenario())


def test_a_wildcard_with_two_meters_collides_into_a_typed_error() -> None:
    async def scenario() -> None:
        pair = [meter("230715000001"), meter("230715000002")]
        async with served(pair, "tcp") as (_, url), bus_on(url) as bus:
            with pytest.raises((MeterBadReply, MeterTimeout)):
                await within(Dlt645Client(bus).read_address(), 3)

    run(scenario())


def test_a_vanished_pty_is_reopened_when_it_comes_back(tmp_path: Path) -> None:
    link = str(tmp_path / "ttyUSB-bench")

    async def scenario() -> None:
        async with served([meter()], "pty", link=link) as (server, url), bus_on(url) as bus:
            client = Dlt645Client(bus, ADDRESS)
            assert (await client.read(ENERGY)).value == Decimal("1250.31")
            await server.vanish()
            asyncio.get_running_loop().call_later(
                0.5, lambda: asyncio.ensure_future(server.reappear())
            )
            reading = await within(client.read(ENERGY), 3)  # waits for the port, then reads
            assert reading.value == Decimal("1250.31")
            assert bus.stats.port_losses == 1 and bus.stats.reconnects == 1
            assert any("port lost" in e.hex for e in bus.trace.last())

    run(scenario())


def test_a_tcp_serial_server_that_restarts_is_reconnected() -> None:
    async def scenario() -> None:
        async with served([meter()], "tcp") as (server, url), bus_on(url) as bus:
            client = Dlt645Client(bus, ADDRESS)
            assert (await client.read(ENERGY)).value == Decimal("1250.31")
            await server.stop()
            await asyncio.sleep(0.2)
            restart = asyncio.get_running_loop().call_later(
                0.4, lambda: asyncio.ensure_future(server.start())
            )
            try:
                assert (await within(client.read(VOLTAGE), 3)).value == Decimal("220.0")
            finally:
                restart.cancel()
            assert bus.stats.reconnects == 1

    run(scenario())


def test_a_port_that_stays_away_gives_port_lost_within_the_budget(tmp_path: Path) -> None:
    timing = BusTiming(
        td_max=0.1,
        tb=0.1,
        margin=0.02,
        retries=1,
        reconnect_delay=0.05,
        reconnect_delay_max=0.1,
        reconnect_grace=0.5,
    )

    async def scenario() -> None:
        link = str(tmp_path / "tty0")
        async with served([meter()], "pty", link=link) as (server, url), bus_on(url, timing) as bus:
            client = Dlt645Client(bus, ADDRESS)
            await client.read(ENERGY)
            await server.vanish()
            with pytest.raises(PortLostError):
                await within(client.read(ENERGY), 3)
            await server.reappear()
            await asyncio.sleep(0.3)  # the back-off loop keeps trying in the background
            assert (await within(client.read(ENERGY), 3)).value == Decimal("1250.31")

    run(scenario())


def test_follow_up_frames_are_joined_and_capped() -> None:
    big = meter(tariffs=63)
    for t in range(1, 64):
        big.set_energy(Decimal(t), tariff=t)
    looping = meter("230715000099", endless_follow_up=True)

    async def scenario() -> None:
        async with served([big, looping], "tcp") as (_, url), bus_on(url) as bus:
            reading = await within(Dlt645Client(bus, big.address).read(0x0001FF00), 5)
            assert len(reading.raw) == 64 * 4
            assert reading.value[1:] == [Decimal(t) for t in range(1, 64)]
            assert bus.stats.transactions == 2  # 11H, then one 12H
            client = Dlt645Client(bus, looping.address, max_follow_ups=3)
            with pytest.raises(MeterBadReply, match="follow-up"):
                await within(client.read(ENERGY), 5)

    run(scenario())
