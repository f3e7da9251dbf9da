"""The devices only a water bench has, opened for a run and closed again.

A water bench has no power source; beside its controllers (meter pulses, the master meter's
pulses, valves on their outputs) and meter buses (CJ/T 188 registers), which every bench has
and ``runner.session`` opens, it has a Modbus RTU line with the pump drive and the temperature
transmitter, and optionally the balance of the weighing tank. Only endpoint URLs are seen, so
a simulated bench and a real one open the same way, and a dead device is named.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.devices.controller import ControllerClient
from meterbench.devices.flow import FlowDriver, ModbusVfd
from meterbench.devices.modbus_client import ModbusError, ModbusRtuClient
from meterbench.devices.scale import Scale, ScaleError, SicsScale
from meterbench.devices.thermometer import ModbusThermometer, WaterThermometer
from meterbench.devices.valves import Valve
from meterbench.kinds.water.config import OutputRef, WaterBench, water_of
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.transport.bus import Bus
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings


@dataclass
class WaterDevices:
    config: WaterBench
    drive: FlowDriver
    thermometer: WaterThermometer
    start_valve: Valve
    modbus: Bus
    scale: Scale | None = None
    drain_valve: Valve | None = None
    regulator: Any = None  # the run's FlowRegulator: what each demand gave, across points

    async def safe_off(self) -> None:
        """Pump stopped, start valve closed: nothing flows after a run or a failure."""
        with contextlib.suppress(Exception):
            await self.drive.stop()
        with contextlib.suppress(Exception):
            await self.start_valve.close()

    async def close(self) -> None:
        if self.scale is not None:
            with contextlib.suppress(Exception):
                await self.scale.close()
        with contextlib.suppress(Exception):
            await self.modbus.close()


async def open_water_devices(
    config: BenchConfig, controllers: Mapping[str, ControllerClient], options: OpenOptions
) -> tuple[WaterDevices, dict[str, Any]]:
    """The Modbus line (drive stopped, transmitter read), the balance and the valves;
    BenchOpenError names the device that failed, and what was opened is closed again."""
    opened: list[Any] = []
    identities: dict[str, Any] = {}
    try:
        return await _water_devices(water_of(config), controllers, identities, opened), identities
    except BaseException:
        for item in reversed(opened):
            with contextlib.suppress(Exception):
                await item.close()
        raise


def water_meter_client(entry: MeterEntry, bus: Bus) -> Cjt188Client | None:
    """The CJ/T 188 client of an electronic meter (its register); None for the others."""
    if getattr(entry.meter_type, "protocol", "") != "cjt188":
        return None
    return Cjt188Client(bus, entry.address or "aa" * 7)


async def _water_devices(
    water: WaterBench,
    controllers: Mapping[str, ControllerClient],
    firmware: dict[str, Any],
    opened: list[Any],
) -> WaterDevices:
    line = water.modbus
    modbus = Bus(
        line.url,
        SerialSettings(line.baudrate, line.parity, line.bytesize, line.stopbits),
        name="water-modbus",
    )
    try:
        await modbus.open()
    except (TransportError, OSError) as exc:
        raise BenchOpenError(f"Modbus line at {line.url}: {exc}") from exc
    opened.append(modbus)
    drive = ModbusVfd(ModbusRtuClient(modbus, water.flow.unit, name="pump drive"), water.flow)
    thermometer = ModbusThermometer(
        ModbusRtuClient(modbus, water.temperature.unit, name="temperature transmitter"),
        water.temperature,
    )
    try:
        await drive.stop()
        firmware["thermometer"] = {"water_temperature_c": str(await thermometer.read_c())}
    except ModbusError as exc:
        raise BenchOpenError(f"Modbus line at {line.url}: {exc}") from exc

    def valve(ref: OutputRef, name: str) -> Valve:
        return Valve(controllers[ref.controller], ref.channel, ref.output, name)

    devices = WaterDevices(water, drive, thermometer, valve(water.start_valve, "start"), modbus)
    if water.scale is not None:
        info = water.scale
        try:
            scale = await SicsScale.open(info.url, SerialSettings(info.baudrate, info.parity))
            opened.append(scale)
            firmware["scale"] = {"serial": await scale.identify()}
        except (ScaleError, TransportError, OSError) as exc:
            raise BenchOpenError(f"balance at {info.url}: {exc}") from exc
        devices.scale = scale
        if info.drain is not None:
            devices.drain_valve = valve(info.drain, "drain")
    try:
        await devices.start_valve.close()
    except Exception as exc:  # noqa: BLE001 - name the device
        where = f"start valve on controller {water.start_valve.controller}"
        raise BenchOpenError(f"{where}: {exc}") from exc
    return devices


__all__ = ["WaterDevices", "open_water_devices", "water_meter_client"]
