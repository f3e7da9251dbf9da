"""The devices only a heat bench has, opened for a run and closed again: its water bench (as
``kinds.water.session`` opens it) and, on a Modbus line of their own, the supply and return
baths, their reference thermometers and the calculator tester. Heat meters answer CJ/T 188 as
type 20H (heating) or 21H (cooling) on the meter buses."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.devices.controller import ControllerClient
from meterbench.devices.modbus_client import ModbusError, ModbusRtuClient
from meterbench.kinds.heat.config import HeatBench, heat_of
from meterbench.kinds.heat.devices import (
    BathController,
    CalculatorTesterClient,
    ReferenceThermometerClient,
)
from meterbench.kinds.water.session import WaterDevices, open_water_devices
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.transport.bus import Bus
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings


@dataclass
class HeatDevices:
    config: HeatBench
    water: WaterDevices
    modbus: Bus
    supply_bath: BathController
    return_bath: BathController
    supply_thermometer: ReferenceThermometerClient
    return_thermometer: ReferenceThermometerClient
    calculator: CalculatorTesterClient | None = None
    bath_setpoints: tuple[Decimal, Decimal] | None = None  # what the baths were last set to

    async def reference_c(self) -> tuple[Decimal, Decimal]:
        """(supply, return) temperatures from the reference thermometers."""
        return await self.supply_thermometer.read_c(), await self.return_thermometer.read_c()

    async def safe_off(self) -> None:
        """Water stopped and the calculators back on their own sensors; the baths keep their
        temperature (heating them up again takes far longer than any run's pause)."""
        await self.water.safe_off()
        if self.calculator is not None:
            with contextlib.suppress(Exception):
                await self.calculator.connect(False)

    async def close(self) -> None:
        await self.water.close()
        with contextlib.suppress(Exception):
            await self.modbus.close()


async def open_heat_devices(
    config: BenchConfig, controllers: Mapping[str, ControllerClient], options: OpenOptions
) -> tuple[HeatDevices, dict[str, Any]]:
    """The water bench, then the heat line (both reference thermometers read, the tester
    disconnected); BenchOpenError names the device that failed."""
    water, identities = await open_water_devices(config, controllers, options)
    heat = heat_of(config)
    line = heat.modbus
    modbus = Bus(
        line.url,
        SerialSettings(line.baudrate, line.parity, line.bytesize, line.stopbits),
        name="heat-modbus",
    )
    try:
        await modbus.open()
    except (TransportError, OSError) as exc:
        await water.close()
        raise BenchOpenError(f"Modbus line at {line.url}: {exc}") from exc

    def client(unit: int, name: str) -> ModbusRtuClient:
        return ModbusRtuClient(modbus, unit, name=name)

    devices = HeatDevices(
        heat,
        water,
        modbus,
        BathController(client(heat.supply_bath.unit, "supply bath"), heat.supply_bath),
        BathController(client(heat.return_bath.unit, "return bath"), heat.return_bath),
        ReferenceThermometerClient(
            client(heat.supply_thermometer.unit, "supply reference thermometer"),
            heat.supply_thermometer,
        ),
        ReferenceThermometerClient(
            client(heat.return_thermometer.unit, "return reference thermometer"),
            heat.return_thermometer,
        ),
    )
    if heat.calculator is not None:
        devices.calculator = CalculatorTesterClient(
            client(heat.calculator.unit, "calculator tester"), heat.calculator
        )
    try:
        supply, ret = await devices.reference_c()
        identities["baths"] = {"supply_c": str(supply), "return_c": str(ret)}
        if devices.calculator is not None:
            await devices.calculator.connect(False)
    except ModbusError as exc:
        await devices.close()
        raise BenchOpenError(f"Modbus line at {line.url}: {exc}") from exc
    return devices, identities


def heat_meter_client(entry: MeterEntry, bus: Bus) -> Cjt188Client | None:
    """The CJ/T 188 client of a heat meter with a bus port, asking as its type (20H/21H)."""
    meter = entry.meter_type
    if not isinstance(meter, HeatMeterType) or meter.protocol != "cjt188":
        return None
    return Cjt188Client(bus, entry.address or "aa" * 7, meter_type=meter.cjt188_type)


__all__ = ["HeatDevices", "heat_meter_client", "open_heat_devices"]
