"""The water meter kind (JJG 162-2019): a bench with a master meter or a balance as reference,
a pump on a Modbus drive, valves on controller outputs, meters in series with pulse outputs
and CJ/T 188 registers, and the flow-point error item. See ``meterbench.kinds``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meterbench.config.meter_types import WaterMeterType
from meterbench.kinds.water.config import WaterSection, check_water

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig
    from meterbench.kinds import Executor, KindDevices, Simulator
    from meterbench.plan.bench import BenchContext
    from meterbench.runner.meters import MeterEntry
    from meterbench.runner.session import OpenOptions
    from meterbench.selftest import Check, Devices, MeterInfo, Options
    from meterbench.transport.bus import Bus


class WaterKind:
    name = "water"
    # Its simulated bench can run in-process on virtual time (``bench_open``), which takes
    # the ``virtual`` and ``start_datetime`` options of ``simulator``.
    virtual_time = True
    article = "a"
    section_model = WaterSection
    meter_type_model = WaterMeterType
    stop_hint = "the water bench"

    def check_bench(self, bench: BenchConfig, section: WaterSection) -> None:
        check_water(bench, section)

    def endpoints(self, section: WaterSection) -> dict[str, str]:
        return section.water.endpoints()

    def reference_text(self, bench: Mapping[str, Any]) -> tuple[str, str]:
        """The master meter's pulses per litre, or the balance's digit; no time base."""
        water = bench.get("water") or {}
        scale = water.get("scale") or {}
        if water.get("method") == "gravimetric" and scale.get("resolution_kg"):
            return f"d = {scale['resolution_kg']} kg", ""
        pulses = (water.get("reference") or {}).get("pulses_per_l")
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
        from meterbench.kinds.water.water_error import water_error

        return {"water_error": water_error}

    async def open_devices(
        self, config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
    ) -> tuple[KindDevices, dict[str, Any]]:
        from meterbench.kinds.water.session import open_water_devices

        return await open_water_devices(config, controllers, options)

    def meter_client(self, entry: MeterEntry, bus: Bus, options: OpenOptions) -> Any | None:
        from meterbench.kinds.water.session import water_meter_client

        return water_meter_client(entry, bus)

    def simulator(
        self, config: BenchConfig, path: Path | str, time_scale: float | None, **options: Any
    ) -> Simulator:
        from meterbench.kinds.water.simulator import SimulatedWaterBench

        return SimulatedWaterBench(config, path, time_scale=time_scale, **options)

    async def selftest(
        self, devices: Devices, meters: dict[int, MeterInfo], options: Options
    ) -> list[Check]:
        from meterbench.kinds.water.selftest import water_checks

        return await water_checks(devices, meters, options)


WATER = WaterKind()

__all__ = ["WATER", "WaterKind"]
