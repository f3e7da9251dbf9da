"""Interoperability with an independent DL/T 698.45 implementation, PyPI ``dlt698`` 1.0.1
(C++ core with Python bindings), both ways, over TCP and over ptys:

- its client against our simulated meter: GET energy and clock, SET time, ACTION 4000 m127;
- our client against its server (an explicitly driven Engine with object providers): the same.

Every exchanged frame is printed (``pytest -s`` shows them). Its server is reached on TCP with
the local profile: with the remote profile it sends a LINK login the moment the connection
opens and refuses CONNECT until it is answered, which a bus that only listens after sending a
request cannot see.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import sys
import threading
import tty
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

dlt698 = pytest.importorskip("dlt698")
from dlt698 import _native as native  # noqa: E402
from dlt698.expert import (  # noqa: E402
    AttributeSchema,
    Endpoint,
    MethodSchema,
    ObjectProvider,
    ObjectRegistry,
    ObjectSchema,
)

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, run, served  # noqa: E402

from meterbench.devices.dlt698_client import Dlt698Client  # noqa: E402
from meterbench.sim.meter_dlt698 import Dlt698Meter  # noqa: E402
from meterbench.transport import SerialSettings  # noqa: E402
from meterproto.dlt698 import services as sv  # noqa: E402
from meterproto.dlt698.apdu import Data, describe  # noqa: E402
from meterproto.dlt698.frame import decode_frame  # noqa: E402

WIRE_ADDRESS = bytes(reversed(bytes.fromhex(ADDRESS)))
WHEN = dt.datetime(2025, 3, 14, 9, 26, 53)
RATE = SerialSettings(9600)


def _dts(when: dt.datetime) -> list[int]:
    return [
        when.year >> 8,
        when.year & 0xFF,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
    ]


def _from_dts(raw: list[int]) -> dt.datetime:
    return dt.datetime((raw[0] << 8) | raw[1], raw[2], raw[3], raw[4], raw[5], raw[6])


def _show(side: str, kind: str, data: bytes) -> None:
    print(f"{side:>12} {kind:<7} {data.hex(' ').upper()}")


def _session(role: Any = None) -> Any:
    address = native.ServerAddress(bytes=WIRE_ADDRESS, type=native.AddressType.single)
    options = dlt698.SessionOptions(server=address, request_timeout=3.0)
    if role is not None:
        options.role = role
    return options


# -- their client, our simulated meter -----------------------------------------------------------


def _their_client_session(kind: str, target: Any) -> dict[str, Any]:
    """Runs in a worker thread: PyPI dlt698's blocking client does its four services."""
    events: list[Any] = []
    out: dict[str, Any] = {}
    options = dlt698.ClientOptions(protocol=_session())
    with dlt698.Client(options, on_event=events.append) as client:
        try:
            if kind == "tcp":
                client.connect_tcp("127.0.0.1", target, dlt698.ConnectionProfile.local_public)
            else:
                client.open_serial(target, 9600)
            energy = client.get(dlt698.Oad(oi=0x0010, attribute=2, index=1)).require_data()
            out["energy"] = energy.as_uint32()
            out["clock"] = _from_dts(
                client.get(dlt698.Oad(oi=0x4000, attribute=2)).require_data().as_date_time_s()
            )
            out["set"] = client.set(
                dlt698.Oad(oi=0x4000, attribute=2), dlt698.Data.date_time_s(_dts(WHEN))
            )
            later = WHEN + dt.timedelta(hours=2)
            action = client.action(
                dlt698.Omd(oi=0x4000, method=127), dlt698.Data.date_time_s(_dts(later))
            )
            out["action"] = action.dar
        finally:
            client.dispatch_events()
    out["traffic"] = [(e.kind, bytes(e.bytes)) for e in events if e.kind in ("send", "receive")]
    return out


@pytest.mark.parametrize("kind", ["tcp", "pty"])
def test_pypi_client_against_our_simulated_meter(kind: str) -> None:
    async def main() -> None:
        meter = Dlt698Meter(address=ADDRESS, response_delay=0.02, baudrate=9600)
        meter.set_energy(Decimal("1250.31"))
        async with served([meter], kind, baudrate=9600) as (server, url):
            target = server.port if kind == "tcp" else url
            loop = asyncio.get_running_loop()
            out = await loop.run_in_executor(None, _their_client_session, kind, target)
        print(f"\nPyPI dlt698 client -> meterbench simulated meter over {kind}:")
        for direction, data in out["traffic"]:
            _show("dlt698", direction, data)
        assert out["energy"] == 125031
        assert abs(out["clock"] - WHEN) > dt.timedelta(days=1)  # the meter's own time, not WHEN
        assert out["set"] == 0 and out["action"] == 0
        assert abs(meter.now() - (WHEN + dt.timedelta(hours=2))) <= dt.timedelta(seconds=2)
        assert meter.events["time setting"] == 2
        received = [describe(decode_frame(d))["name"] for k, d in out["traffic"] if k == "receive"]
        assert received == [
            "CONNECT-Response",
            "GET-Response-Normal",
            "GET-Response-Normal",
            "SET-Response-Normal",
            "ACTION-Response-Normal",
        ]

    run(main(), timeout=30)


# -- our client, their server --------------------------------------------------------------------


class _Clock(ObjectProvider):
    """Their server's clock object: attribute 2 readable and writable, method 127 sets it."""

    def __init__(self) -> None:
        super().__init__()
        self.value = _dts(dt.datetime(2024, 12, 31, 23, 59, 58))
        self.calls: list[int] = []

    # Parameter names as in the binding's stubs (arg0, arg1): these override its methods.
    def read(self, arg0: native.Oad) -> int | native.Data:
        return dlt698.Data.date_time_s(self.value) if arg0.attribute == 2 else 4

    def write(self, arg0: native.Oad, arg1: native.Data) -> int:
        self.value = list(arg1.as_date_time_s())
        return 0

    def invoke(self, arg0: native.Omd, arg1: native.Data) -> native.ActionValue:
        self.calls.append(arg0.method)
        self.value = list(arg1.as_date_time_s())
        return native.ActionValue(dar=0)

    def read_record(self, arg0: native.GetRecord) -> native.RecordResult:
        return native.RecordResult(attribute=arg0.attribute, result=4)


class _Energy(ObjectProvider):
    """Forward active energy: total 1250.31 kWh, tariffs 1000.01 and 250.30 kWh."""

    values = (125031, 100001, 25030, 0, 0)

    def read(self, arg0: native.Oad) -> int | native.Data:
        items = [dlt698.Data.uint32(v) for v in self.values]
        return items[arg0.index - 1] if arg0.index else dlt698.Data.array(items)

    def write(self, arg0: native.Oad, arg1: native.Data) -> int:
        return 3

    def invoke(self, arg0: native.Omd, arg1: native.Data) -> native.ActionValue:
        return native.ActionValue(dar=4)

    def read_record(self, arg0: native.GetRecord) -> native.RecordResult:
        return native.RecordResult(attribute=arg0.attribute, result=4)


def _registry(clock: _Clock) -> Any:
    registry = ObjectRegistry()
    registry.register_object(
        ObjectSchema(
            oi=0x4000,
            name="clock",
            attributes=[
                AttributeSchema(
                    number=2, readable=True, writable=True, type=native.DataType.date_time_s
                )
            ],
            methods=[
                MethodSchema(
                    number=127, executable=True, parameter_type=native.DataType.date_time_s
                )
            ],
        ),
        clock,
    )
    registry.register_object(
        ObjectSchema(
            oi=0x0010,
            name="forward active energy",
            attributes=[AttributeSchema(number=2, readable=True, type=native.DataType.array)],
        ),
        _Energy(),
    )
    return registry


@contextlib.contextmanager
def _their_server(open_it: Any, clock: _Clock) -> Iterator[list[tuple[str, bytes]]]:
    """Their Engine as a server, driven by one thread that polls it (its providers run there)."""
    traffic: list[tuple[str, bytes]] = []
    stop = threading.Event()
    ready = threading.Event()
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            with Endpoint(_session(native.Role.server), _registry(clock)) as endpoint:
                open_it(endpoint.engine)
                ready.set()
                while not stop.is_set():
                    for done in endpoint.poll(0.005):
                        if done.traffic is not None and done.traffic.kind in ("send", "receive"):
                            traffic.append((done.traffic.kind, bytes(done.traffic.bytes)))
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            ready.set()

    thread = threading.Thread(target=drive, name="dlt698 server")
    thread.start()
    ready.wait(10)
    try:
        if failure:
            raise failure[0]
        yield traffic
    finally:
        stop.set()
        thread.join(10)


EXPECTED_REQUESTS = [
    "CONNECT-Request",
    "GET-Request-Normal",
    "GET-Request-Normal",
    "GET-Request-Normal",
    "SET-Request-Normal",
    "ACTION-Request-Normal",
    "RELEASE-Request",
]


async def _requests_seen(traffic: list[tuple[str, bytes]]) -> list[str]:
    """The requests their server reported receiving; its traffic events trail the replies, so
    wait (bounded) until all of ours are reported."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        names = [describe(decode_frame(d))["name"] for k, d in list(traffic) if k == "receive"]
        if len(names) >= len(EXPECTED_REQUESTS) or loop.time() > deadline:
            return names
        await asyncio.sleep(0.01)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _null_modem() -> AsyncIterator[tuple[str, str]]:
    """Two ptys joined master to master: what one side writes, the other reads."""
    pairs = [os.openpty() for _ in range(2)]
    for master, slave in pairs:
        tty.setraw(slave)
        os.set_blocking(master, False)
    loop = asyncio.get_running_loop()

    def relay(src: int, dst: int) -> None:
        with contextlib.suppress(OSError):
            data = os.read(src, 4096)
            if data:
                os.write(dst, data)

    (a_master, a_slave), (b_master, b_slave) = pairs
    loop.add_reader(a_master, relay, a_master, b_master)
    loop.add_reader(b_master, relay, b_master, a_master)
    try:
        yield os.ttyname(a_slave), os.ttyname(b_slave)
    finally:
        loop.remove_reader(a_master)
        loop.remove_reader(b_master)
        for fd in (a_master, a_slave, b_master, b_slave):
            os.close(fd)


async def _our_client_session(url: str, clock: _Clock) -> None:
    async with bus_on(url, settings=RATE) as bus:
        bus.trace.listen(lambda e: print(e.format()))
        client = Dlt698Client(bus, ADDRESS)
        assert await client.read_energy() == Decimal("1250.31")
        assert await client.read_energy(tariff=2) == Decimal("250.30")
        assert await client.read_clock() == dt.datetime(2024, 12, 31, 23, 59, 58)
        await client.set_clock(WHEN)
        assert clock.value == _dts(WHEN)
        later = WHEN + dt.timedelta(hours=2)
        assert await client.action("40007f00", Data(0x1C, later)) is None
        assert clock.calls == [127] and clock.value == _dts(later)
        await client.release()


def test_our_client_against_the_pypi_server_over_tcp() -> None:
    clock = _Clock()
    port = _free_port()
    with _their_server(
        lambda engine: engine.listen("127.0.0.1", port, dlt698.ConnectionProfile.local_public),
        clock,
    ) as traffic:
        print("\nmeterbench client -> PyPI dlt698 server over TCP:")

        async def main() -> list[str]:
            await _our_client_session(f"socket://127.0.0.1:{port}", clock)
            return await _requests_seen(traffic)

        seen = run(main(), timeout=30)
    for direction, data in traffic:
        _show("dlt698 srv", direction, data)
    assert seen == EXPECTED_REQUESTS


def test_our_client_against_the_pypi_server_over_a_pty() -> None:
    async def main() -> list[str]:
        clock = _Clock()
        async with _null_modem() as (theirs, ours):

            def open_serial(engine: Any) -> None:
                serial = native.SerialOptions(baud_rate=9600)
                link = native.SerialLinkOptions(baud_rate=9600)
                engine.open_serial(
                    theirs, serial, link, dlt698.ConnectionProfile.local_public, native.Role.server
                )

            with _their_server(open_serial, clock) as traffic:
                print("\nmeterbench client -> PyPI dlt698 server over a pty pair:")
                await _our_client_session(ours, clock)
                seen = await _requests_seen(traffic)
                for direction, data in traffic:
                    _show("dlt698 srv", direction, data)
                return seen

    assert run(main(), timeout=30) == EXPECTED_REQUESTS


# -- link-layer fragmentation across the two implementations ------------------------------------


def _their_energy_read(port: int) -> tuple[list[int], list[tuple[str, bytes]]]:
    events: list[Any] = []
    with dlt698.Client(dlt698.ClientOptions(protocol=_session()), on_event=events.append) as client:
        try:
            client.connect_tcp("127.0.0.1", port, dlt698.ConnectionProfile.local_public)
            energy = client.get(dlt698.Oad(oi=0x0010, attribute=2)).require_data()
            values = [item.as_uint32() for item in energy.value]
        finally:
            client.dispatch_events()
    return values, [(e.kind, bytes(e.bytes)) for e in events if e.kind in ("send", "receive")]


def _fragment_frames(traffic: list[tuple[str, bytes]], kind: str) -> int:
    return sum(1 for k, d in traffic if k == kind and decode_frame(d).fragment)


def test_pypi_client_reassembles_fragments_of_our_simulated_meter() -> None:
    async def main() -> None:
        meter = Dlt698Meter(address=ADDRESS, response_delay=0.02, max_frame=36)
        meter.set_energy(Decimal("1250.31"))
        async with served([meter]) as (server, _url):
            loop = asyncio.get_running_loop()
            values, traffic = await loop.run_in_executor(None, _their_energy_read, server.port)
        print("\nPyPI dlt698 client <- fragmented replies of the simulated meter:")
        for direction, data in traffic:
            _show("dlt698", direction, data)
        assert values == [125031, 125031, 0, 0, 0]
        assert _fragment_frames(traffic, "receive") >= 3  # first, middle, last
        assert _fragment_frames(traffic, "send") >= 2  # its acknowledgements

    run(main(), timeout=30)


def test_fragments_both_ways_with_the_pypi_server() -> None:
    clock = _Clock()
    port = _free_port()
    sizes = sv.ConnectParameters(send_frame=36, receive_frame=36)

    async def main() -> None:
        async with bus_on(f"socket://127.0.0.1:{port}", settings=RATE) as bus:
            bus.trace.listen(lambda e: print(e.format()))
            client = Dlt698Client(bus, ADDRESS, parameters=sizes)
            energy = await client.read("00100200")  # it answers in fragments (and blocks)
            assert energy.value[:3] == [Decimal("1250.31"), Decimal("1000.01"), Decimal("250.30")]
            items = [("40000200", Data(0x1C, WHEN))] * 3  # 44-byte request: we fragment
            assert await client.set_many(items) == [("40000200", 0)] * 3
            assert clock.value == _dts(WHEN)

    with _their_server(
        lambda engine: engine.listen("127.0.0.1", port, dlt698.ConnectionProfile.local_public),
        clock,
    ) as traffic:
        print("\nmeterbench client <-> PyPI dlt698 server, frames of at most 36 bytes:")
        run(main(), timeout=30)
    assert _fragment_frames(traffic, "receive") >= 3  # our fragments and acknowledgements
