"""The simulated bench through the real drivers: every position's error as measured by the
real firmware logic over the real link equals its configured error within one reference count;
creep, starting, clock and register behaviour match the configuration."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.devices.controller import ControllerClient
from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.source import ScpiSource
from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.simulator import SimulatedBench
from meterbench.transport.bus import Bus
from meterbench.transport.settings import SerialSettings
from meterproto.link import messages as m

BENCH = Path(__file__).resolve().parents[2] / "bench_configs" / "sim-1p-24.toml"


def run(coro: object) -> object:
    return asyncio.run(asyncio.wait_for(coro, 120))  # type: ignore[arg-type]


async def _errors_at(bench: SimulatedBench, current: float, pulses: int) -> dict[int, float]:
    config = await bench.start()
    source = await ScpiSource.open(config.section.source.url, poll_s=0.01)
    clients = {c.id: await ControllerClient.open(c.url) for c in config.controllers}
    try:
        await source.apply(Setpoint.balanced("1p", 220.0, current, 1.0))
        await source.wait_stable(10)
        for client in clients.values():
            await client.hello()
        positions = config.positions
        for p in positions:
            await clients[p.controller].request(
                m.ERR_START, position=p.channel, pulses=pulses, readings=1, skip=0
            )
        results: dict[int, float] = {}
        while len(results) < len(positions):
            for cid, client in clients.items():
                try:
                    msg = await client.next_result(timeout=0.05)
                except TimeoutError:
                    continue
                if msg.msg_type != m.ERR_READING:
                    continue
                number = next(
                    p.number
                    for p in positions
                    if p.controller == cid and p.channel == msg["position"]
                )
                constant = config.standard.constant_imp_per_kwh
                assert constant is not None
                m0 = Fraction(int(constant) * pulses, 1200)
                results[number] = float((m0 - msg["ref_count"]) / msg["ref_count"] * 100)
        return results
    finally:
        for client in clients.values():
            await client.close()
        await source.close()
        await bench.stop()


def test_every_position_measures_its_configured_error() -> None:
    bench = SimulatedBench.from_file(BENCH, time_scale=400)
    section = bench.section
    errors = run(_errors_at(bench, 5.0, 30))
    assert isinstance(errors, dict) and len(errors) == 24
    for number, measured in errors.items():
        physics = bench.world.meters[number].behaviour
        expected = physics.error.systematic_pct(5.0, 5.0, 0.0) + section.reference.error_pct * 0
        # the reference standard's own error shifts every reading by -its error
        expected = (1 + expected / 100) / (1 + section.reference.error_pct / 100) * 100 - 100
        resolution = 100 * 1200 / (2e6 * 30)  # one reference count, in %
        noise = 3 * (physics.error.noise_pct or 0)
        assert abs(measured - expected) <= resolution + noise, (number, measured, expected)


def test_registers_follow_energy_and_the_configured_bias() -> None:
    async def scenario() -> tuple[float, float, float, float]:
        """Registers read with the load off before and after a run at Imax."""
        bench = SimulatedBench.from_file(BENCH, time_scale=400)
        config = await bench.start()
        source = await ScpiSource.open(config.section.source.url, poll_s=0.01)
        bus = Bus(config.buses[1].url, SerialSettings(2400, "E"))
        await bus.open()
        try:
            normal = Dlt645Client(bus, bench.section.address_for(17))
            tampered = Dlt645Client(bus, bench.section.address_for(18))
            before = [(await c.read(0x00010000)).value for c in (normal, tampered)]
            await source.apply(Setpoint.balanced("1p", 220.0, 60.0, 1.0))
            await bench.clock.sleep(400.0)  # simulated seconds: the same energy however loaded
            await source.apply(Setpoint.balanced("1p", 220.0, 0.0, 1.0))
            after = [(await c.read(0x00010000)).value for c in (normal, tampered)]
            now = bench.clock.now()
            return (
                float(after[0] - before[0]),
                float(after[1] - before[1]),
                bench.world.meters[17].measured_energy_kwh(now),
                bench.world.meters[18].measured_energy_kwh(now),
            )
        finally:
            await bus.close()
            await source.close()
            await bench.stop()

    normal, tampered, measured17, measured18 = run(scenario())  # type: ignore[misc]
    assert measured17 > 1.0  # the run put real energy through the meters
    assert normal == pytest.approx(measured17, abs=0.011)  # registers show 0.01 kWh digits
    assert tampered == pytest.approx(measured18 * 1.02, abs=0.011)
    assert tampered > measured18 * 1.01


def test_bad_sim_sections_name_the_field(tmp_path: Path) -> None:
    text = BENCH.read_text().replace('positions = "7"', 'positions = "70"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    (tmp_path / "meter_types").symlink_to(BENCH.parent / "meter_types")
    with pytest.raises(ConfigError, match=r"sim\.meters\[\d+\]\.positions"):
        SimulatedBench(load_bench(bad), bad)
    no_sim = tmp_path / "real.toml"
    no_sim.write_text(BENCH.read_text().split("\n[sim]\n")[0])
    with pytest.raises(ConfigError, match="source.url.*no \\[sim\\] section"):
        load_bench(no_sim)


def test_reply_timing_is_configurable_per_position(tmp_path: Path) -> None:
    """Slow meters for bus tests: a delay range (drawn with the bench seed) and slow refusals."""
    text = BENCH.read_text().replace(
        "[sim.meter_defaults]",
        "[sim.meter_defaults]\nresponse_delay_s = 0.5\nresponse_delay_max_s = 2.0\n"
        "error_delay_s = 1.9",
    )
    path = tmp_path / "slow.toml"
    path.write_text(text)
    (tmp_path / "meter_types").symlink_to(BENCH.parent / "meter_types")
    meter = SimulatedBench(load_bench(path), path).meters[1]
    assert (meter.response_delay, meter.response_delay_max, meter.error_delay) == (0.5, 2.0, 1.9)
