"""The CJ/T 188 client against the simulated water meter over a pty, alone and sharing one line
with a DL/T 645 meter (the bus is protocol-neutral)."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, meter, run, served, within  # noqa: E402

from meterbench.devices.cjt188_client import Cjt188Client  # noqa: E402
from meterbench.devices.dlt645_client import Dlt645Client  # noqa: E402
from meterbench.devices.errors import MeterAbnormalReply, MeterTimeout  # noqa: E402
from meterbench.sim.faults import Fault, FaultPlan  # noqa: E402
from meterbench.sim.meter_cjt188 import Cjt188WaterMeter  # noqa: E402

WATER = "00000012345678"
NOW = dt.datetime(2025, 3, 14, 9, 26, 53)


def water(**kwargs: object) -> Cjt188WaterMeter:
    w = Cjt188WaterMeter(address=WATER, response_delay=0.02, clock_source=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    w.set_volume("123.45")
    return w


@pytest.mark.parametrize("order", ["low_first", "high_first"])
def test_read_volume_in_either_di_order(order: str) -> None:
    w = water()

    async def scenario() -> None:
        async with served([w], "pty") as (_, url), bus_on(url) as bus:
            client = Cjt188Client(bus, WATER, di_order=order)  # type: ignore[arg-type]
            reading = await within(client.read_volume(), 3)
            assert (reading.volume, reading.unit, reading.time) == (Decimal("123.45"), "m3", NOW)
            assert reading.valve == "open" and not reading.battery_low
            w.add_volume("0.05")
            assert (await within(client.read_volume(), 3)).volume == Decimal("123.50")

    run(scenario())


def test_address_refusal_retry_and_timeout() -> None:
    w = water()

    async def scenario() -> None:
        async with served([w], "pty") as (_, url), bus_on(url) as bus:
            assert await within(Cjt188Client(bus).read_address(), 3) == WATER
            client = Cjt188Client(bus, WATER)
            with pytest.raises(MeterAbnormalReply, match="refused"):
                await within(client.read_data(0x8103), 3)
            w.faults = FaultPlan(Fault.WRONG_CHECKSUM, count=1)
            assert (await within(client.read_volume(), 3)).volume == Decimal("123.45")
            w.faults = FaultPlan(Fault.SILENT)
            with pytest.raises(MeterTimeout, match=WATER):
                await within(Cjt188Client(bus, WATER, retries=0).read_volume(), 3)

    run(scenario())


def test_water_and_electricity_meters_share_one_bus() -> None:
    async def scenario() -> None:
        async with served([meter(), water()], "pty") as (_, url), bus_on(url) as bus:
            volume = await within(Cjt188Client(bus, WATER).read_volume(), 3)
            energy = await within(Dlt645Client(bus, ADDRESS).read(0x00010000), 3)
            assert (volume.volume, energy.value) == (Decimal("123.45"), Decimal("1250.31"))

    run(scenario())


def test_meter_without_clock_still_gives_its_volume() -> None:
    """An all-zero real-time field is a warning on that field, not a lost reading."""
    w = water(has_clock=False)

    async def scenario() -> None:
        async with served([w], "pty") as (_, url), bus_on(url) as bus:
            reading = await within(Cjt188Client(bus, WATER).read_volume(), 3)
            assert (reading.volume, reading.time) == (Decimal("123.45"), None)
            assert reading.warnings == ("real time is all zeros: the meter has no clock",)

    run(scenario())
