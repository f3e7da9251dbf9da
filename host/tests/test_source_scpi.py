"""The SCPI source driver against the simulated source over a real TCP socket: setpoints
arrive in the physics world, measured values and the reference constant come back, refusals
and instability are clear errors."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

import pytest

from meterbench.clock import ManualClock
from meterbench.devices.source import ScpiSource, SourceError, deviation
from meterbench.electrical import Setpoint
from meterbench.sim.physics import ElectricityWorld, ReferenceStandard
from meterbench.sim.source import LineStream, SimulatedSource, SourceFaults


async def _serve(stream: LineStream) -> tuple[asyncio.base_events.Server, int]:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            reply = stream.feed(data)
            if reply:
                writer.write(reply)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _bench(faults: SourceFaults | None = None) -> tuple[SimulatedSource, ManualClock]:
    clock = ManualClock()
    world = ElectricityWorld(ReferenceStandard(2e6), {})
    source = SimulatedSource(world, clock, reference_constant=2e6, settle_s=2.0, faults=faults)
    return source, clock


def test_setpoints_arrive_and_measurements_come_back() -> None:
    async def scenario() -> None:
        source, clock = _bench()
        server, port = await _serve(LineStream(source))
        driver = await ScpiSource.open(f"socket://127.0.0.1:{port}", timeout_s=2.0, poll_s=0.01)
        try:
            assert "SIM-SOURCE" in await driver.identify()
            target = Setpoint.balanced("3p4w", 220.0, 5.0, "0.5L")
            await driver.apply(target)
            world = source.world
            assert world.setpoint.wiring == "3p4w"
            assert [p.current_a for p in world.setpoint.phases] == [5.0, 5.0, 5.0]
            assert math.isclose(world.setpoint.active_power_w, 3 * 220 * 5 * 0.5, rel_tol=1e-9)
            assert (await driver.query("STAT:STAB?")) == "0"  # still settling
            clock.advance(2.5)
            measured = await driver.wait_stable(1.0)
            assert deviation(target, measured) < 0.001
            assert math.isclose(measured.active_power_w, 1650.0, rel_tol=0.001)
            assert await driver.reference_constant() == 2e6
            await driver.output_off()
            assert world.setpoint.active_power_w == 0.0
        finally:
            await driver.close()
            server.close()

    asyncio.run(scenario())


def test_refused_command_and_unstable_source_are_errors() -> None:
    async def scenario() -> None:
        source, clock = _bench(
            SourceFaults(unstable_pct=2.0, unstable_from_s=0.0, unstable_until_s=100.0)
        )
        server, port = await _serve(LineStream(source))
        driver = await ScpiSource.open(f"socket://127.0.0.1:{port}", timeout_s=2.0, poll_s=0.01)
        try:
            with pytest.raises(SourceError, match="refused"):
                await driver.command("SOUR:FREQ 400")
            await driver.apply(Setpoint.balanced("1p", 220.0, 5.0))
            clock.advance(10)
            with pytest.raises(SourceError, match="not stable"):
                await driver.wait_stable(0.05)
            clock.advance(100)  # the fault is over; the output settles again from here
            assert (await driver.query("STAT:STAB?")) == "0"
            clock.advance(3)
            assert (await driver.wait_stable(1.0)).currents_a[0] == pytest.approx(5.0, rel=1e-3)
        finally:
            await driver.close()
            server.close()

    asyncio.run(scenario())


def test_silent_source_times_out_with_a_clear_error() -> None:
    async def scenario() -> None:
        async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(4096)
            await asyncio.sleep(5)

        server = await asyncio.start_server(mute, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        driver = await ScpiSource.open(f"socket://127.0.0.1:{port}", timeout_s=0.3)
        try:
            with pytest.raises(SourceError, match="did not answer"):
                await driver.identify()
        finally:
            await driver.close()
            server.close()

    asyncio.run(scenario())


def test_run_accumulator_keeps_directions_apart_across_energy_runs() -> None:
    """The whole-run accumulator counts forward and reverse energy separately, from its start,
    whatever register runs (REF:ENER:STAR/STOP) happen in between; unstarted, it is refused."""

    async def scenario() -> None:
        source, clock = _bench()
        server, port = await _serve(LineStream(source))
        driver = await ScpiSource.open(f"socket://127.0.0.1:{port}", timeout_s=2.0, poll_s=0.01)
        try:
            with pytest.raises(SourceError, match="REF:ACC"):
                await driver.accumulated()
            source.handle("REF:ACC? POS")  # the instrument itself refuses it too
            assert "not started" in (await driver.query("SYST:ERR?"))
            await driver.apply(Setpoint.balanced("1p", 220.0, 10.0, 1.0))
            clock.advance(100.0)  # energy before the start is not counted
            await driver.start_accumulation()
            assert driver.accumulation_id
            clock.advance(3600.0)  # 2.2 kWh forward
            await driver.start_energy()
            await driver.apply(Setpoint.balanced("1p", 220.0, 5.0, "0.5L", direction="P-"))
            clock.advance(1800.0)  # 0.275 kWh reverse
            assert await driver.stop_energy() == pytest.approx(Decimal("0.275"), abs=1e-6)
            await driver.output_off()
            clock.advance(600.0)
            got = await driver.accumulated()
            assert float(got.forward_kwh) == pytest.approx(2.2, abs=1e-6)
            assert float(got.reverse_kwh) == pytest.approx(0.275, abs=1e-6)
            assert got.of("P-") == got.reverse_kwh and got.of("P+") == got.forward_kwh
        finally:
            await driver.close()
            server.close()

    asyncio.run(scenario())
