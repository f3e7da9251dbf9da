"""Reverse energy (P-) below the items: the setpoint carries the direction, the SCPI driver
turns the current by half a turn, the simulated physics moves only the reverse register and
still emits pulses, and a simulated DL/T 645 meter answers 00020000 from that register."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from meterbench.clock import ManualClock
from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.source import ScpiSource, deviation, setpoint_from_measured
from meterbench.electrical import Setpoint, split_output_angle
from meterbench.kinds.electricity.simulator import SimulatedBench
from meterbench.sim.physics import ElectricityWorld, MeterBehaviour, MeterPhysics, ReferenceStandard
from meterbench.sim.source import LineStream, SimulatedSource
from meterbench.transport.bus import Bus
from meterbench.transport.settings import SerialSettings

BENCH = Path(__file__).resolve().parents[2] / "bench_configs" / "sim-1p-24.toml"


def test_reverse_setpoint_is_the_pf_angle_turned_by_half_a_turn() -> None:
    forward = Setpoint.balanced("1p", 220.0, 5.0, "0.5L")
    reverse = Setpoint.balanced("1p", 220.0, 5.0, "0.5L", direction="P-")
    assert reverse.phases == forward.phases  # the PF angle is the same, only the flow turns
    assert reverse.output_angle(reverse.phases[0]) == pytest.approx(-120.0)
    assert reverse.active_power_w == pytest.approx(-550.0)
    assert reverse.power_factor == pytest.approx(0.5)
    unity = Setpoint.balanced("1p", 220, 5, 1.0, direction="P-")
    assert unity.output_angle(unity.phases[0]) == pytest.approx(180.0)
    assert split_output_angle(180.0) == ("P-", 0.0)
    assert split_output_angle(-120.0)[0] == "P-"
    assert split_output_angle(-120.0)[1] == pytest.approx(60.0)
    assert split_output_angle(-36.87)[0] == "P+"
    three_wire = Setpoint.balanced("3p3w", 100.0, 1.0, 1.0, direction="P-")
    assert three_wire.active_power_w == pytest.approx(-math.sqrt(3) * 100.0)
    with pytest.raises(ValueError, match="P\\+ or P-"):
        Setpoint(forward.phases, direction="Q+")  # type: ignore[arg-type]


def test_scpi_driver_sends_reverse_as_a_phase_angle() -> None:
    async def scenario() -> None:
        clock = ManualClock()
        world = ElectricityWorld(ReferenceStandard(2e6), {})
        source = SimulatedSource(world, clock, reference_constant=2e6, settle_s=0.0)
        stream = LineStream(source)

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(4096):
                if reply := stream.feed(data):
                    writer.write(reply)
                    await writer.drain()
            writer.close()

        server = await asyncio.start_server(client, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        driver = await ScpiSource.open(f"socket://127.0.0.1:{port}", poll_s=0.01)
        try:
            target = Setpoint.balanced("3p4w", 57.7, 1.5, "0.5L", direction="P-")
            await driver.apply(target)
            assert world.setpoint.direction == "P-"
            assert world.setpoint.phases[0].angle_deg == pytest.approx(60.0)
            assert world.setpoint.active_power_w == pytest.approx(-3 * 57.7 * 1.5 * 0.5)
            measured = await driver.wait_stable(1.0)
            assert measured.angles_deg[0] == pytest.approx(-120.0)
            assert deviation(target, measured) < 0.001
            assert deviation(Setpoint.balanced("3p4w", 57.7, 1.5, "0.5L"), measured) > 1.0
            assert setpoint_from_measured(measured, "3p4w").direction == "P-"
        finally:
            await driver.close()
            server.close()

    asyncio.run(scenario())


def _meter(**behaviour: object) -> tuple[ElectricityWorld, MeterPhysics]:
    meter = MeterPhysics(MeterBehaviour(1200, 5.0, **behaviour))  # type: ignore[arg-type]
    return ElectricityWorld(ReferenceStandard(2e6), {1: meter}), meter


def test_reverse_energy_moves_only_the_reverse_register_and_still_pulses() -> None:
    world, meter = _meter()
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 10.0, 1.0))
    world.apply(3600.0, Setpoint.balanced("1p", 220.0, 10.0, 1.0, direction="P-"))
    assert meter.register_kwh(3600.0) == pytest.approx(2.2)
    assert meter.reverse_register_kwh(3600.0) == 0.0
    assert meter.register_kwh(5400.0) == pytest.approx(2.2)  # forward stands still
    assert meter.reverse_register_kwh(5400.0) == pytest.approx(1.1)
    pulses = len(meter.pulse_times(3600.0, 5400.0))
    assert abs(pulses - 1.1 * 1200) <= 1  # pulses come from the reverse energy
    reference = world.reference.energy_kwh(5400.0) - world.reference.energy_kwh(3600.0)
    assert reference == pytest.approx(1.1)


def test_reverse_only_error_shows_only_in_reverse() -> None:
    world, meter = _meter(reverse_error_pct=-2.0)
    world.apply(0.0, Setpoint.balanced("1p", 220.0, 10.0, 1.0))
    world.apply(3600.0, Setpoint.balanced("1p", 220.0, 10.0, 1.0, direction="P-"))
    assert meter.register_kwh(3600.0) == pytest.approx(2.2)
    assert meter.reverse_register_kwh(7200.0) == pytest.approx(2.2 * 0.98)
    forward_pulses = len(meter.pulse_times(0.0, 3600.0))
    reverse_pulses = len(meter.pulse_times(3600.0, 7200.0))
    assert abs(forward_pulses - 2640) <= 1
    assert abs(reverse_pulses - 2640 * 0.98) <= 1


def test_simulated_meter_answers_reverse_energy_from_its_reverse_register(
    tmp_path: Path,
) -> None:
    """Through the real SCPI driver and DL/T 645 client: P- moves 00020000, not 00010000,
    and a meter configured to under-register in reverse shows it only there."""
    text = BENCH.read_text() + '\n[[sim.meters]]\npositions = "19"\nreverse_error_pct = -3.0\n'
    bench_file = tmp_path / "bench.toml"
    bench_file.write_text(text)
    (tmp_path / "meter_types").symlink_to(BENCH.parent / "meter_types")

    async def scenario() -> dict[str, list[float]]:
        bench = SimulatedBench.from_file(bench_file, time_scale=400)
        config = await bench.start()
        source = await ScpiSource.open(config.section.source.url, poll_s=0.01)
        bus = Bus(config.buses[1].url, SerialSettings(2400, "E"))
        await bus.open()
        try:
            meters = [Dlt645Client(bus, bench.section.address_for(n)) for n in (17, 19)]

            async def registers() -> list[float]:
                return [
                    float((await c.read(di)).value)
                    for c in meters
                    for di in (0x00010000, 0x00020000)
                ]

            before = await registers()
            await source.apply(Setpoint.balanced("1p", 220.0, 60.0, 1.0, direction="P-"))
            # until the reference has seen 1.5 kWh of reverse energy (simulated time slows
            # down on a loaded machine, so wait for the energy, not for a wall time)
            while bench.world.reference.energy_kwh(bench.clock.now()) < 1.5:
                await asyncio.sleep(0.05)
            await source.apply(Setpoint.balanced("1p", 220.0, 0.0, 1.0))
            after = await registers()
            delivered = bench.world.reference.energy_kwh(bench.clock.now())
            return {
                "delta": [a - b for a, b in zip(after, before, strict=True)],
                "ref": [delivered],
            }
        finally:
            await bus.close()
            await source.close()
            await bench.stop()

    result = asyncio.run(asyncio.wait_for(scenario(), 120))
    fwd17, rev17, fwd19, rev19 = result["delta"]
    (delivered,) = result["ref"]
    assert delivered >= 1.5  # enough that 3 % is 4 register digits
    assert fwd17 == 0.0 and fwd19 == 0.0  # the forward registers do not move
    assert rev17 == pytest.approx(delivered, rel=0.01, abs=0.011)
    assert rev19 == pytest.approx(delivered * 0.97, rel=0.005, abs=0.011)
