"""Heat-bench drivers against the simulated heat bench on its ptys: the baths approach their
setpoints and the reference thermometers read them, the calculator tester's resistances and
pulses reach the simulated calculators, and ``Cjt188Client.read_heat`` decodes every 901F field
of a heat meter (type 20H), with the register integrating V·ρ·Δh at the meter's inputs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.devices.errors import MeterTimeout
from meterbench.devices.modbus_client import ModbusExceptionReply, ModbusRtuClient
from meterbench.kinds.heat.devices import (
    BathController,
    CalculatorTesterClient,
    ReferenceThermometerClient,
)
from meterbench.kinds.heat.simulator import SimulatedHeatBench
from meterbench.regulations.platinum import resistance_ohm
from meterbench.regulations.water_properties import reference_heat_kj
from meterbench.transport.bus import Bus
from meterbench.transport.settings import SerialSettings

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-heat-8.toml"
T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 120))  # type: ignore[arg-type]


async def _with_bench(body: Any) -> Any:
    bench = SimulatedHeatBench.from_file(BENCH, time_scale=500)
    config = await bench.start()
    heat = config.section.heat
    line = Bus(heat.modbus.url, SerialSettings(9600, "E"), name="heat-modbus")
    meters = Bus(config.buses[0].url, SerialSettings(2400, "E"), name="H1")
    await line.open()
    await meters.open()
    try:
        return await body(bench, config, line, meters)
    finally:
        await meters.close()
        await line.close()
        await bench.stop()


def test_baths_settle_at_their_setpoints_and_the_references_read_them() -> None:
    async def body(bench: Any, config: Any, line: Bus, meters: Bus) -> None:
        heat = config.section.heat
        supply = BathController(ModbusRtuClient(line, heat.supply_bath.unit), heat.supply_bath)
        reference = ReferenceThermometerClient(
            ModbusRtuClient(line, heat.supply_thermometer.unit), heat.supply_thermometer
        )
        assert await reference.read_c() == Decimal("40.000")
        await supply.set_c(Decimal("55.5"))
        await bench.clock.sleep(60)
        halfway = await reference.read_c()
        assert Decimal(40) < halfway < Decimal("55.5")  # a thermostat needs time
        await bench.clock.sleep(2400)
        assert abs(await reference.read_c() - Decimal("55.5")) <= Decimal("0.002")
        assert abs(await supply.read_c() - Decimal("55.5")) <= Decimal("0.01")
        with pytest.raises(ModbusExceptionReply, match="illegal data value"):
            await supply.set_c(Decimal(120))  # beyond the bath's range

    run(_with_bench(body))


def test_read_heat_decodes_every_field_of_a_heat_meter() -> None:
    async def body(bench: Any, config: Any, line: Bus, meters: Bus) -> None:
        client = Cjt188Client(meters, "20260100000001", meter_type=0x20)
        data = await client.read_heat()
        assert data.heat == Decimal("12345.67") and data.heat_unit == 0x02  # Wh
        assert data.heat_kwh == Decimal("12.34567")
        assert data.volume == Decimal("2345.60") and data.volume_unit == 0x29  # L
        assert data.supply_c == Decimal("40.00") and data.return_c == Decimal("40.00")
        assert data.power == 0 and data.flow == 0 and data.working_hours == 0
        assert data.time is not None and data.status == b"\x00\x00"
        assert data.warnings == ()
        garbled = await Cjt188Client(meters, "20260100000008", meter_type=0x20).read_heat()
        assert garbled.time is None and any("real time" in w for w in garbled.warnings)
        assert garbled.heat == Decimal("12345.67")  # the register is still there
        water_type = Cjt188Client(meters, "20260100000001", meter_type=0x10, retries=0)
        with pytest.raises(MeterTimeout):  # a heat meter ignores requests for water meters
            await water_type.read_heat()

    run(_with_bench(body))


def test_the_calculator_counts_tester_pulses_at_the_resistances_temperatures() -> None:
    async def body(bench: Any, config: Any, line: Bus, meters: Bus) -> None:
        heat = config.section.heat
        tester = CalculatorTesterClient(
            ModbusRtuClient(line, heat.calculator.unit), heat.calculator
        )
        client = Cjt188Client(meters, "20260100000006", meter_type=0x20)  # Ec +0.9 %
        await tester.connect(True)
        supply_ohm = Decimal(str(round(resistance_ohm(70.0, 1000.0), 3)))
        return_ohm = Decimal(str(round(resistance_ohm(30.0, 1000.0), 3)))
        await tester.set_resistances(supply_ohm, return_ohm)
        before = await client.read_heat()
        assert abs(before.delta_theta_k - Decimal(40)) <= Decimal("0.01")  # type: ignore[operator]
        await tester.send_pulses(100, 5)
        assert await tester.pulses_left() > 0
        await bench.clock.sleep(25)
        assert await tester.pulses_left() == 0
        after = await client.read_heat()
        await tester.connect(False)
        expected_kwh = reference_heat_kj(0.1, 70.0, 30.0, 0.6, "return") / 3600 * 1.009
        assert float(after.heat_kwh - before.heat_kwh) == pytest.approx(expected_kwh, abs=2e-5)
        assert after.volume is not None and before.volume is not None
        assert after.volume - before.volume == Decimal(100)  # 100 pulses of 1 L

    run(_with_bench(body))


def test_a_heat_bench_needs_its_own_line_and_distinct_units(tmp_path: Path) -> None:
    text = BENCH.read_text(encoding="utf-8")
    same_line = tmp_path / "same-line.toml"
    same_line.write_text(
        text.replace('url = "sim://heat-modbus"', 'url = "sim://modbus"'), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="heat.modbus.url"):
        load_bench(same_line)
    clash = tmp_path / "clash.toml"
    clash.write_text(text.replace("unit = 31", "unit = 21"), encoding="utf-8")
    with pytest.raises(ConfigError, match="heat.calculator.unit: unit 21"):
        load_bench(clash)
