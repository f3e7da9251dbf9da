"""The heat meter kind (JJG 225 / EN 1434 / OIML R 75): a water bench for the flow, a supply
and a return bath with reference thermometers, a calculator tester for the sub-assembly
method, and CJ/T 188 heat meters (20H/21H). Items: the flow sensor, the calculator, the sensor
pair, the complete meter and communication. See ``meterbench.kinds``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.kinds.heat.config import HeatSection, check_heat

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig
    from meterbench.kinds import Executor, KindDevices, Simulator
    from meterbench.plan.bench import BenchContext
    from meterbench.runner.meters import MeterEntry
    from meterbench.runner.session import OpenOptions
    from meterbench.selftest import Check, Devices, MeterInfo, Options
    from meterbench.transport.bus import Bus


class HeatKind:
    name = "heat"
    # Its simulated bench can run in-process on virtual time (``bench_open``), which takes
    # the ``virtual`` and ``start_datetime`` options of ``simulator``.
    virtual_time = True
    article = "a"
    section_model = HeatSection
    meter_type_model = HeatMeterType
    stop_hint = "the heat bench (water bench, baths, calculator tester)"

    def check_bench(self, bench: BenchConfig, section: HeatSection) -> None:
        check_heat(bench, section)

    def endpoints(self, section: HeatSection) -> dict[str, str]:
        return {**section.water.endpoints(), "heat.modbus.url": section.heat.modbus.url}

    def reference_text(self, bench: Mapping[str, Any]) -> tuple[str, str]:
        """The master meter's pulses per litre; no time base."""
        pulses = ((bench.get("water") or {}).get("reference") or {}).get("pulses_per_l")
        return (f"{float(pulses):g} imp/L" if pulses else ""), ""

    def plan_context(self, bench: BenchConfig) -> BenchContext:
        from meterbench.plan.bench import BenchContext

        water = bench.section.water
        return BenchContext(
            min_flow_l_h=Decimal(str(water.min_flow_l_h)),
            max_flow_l_h=Decimal(str(water.max_flow_l_h)),
            reference_resolution_l=Decimal(str(water.reference_resolution_l())),
        )

    @property
    def executors(self) -> Mapping[str, Executor]:
        from meterbench.kinds.heat.calculator import heat_calculator
        from meterbench.kinds.heat.communication import communication
        from meterbench.kinds.heat.complete import heat_complete
        from meterbench.kinds.heat.flow_sensor import heat_flow
        from meterbench.kinds.heat.sensor_pair import heat_sensor_pair

        return {
            "heat_flow": heat_flow,
            "heat_calculator": heat_calculator,
            "heat_sensor_pair": heat_sensor_pair,
            "heat_complete": heat_complete,
            "communication": communication,
        }

    async def open_devices(
        self, config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
    ) -> tuple[KindDevices, dict[str, Any]]:
        from meterbench.kinds.heat.session import open_heat_devices

        return await open_heat_devices(config, controllers, options)

    def meter_client(self, entry: MeterEntry, bus: Bus, options: OpenOptions) -> Any | None:
        from meterbench.kinds.heat.session import heat_meter_client

        return heat_meter_client(entry, bus)

    def simulator(
        self, config: BenchConfig, path: Path | str, time_scale: float | None, **options: Any
    ) -> Simulator:
        from meterbench.kinds.heat.simulator import SimulatedHeatBench

        return SimulatedHeatBench(config, path, time_scale=time_scale, **options)

    async def selftest(
        self, devices: Devices, meters: dict[int, MeterInfo], options: Options
    ) -> list[Check]:
        from meterbench.kinds.heat.selftest import heat_checks

        return await heat_checks(devices, meters, options)


HEAT = HeatKind()

__all__ = ["HEAT", "HeatKind"]
