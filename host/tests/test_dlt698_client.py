"""The DL/T 698.45 client against the simulated 698 meter, over TCP and a real pty: reads with
the catalogue's scaling, writes, actions, DARs, fragmentation both ways, the security envelope,
meter-started heartbeats and reports, late replies, wildcard and shared lines."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, run, served  # noqa: E402

from meterbench.devices.dlt698_client import Dlt698Client  # noqa: E402
from meterbench.devices.electricity_meter import ElectricityMeter, EnergyRegister, PulseOutput  # noqa: E402
from meterbench.devices.errors import (  # noqa: E402
    MeterAbnormalReply,
    MeterBadReply,
    MeterDarError,
    MeterTimeout,
)
from meterbench.devices.meter_clients import electricity_meter_client  # noqa: E402
from meterbench.sim.faults import Fault, FaultPlan  # noqa: E402
from meterbench.sim.meter_dlt698 import Dlt698Meter  # noqa: E402
from meterbench.transport import SerialSettings  # noqa: E402
from meterproto.dlt698 import services as sv  # noqa: E402
from meterproto.dlt698.apdu import Data  # noqa: E402
from meterproto.dlt698.security import SimulatedSecurity  # noqa: E402

RATE = SerialSettings(9600)
WHEN = dt.datetime(2025, 3, 14, 9, 26, 53)


def meter698(address: str = ADDRESS, **kwargs: Any) -> Dlt698Meter:
    kwargs.setdefault("response_delay", 0.02)
    kwargs.setdefault("baudrate", 9600)
    m = Dlt698Meter(address=address, **kwargs)
    m.set_energy(Decimal("1250.31"))
    m.set_energy(Decimal("1000.01"), tariff=1)
    m.set_energy(Decimal("250.30"), tariff=2)
    return m


def _fragments(bus: Any) -> int:
    """Frames on the trace with the fragment bit (C bit 5) set."""
    count = 0
    for entry in bus.trace.last():
        if entry.direction == "event" or not entry.hex:
            continue
        raw = bytes.fromhex(entry.hex.replace("*", "0")).lstrip(b"\xfe")
        if len(raw) > 4 and raw[0] == 0x68 and raw[3] & 0x20:
            count += 1
    return count


@pytest.mark.parametrize("kind", ["tcp", "pty"])
def test_reads_with_the_catalogue_scaling(kind: str) -> None:
    async def main() -> None:
        m = meter698()
        m.set_instantaneous(voltage="230.1", current="5.125")
        async with served([m], kind, baudrate=9600) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(bus, ADDRESS)
            assert isinstance(c, ElectricityMeter) and c.protocol == "dlt698"
            assert await c.read_address() == ADDRESS
            assert await c.read_energy() == Decimal("1250.31")
            assert await c.read_energy(tariff=1) == Decimal("1000.01")
            assert await c.read_energy(EnergyRegister.ACTIVE_EXPORT) == Decimal("0.00")
            assert await c.read_energy(EnergyRegister.ACTIVE_COMBINED, 2) == Decimal("250.30")
            assert abs(await c.read_clock() - m.now()) <= dt.timedelta(seconds=1)
            voltage = await c.read("20000200")
            assert (voltage.value, voltage.unit) == ([Decimal("230.1")] * 3, "V")
            current = await c.read("20010202")
            assert (current.name, current.value, current.unit) == (
                "current [B]",
                Decimal("5.125"),
                "A",
            )
            constant = await c.read("41090200")
            assert (constant.value, constant.unit) == (Decimal(1200), "imp/kWh")
            results = await c.get_many(["00100201", "40010200", "12345678"])
            assert results[0].data == Data(0x06, 125031) and results[2].dar == 4
            await c.release()
            assert c.connected is None and not m.connected

    run(main())


def test_writes_actions_and_named_dars() -> None:
    async def main() -> None:
        m = meter698()
        async with served([m]) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(bus, ADDRESS)
            await c.set_clock(WHEN)
            assert abs(m.now() - WHEN) <= dt.timedelta(seconds=1)
            assert m.events["time setting"] == 1
            assert (await c.read("30160400")).value == Decimal(1)
            rows = await c.get_record(
                "30160200", sv.Rsd(9, last=1), [sv.Csd("20220200"), sv.Csd("201e0200")]
            )
            assert rows == ((Data(0x06, 1), Data(0x1C, WHEN)),)
            await c.set_pulse_output(PulseOutput.TARIFF_SWITCH)
            assert m.output_mode == 2
            await c.action("40007f00", Data(0x1C, WHEN + dt.timedelta(hours=1)))
            assert abs(m.now() - WHEN - dt.timedelta(hours=1)) <= dt.timedelta(seconds=1)
            with pytest.raises(MeterDarError, match=r"DAR 3 \(read/write denied\)") as denied:
                await c.set("00100200", Data(0x01, ()))
            assert denied.value.dar == 3 and denied.value.errors == ("read/write denied",)
            with pytest.raises(MeterDarError, match="object undefined"):
                await c.get("99990200")
            with pytest.raises(MeterDarError, match="type mismatch"):
                await c.set("40000200", Data(0x06, 1))
            assert await c.set_many(
                [("40000200", Data(0x1C, WHEN)), ("00100200", Data(0, None))]
            ) == [
                ("40000200", 0),
                ("00100200", 3),
            ]

    run(main())


def test_fragmented_replies_and_requests() -> None:
    async def main() -> None:
        m = meter698(max_frame=37)  # frames of 37 bytes: 20 bytes of user data each
        params = sv.ConnectParameters(send_frame=41, receive_frame=37)
        async with served([m]) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(bus, ADDRESS, parameters=params)
            energy = await c.read("00100200")  # 39-byte reply: 3 fragments of 18 bytes
            assert energy.value[:3] == [Decimal("1250.31"), Decimal("1000.01"), Decimal("250.30")]
            assert _fragments(bus) >= 5  # 3 fragments from the meter, 2 acknowledgements
            before = _fragments(bus)
            items = [("40000200", Data(0x1C, WHEN))] * 4  # 47-byte request: 3 fragments out
            assert await c.set_many(items) == [("40000200", 0)] * 4
            assert _fragments(bus) - before >= 5
            assert m.events["time setting"] == 4

    run(main())


def test_security_envelope_with_the_simulated_provider() -> None:
    async def main() -> None:
        m = meter698(security=SimulatedSecurity(b"bench-sim-key", seed=7))
        async with served([m]) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(
                bus, ADDRESS, security=SimulatedSecurity(b"bench-sim-key"), secure_reads=True
            )
            assert await c.read_energy() == Decimal("1250.31")  # plaintext+RN, MAC checked
            await c.set_clock(WHEN)  # plaintext+SID_MAC
            assert m.events["time setting"] == 1
            plain = Dlt698Client(bus, ADDRESS)
            with pytest.raises(MeterDarError, match="security authentication failed"):
                await plain.set_clock(WHEN)
            assert await plain.read_energy() == Decimal("1250.31")  # plaintext reads stay open
            forged = Dlt698Client(
                bus, ADDRESS, security=SimulatedSecurity(b"wrong"), secure_reads=True
            )
            with pytest.raises(MeterBadReply, match="MAC"):
                await forged.read_energy()
            with pytest.raises(MeterDarError, match="security authentication failed"):
                await forged.set_clock(WHEN)
            assert m.events["time setting"] == 1

    run(main())


def test_meter_started_heartbeats_and_reports_are_answered() -> None:
    async def main() -> None:
        report = sv.ResultNormal("30160400", Data(0x12, 3))
        m = meter698(heartbeat_every=2, pending_reports=[report])
        async with served([m]) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(bus, ADDRESS)
            for _ in range(3):
                assert await c.read_energy() == Decimal("1250.31")
            assert [r.normal for r in c.reports] == [(report,)]
            assert m.acknowledged_reports == [("30160400",)] and not m.pending_reports
            assert len(c.link_requests) == 2 and len(m.link_responses) == 2
            assert all(r.result & 0x80 for r in m.link_responses)

    run(main())


def test_late_replies_and_echo_are_not_taken() -> None:
    async def main() -> None:
        m = meter698(faults=FaultPlan(Fault.MERGE))  # every reply preceded by the previous one
        async with served([m], echo=True) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(bus, ADDRESS)
            assert await c.read_energy() == Decimal("1250.31")
            assert (await c.read_clock()).year == m.now().year
            assert await c.read_energy(tariff=2) == Decimal("250.30")
            assert bus.stats.ignored_frames >= 2

    run(main())


def test_wildcard_shared_line_and_factory() -> None:
    async def main() -> None:
        a, b = meter698("000000000001"), meter698("000000000002")
        b.set_energy(Decimal("7.00"))
        async with served([a, b]) as (_, url), bus_on(url, settings=RATE) as bus:
            one = electricity_meter_client("dlt698", bus, "000000000001")
            two = electricity_meter_client("dlt698", bus, "000000000002")
            assert isinstance(one, Dlt698Client) and isinstance(two, ElectricityMeter)
            assert await one.read_energy() == Decimal("1250.31")
            assert await two.read_energy() == Decimal("7.00")
            silent = Dlt698Client(bus, "000000000003", retries=0)
            with pytest.raises(MeterTimeout):
                await silent.read_energy()
            await one.broadcast_time(WHEN)  # nobody answers; both clocks follow
            assert abs(await two.read_clock() - WHEN) <= dt.timedelta(seconds=1)
            assert abs(a.now() - WHEN) <= dt.timedelta(seconds=1)
        async with served([b]) as (_, url), bus_on(url, settings=RATE) as bus:
            wild = electricity_meter_client("dlt698", bus, None)
            assert isinstance(wild, Dlt698Client)
            assert await wild.read_address() == "000000000002"
            assert wild.address == "000000000002"

    run(main())


def test_connect_password_is_masked_and_checked() -> None:
    async def main() -> None:
        m = meter698(connect_password="s3cret")
        async with served([m]) as (_, url), bus_on(url, settings=RATE) as bus:
            lines: list[str] = []
            bus.trace.listen(lambda e: lines.append(e.format()))
            wrong = Dlt698Client(bus, ADDRESS, password="guess1")
            with pytest.raises(MeterAbnormalReply, match="refused the connection: result 1"):
                await wrong.read_energy()
            right = Dlt698Client(bus, ADDRESS, password="s3cret")
            assert await right.read_energy() == Decimal("1250.31")
            connects = [line for line in lines if "(CONNECT" in line]
            assert len(connects) == 2 and all("** ** ** ** ** **" in line for line in connects)
            assert not any("73 33 63 72 65 74" in line for line in lines)  # "s3cret"

    run(main())


def test_corrupt_replies_are_retried() -> None:
    async def main() -> None:
        m = meter698(faults=FaultPlan(Fault.WRONG_CHECKSUM, count=2))
        async with served([m]) as (_, url), bus_on(url, settings=RATE) as bus:
            c = Dlt698Client(bus, ADDRESS)
            assert await c.read_energy() == Decimal("1250.31")
            assert bus.stats.corrupt == 2
        silent = meter698(faults=FaultPlan(Fault.CORRUPT))
        async with served([silent]) as (_, url), bus_on(url, settings=RATE) as bus:
            with pytest.raises(MeterBadReply):
                await Dlt698Client(bus, ADDRESS).read_energy()

    run(main())
