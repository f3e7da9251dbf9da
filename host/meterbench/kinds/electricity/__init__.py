"""The electricity meter kind (JJG 596-2012, IEC 62053): a bench with a source and reference
standard, meters on DL/T 645 buses, and the items creep, starting, basic error, standard
deviation, register, clock, communication and time setting. See ``meterbench.kinds``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from meterbench.config.meter_types import ElectricityMeterType
from meterbench.kinds.electricity.config import (
    ElectricitySection,
    check_electricity,
)

if TYPE_CHECKING:
    from meterbench.clock import Clock
    from meterbench.config.bench import BenchConfig
    from meterbench.kinds import Executor, KindDevices, Simulator
    from meterbench.plan.bench import BenchContext
    from meterbench.runner.meters import MeterEntry
    from meterbench.runner.session import OpenOptions
    from meterbench.selftest import Check, Devices, MeterInfo, Options
    from meterbench.transport.bus import Bus


class ElectricityKind:
    name = "electricity"
    # Its simulated bench can run in-process on virtual time (``bench_open``), which takes
    # the ``virtual`` and ``start_datetime`` options of ``simulator``.
    virtual_time = True
    article = "an"
    section_model = ElectricitySection
    meter_type_model = ElectricityMeterType
    stop_hint = "the source"

    def check_bench(self, bench: BenchConfig, section: ElectricitySection) -> None:
        check_electricity(bench, section)

    def endpoints(self, section: ElectricitySection) -> dict[str, str]:
        return {"source.url": section.source.url}

    def reference_text(self, bench: Mapping[str, Any]) -> tuple[str, str]:
        """The standard's constant and the time base the clock test counts."""
        std, timebase = bench.get("standard") or {}, bench.get("timebase") or {}
        constant = _text(std.get("constant_imp_per_kwh"), std.get("constant"))
        if constant and "constant_imp_per_kwh" in std:
            constant += " imp/kWh"
        tb = _text(timebase.get("name"))
        if tb and timebase.get("frequency_hz"):
            tb += f" ({timebase['frequency_hz']} Hz)"
        if tb and timebase.get("certificate"):
            tb += f", {timebase['certificate']}"
        return constant, tb

    def plan_context(self, bench: BenchConfig) -> BenchContext:
        from meterbench.plan.bench import BenchContext

        return BenchContext(
            reference_constant=Decimal(str(bench.standard.constant_imp_per_kwh)),
            k_i=Decimal(str(bench.standard.ct_ratio)),
            k_u=Decimal(str(bench.standard.vt_ratio)),
            max_current_a=Decimal(str(bench.bench.max_current_a)),
            max_voltage_v=Decimal(str(bench.bench.max_voltage_v)),
        )

    @property
    def executors(self) -> Mapping[str, Executor]:
        from meterbench.kinds.electricity.items import EXECUTORS

        return EXECUTORS

    async def open_devices(
        self, config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
    ) -> tuple[KindDevices, dict[str, Any]]:
        from meterbench.kinds.electricity.devices import open_electricity_devices

        return await open_electricity_devices(config, controllers, options)

    def meter_client(self, entry: MeterEntry, bus: Bus, options: OpenOptions) -> Any | None:
        """The DL/T 645 (or other protocol's) client; its clock is the bench's, so the time
        it sets a meter to is the standard time of the run."""
        from meterbench.devices.meter_clients import electricity_meter_client

        protocol = getattr(entry.meter_type, "protocol", "none")
        client = electricity_meter_client(
            protocol,
            bus,
            entry.address,
            password=options.password,
            operator=options.operator,
            baud_rates=getattr(entry.meter_type, "baud_rates", None),
        )
        if client is not None:
            cast(Any, client).clock = _meter_time(options.clock)
        return client

    def simulator(
        self, config: BenchConfig, path: Path | str, time_scale: float | None, **options: Any
    ) -> Simulator:
        from meterbench.kinds.electricity.simulator import SimulatedBench

        return SimulatedBench(config, path, time_scale=time_scale, **options)

    async def selftest(
        self, devices: Devices, meters: dict[int, MeterInfo], options: Options
    ) -> list[Check]:
        from meterbench.kinds.electricity.selftest import electricity_checks

        return await electricity_checks(devices, meters, options)


def _text(*candidates: Any) -> str:
    for value in candidates:
        if value is not None and value != "" and not isinstance(value, Mapping | list):
            return str(value)
    return ""


def _meter_time(clock: Clock) -> Any:
    return lambda: clock.datetime().astimezone().replace(tzinfo=None)


ELECTRICITY = ElectricityKind()

__all__ = ["ELECTRICITY", "ElectricityKind"]
