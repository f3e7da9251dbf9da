"""Dlt645Client as the ElectricityMeter items talk to, for both editions: the same questions
reach a 2007 and a 1997 simulated meter under each edition's own identifiers."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from meter_harness import ADDRESS, bus_on, meter, run, served, within  # noqa: E402

from meterbench.devices.dlt645_client import Dlt645Client, Password  # noqa: E402
from meterbench.devices.electricity_meter import (  # noqa: E402
    ElectricityMeter,
    EnergyRegister,
    PulseOutput,
)
from meterbench.devices.errors import MeterUnsupported  # noqa: E402
from meterbench.devices.meter_clients import electricity_meter_client  # noqa: E402
from meterbench.sim.line import SimLine  # noqa: E402
from meterbench.sim.memory_port import MemoryPort  # noqa: E402
from meterbench.sim.meter_dlt645 import FORWARD_ACTIVE, REVERSE_ACTIVE  # noqa: E402
from meterbench.sim.virtual_loop import run as run_virtual  # noqa: E402
from meterbench.transport import Bus, BusTiming  # noqa: E402
from meterproto.dlt645 import messages as msg  # noqa: E402
from meterproto.dlt645.editions import DLT645_1997, DLT645_2007  # noqa: E402

T0 = dt.datetime(2025, 3, 14, 9, 26, 53)
PASSWORD = Password(2, "000000")


def test_the_tables_hold_each_editions_identifiers() -> None:
    assert DLT645_2007.address == (0x04000401,)
    assert DLT645_2007.energy("active_import") == 0x00010000
    assert DLT645_2007.energy("active_export") == 0x00020000
    assert DLT645_2007.energy("active_import", 3) == 0x00010300
    assert DLT645_2007.energy_block("active_import") == 0x0001FF00
    assert (DLT645_2007.date, DLT645_2007.time) == (0x04000101, 0x04000102)
    assert DLT645_1997.address == (0xC032, 0xC033)
    assert DLT645_1997.energy("active_import") == 0x9010
    assert DLT645_1997.energy("active_export") == 0x9020
    assert DLT645_1997.energy("active_import", 2) == 0x9012
    assert DLT645_1997.energy_block("active_import") == 0x901F
    assert (DLT645_1997.date, DLT645_1997.time) == (0xC010, 0xC011)


@pytest.mark.parametrize("edition", [2007, 1997])
def test_every_question_on_both_editions(edition: int) -> None:
    m = meter(version=edition, clock_source=lambda: T0)
    m.set_energy(Decimal("12.34"), quantity=REVERSE_ACTIVE)
    m.set_energy(Decimal("3.21"), tariff=2, quantity=FORWARD_ACTIVE)
    m.output_mode = msg.MultiFunctionOutput.TARIFF_SWITCH

    async def scenario() -> None:
        async with served([m], "tcp") as (_, url), bus_on(url) as bus:
            client = electricity_meter_client(f"dlt645-{edition}", bus, ADDRESS, password=PASSWORD)
            assert isinstance(client, ElectricityMeter) and isinstance(client, Dlt645Client)
            assert client.protocol == f"dlt645-{edition}"
            assert await within(client.read_address(), 3) == ADDRESS
            assert await client.read_energy() == Decimal("1250.31")
            assert await client.read_energy(EnergyRegister.ACTIVE_EXPORT) == Decimal("12.34")
            assert await client.read_energy(tariff=2) == Decimal("3.21")
            assert await client.read_clock() == T0
            await client.set_clock(dt.datetime(2025, 6, 1, 12, 0, 0))
            assert await client.read_clock() == dt.datetime(2025, 6, 1, 12, 0, 0)
            if edition == 2007:
                await client.set_pulse_output(PulseOutput.CLOCK_SECOND)
                assert m.output_mode == msg.MultiFunctionOutput.CLOCK_SECOND_PULSE
            else:
                with pytest.raises(MeterUnsupported, match="1997"):
                    await client.set_pulse_output(PulseOutput.CLOCK_SECOND)
            # discovery when the address is not known: 13H, or C032 to 99 x 6 for 1997
            found = electricity_meter_client(f"dlt645-{edition}", bus, None)
            assert found is not None and await found.read_address() == ADDRESS

    run(scenario())


def test_a_2007_identifier_sent_to_a_1997_meter_is_a_clear_error() -> None:
    """It used to fail deep in the encoder with 'int too big to convert'."""
    client = Dlt645Client(None, ADDRESS, version=1997)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1997 edition"):
        run(client.read(0x04000401))


def test_1997_address_from_the_user_number_when_the_meter_number_is_refused() -> None:
    m = meter(version=1997)
    original = m._raw_value_1997

    def no_meter_number(di: int) -> object:
        return None if di == 0xC032 else original(di)

    m._raw_value_1997 = no_meter_number  # type: ignore[method-assign]

    async def scenario() -> None:
        async with served([m], "tcp") as (_, url), bus_on(url) as bus:
            assert await within(Dlt645Client(bus, ADDRESS, version=1997).read_address(), 3) == (
                ADDRESS
            )

    run(scenario())


def test_mixed_bus_discovery_per_edition_ignores_the_other_editions_answer() -> None:
    """A 1997 meter refuses the 2007 13H (a function its edition lacks), and here it does so
    before the 2007 meter answers: the refusal is not the 2007 meter's address. A 1997
    discovery (C032 to 99 x 6) is ignored by the 2007 meter."""
    new = meter(address="100000000007", response_delay=0.3)
    old = meter(address="100000000097", version=1997, response_delay=0.02)

    async def scenario() -> None:
        bus = Bus(
            "memory://mixed", timing=BusTiming(), opener=MemoryPort.opener(SimLine([new, old]))
        )
        await bus.open()
        try:
            assert await Dlt645Client(bus, version=2007).read_address() == "100000000007"
            assert await Dlt645Client(bus, version=1997).read_address() == "100000000097"
            assert bus.stats.ignored_frames == 1  # the 1997 meter's refusal of 13H
        finally:
            await bus.close()

    run_virtual(scenario())


def test_filler_in_one_field_keeps_the_rest_and_names_the_field() -> None:
    """A demand whose time is FFH filler, a tariff register that is AAH filler: the other
    fields decode, and the problem says which field is missing."""
    m = meter()
    original = m._value

    def with_filler(di: int) -> bytes | None:
        raw = original(di)
        if raw is None:
            return None
        if di == 0x01010000:  # demand XX.XXXX then YYMMDDhhmm
            return raw[:3] + b"\xff" * 5
        if di == 0x0001FF00:  # total, tariff 1..4
            return raw[:4] + b"\xaa" * 4 + raw[8:]
        return raw

    m._value = with_filler  # type: ignore[method-assign]

    async def scenario() -> None:
        async with served([m], "tcp") as (_, url), bus_on(url) as bus:
            client = Dlt645Client(bus, ADDRESS)
            demand = await within(client.read(0x01010000), 3)
            assert demand.value["demand"] is not None and demand.value["time"] is None
            assert "in time" in demand.problem
            block = await client.read(0x0001FF00)
            assert block.value[0] == Decimal("1250.31") and block.value[1] is None
            assert "in [1]" in block.problem

    run(scenario())
