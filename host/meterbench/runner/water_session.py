"""Open every device of a water bench for a run, and close them all again.

A water bench has no power source; it has controllers (meter pulses, the master meter's
pulses, valves on their outputs), meter buses (CJ/T 188 registers), a Modbus RTU line with the
pump drive and the temperature transmitter, and optionally the balance of the weighing tank.
Like the electricity session it only sees endpoint URLs, so a simulated bench and a real one
open the same way, and a dead device is named before anything runs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.config.water_bench import OutputRef, WaterBench
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.devices.controller import ControllerClient, send_input_config
from meterbench.devices.flow import FlowDriver, ModbusVfd
from meterbench.devices.modbus_client import ModbusError, ModbusRtuClient
from meterbench.devices.scale import Scale, ScaleError, SicsScale
from meterbench.devices.thermometer import ModbusThermometer, WaterThermometer
from meterbench.devices.valves import Valve
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import BenchOpenError, BenchSession
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
    registers: dict[int, Cjt188Client] = field(default_factory=dict)
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


@dataclass
class WaterSession(BenchSession):
    water: WaterDevices | None = None

    async def close(self) -> None:
        if self.water is not None:
            await self.water.close()
        await super().close()


def _text(value: Any) -> Any:
    return value.rstrip(b"\x00").decode("ascii", "replace") if isinstance(value, bytes) else value


async def open_water_session(config: BenchConfig, meters: list[MeterEntry]) -> WaterSession:
    """Open controllers, meter buses, the Modbus line and the balance; BenchOpenError names
    the device that failed."""
    water = config.water
    if water is None:
        raise BenchOpenError(f"bench {config.bench.id} has no [water] section")
    opened: list[Any] = []
    try:
        controllers: dict[str, ControllerClient] = {}
        firmware: dict[str, dict[str, Any]] = {}
        for info in config.controllers:
            try:
                client = await ControllerClient.open(info.url, baudrate=info.baudrate)
                opened.append(client)
                hello = await client.hello()
                await send_input_config(client, info.min_pulse_width_us)
            except Exception as exc:  # noqa: BLE001 - name the device
                raise BenchOpenError(f"controller {info.id} at {info.url}: {exc}") from exc
            controllers[info.id] = client
            firmware[info.id] = {k: _text(v) for k, v in hello.fields.items()}
        buses: dict[str, Bus] = {}
        for bus_info in config.buses:
            bus = Bus(
                bus_info.url,
                SerialSettings(
                    bus_info.baudrate, bus_info.parity, bus_info.bytesize, bus_info.stopbits
                ),
                name=bus_info.id,
            )
            try:
                await bus.open()
            except (TransportError, OSError) as exc:
                raise BenchOpenError(f"meter bus {bus_info.id} at {bus_info.url}: {exc}") from exc
            opened.append(bus)
            buses[bus_info.id] = bus
        devices = await _water_devices(water, controllers, firmware, opened)
        session = WaterSession(
            config,
            None,
            controllers,
            buses,
            firmware=firmware,
            water=devices,  # type: ignore[arg-type]
        )
        positions = session.positions
        for entry in meters:
            position = positions[entry.position]
            if position.bus is None or getattr(entry.meter_type, "protocol", "") != "cjt188":
                continue
            devices.registers[entry.position] = Cjt188Client(
                buses[position.bus], entry.address or "aa" * 7
            )
        return session
    except BaseException:
        for item in reversed(opened):
            with contextlib.suppress(Exception):
                await item.close()
        raise


async def _water_devices(
    water: WaterBench,
    controllers: dict[str, ControllerClient],
    firmware: dict[str, dict[str, Any]],
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


__all__ = ["WaterDevices", "WaterSession", "open_water_session"]
