"""Interoperability with code written by others: PyPI ``dlt645`` 3.2.0, both directions.

Only the operations that package implements correctly are used (protocol reference 12.4):
11H reads, 13H, 14H writes, 1BH, 16H instant freeze and 17H to 2400. Its quirks are handled
as the reference says: it packs addresses as typed, so it is given our addresses byte-reversed;
passwords have P0 = P2 (000000) so its password byte order does not matter.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

dlt645 = pytest.importorskip("dlt645")

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, meter, run, served, within  # noqa: E402

from meterbench.devices.dlt645_client import Dlt645Client, Password  # noqa: E402
from meterbench.transport import BusTiming  # noqa: E402

REVERSED = "".join(reversed([ADDRESS[i : i + 2] for i in range(0, 12, 2)]))  # 420000150723


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def their_meter() -> Iterator[tuple[object, str]]:
    """The package's simulated meter on TCP, loaded with known values."""
    port = _free_port()
    server = dlt645.MeterServerService.new_tcp_server("127.0.0.1", port, 2.0)
    server.set_address(REVERSED)
    server.set_00(0x00000000, 1234.56)
    server.set_00(0x00010000, 1234.56)
    server.set_02(0x02010100, 230.5)
    server.set_password("02000000")
    assert server.start()
    try:
        yield server, f"socket://127.0.0.1:{port}"
    finally:
        server.stop()


def test_meterbench_reads_the_package_meter(their_meter: tuple[object, str]) -> None:
    _, url = their_meter

    async def scenario() -> None:
        async with bus_on(url, BusTiming(retries=1)) as bus:
            client = Dlt645Client(bus, ADDRESS)
            assert (await within(client.read(0x00000000), 5)).value == Decimal("1234.56")
            assert (await within(client.read(0x00010000), 5)).value == Decimal("1234.56")
            assert (await within(client.read(0x02010100), 5)).value == Decimal("230.5")
            assert await within(Dlt645Client(bus).read_address(), 5) == ADDRESS
            await within(client.write(0x04000103, 30, Password(2, "000000")), 5)
            assert (await within(client.read(0x04000103), 5)).value == 30
            await within(client.clear_events(password=Password(2, "000000")), 5)
            assert bus.stats.attempts == bus.stats.transactions  # no retries needed

    run(scenario(), timeout=30)


def test_the_package_client_reads_the_meterbench_simulator() -> None:
    m = meter()
    m.set_instantaneous(voltage=Decimal("230.5"))

    def their_client(url: str) -> None:
        host, port = url.removeprefix("socket://").split(":")
        client = dlt645.MeterClientService.new_tcp_client(host, int(port), 2.0)
        try:
            client.set_address(REVERSED)
            assert client.read_00(0x00010000).value == pytest.approx(1250.31)
            assert client.read_02(0x02010100).value == pytest.approx(230.5)
            assert client.read_address().value == REVERSED  # it shows wire order
            client.write_04(0x04000103, "30", "02000000")
            assert client.clear_event("02000000") is not None
            assert client.freeze(99, 99, 99, 99) is not None  # instant freeze
            assert client.change_baud_rate(2400) is not None
        finally:
            client.disconnect()

    async def scenario() -> None:
        async with served([m], "tcp") as (_, url):
            await asyncio.to_thread(their_client, url)
        assert m.params[0x04000103] == 30
        assert m.events["event clear"] == 1 and len(m.freezes) == 1 and m.baudrate == 2400

    run(scenario(), timeout=30)
