"""The gas meter kind (JJG 577, diaphragm meters): a bench with a bell prover (or a master
meter) as reference on a Modbus line, line sensors for the air's temperature and pressure at
the meters and per-position pressures, meters in series read over CJ/T 188 (type 30H), and
the error, tightness and pressure-loss items. See ``meterbench.kinds``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meterbench.config.gas_meter_type import GasMeterType
from meterbench.kinds.gas.config import GasSection, check_gas

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig
    from meterbench.kinds import Executor, KindDevices, Simulator
    from meterbench.plan.bench import BenchContext
    from meterbench.runner.meters import MeterEntry
    from meterbench.runner.session import OpenOptions
    from meterbench.selftest import Check, Devices, MeterInfo, Options
    from meterbench.transport.bus import Bus


class GasKind:
    name = "gas"
    # Its simulated bench can run in-process on virtual time (``bench_open``), which takes
    # the ``virtual`` and ``start_datetime`` options of ``simulator``.
    virtual_time = True
    article = "a"
    section_model = GasSection
    meter_type_model = GasMeterType
    stop_hint = "the gas bench"

    def check_bench(self, bench: BenchConfig, section: GasSection) -> None:
        check_gas(bench, section)

    def endpoints(self, section: GasSection) -> dict[str, str]:
        return section.gas.endpoints()

    def reference_text(self, bench: Mapping[str, Any]) -> tuple[str, str]:
        """The reference's litres per count (bell encoder or master meter pulse)."""
        gas = bench.get("gas") or {}
        per_count = (gas.get("reference") or {}).get("litres_per_count")
        return (f"{float(per_count):g} L/count" if per_count else ""), ""

    def plan_context(self, bench: BenchConfig) -> BenchContext:
        from meterbench.plan.bench import BenchContext

        gas = bench.section.gas
        return BenchContext(
            min_flow_l_h=Decimal(str(gas.min_flow_l_h)),
            max_flow_l_h=Decimal(str(gas.max_flow_l_h)),
            reference_resolution_l=Decimal(str(gas.reference_resolution_l())),
        )

    @property
    def executors(self) -> Mapping[str, Executor]:
        from meterbench.kinds.gas.checks import gas_pressure_loss, gas_tightness
        from meterbench.kinds.gas.gas_error import gas_error

        return {
            "gas_error": gas_error,
            "gas_tightness": gas_tightness,
            "gas_pressure_loss": gas_pressure_loss,
        }

    async def open_devices(
        self, config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
    ) -> tuple[KindDevices, dict[str, Any]]:
        from meterbench.kinds.gas.session import open_gas_devices

        return await open_gas_devices(config, controllers, options)

    def meter_client(self, entry: MeterEntry, bus: Bus, options: OpenOptions) -> Any | None:
        from meterbench.kinds.gas.session import gas_meter_client

        return gas_meter_client(entry, bus)

    def simulator(
        self, config: BenchConfig, path: Path | str, time_scale: float | None, **options: Any
    ) -> Simulator:
        from meterbench.kinds.gas.simulator import SimulatedGasBench

        return SimulatedGasBench(config, path, time_scale=time_scale, **options)

    async def selftest(
        self, devices: Devices, meters: dict[int, MeterInfo], options: Options
    ) -> list[Check]:
        from meterbench.kinds.gas.selftest import gas_checks

        return await gas_checks(devices, meters, options)


GAS = GasKind()

__all__ = ["GAS", "GasKind"]
