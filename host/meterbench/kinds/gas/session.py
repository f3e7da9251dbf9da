"""The devices only a gas bench has, opened for a run and closed again: the Modbus line with
the reference (bell prover or master meter) and the line sensors. Controllers and meter buses
are opened by ``runner.session`` as for every bench; only endpoint URLs are seen, so a
simulated bench and a real one open the same way, and a dead device is named."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.devices.modbus_client import ModbusError, ModbusRtuClient
from meterbench.kinds.gas import registers as r
from meterbench.kinds.gas.config import GasBench, gas_of
from meterbench.kinds.gas.devices import GasLineSensors, GasReferenceDevice
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.transport.bus import Bus
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings
from meterproto.cjt188.frame import TYPE_GAS


@dataclass
class GasDevices:
    config: GasBench
    reference: GasReferenceDevice
    sensors: GasLineSensors
    modbus: Bus

    async def safe_off(self) -> None:
        """Flow stopped and the line vented: no air moving or held under pressure."""
        with contextlib.suppress(Exception):
            await self.reference.stop()
        with contextlib.suppress(Exception):
            await self.reference.command(r.CMD_VENT)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.modbus.close()


async def open_gas_devices(
    config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
) -> tuple[GasDevices, dict[str, Any]]:
    """The Modbus line, the reference stopped and read, the line conditions read;
    BenchOpenError names the device that failed, and the line is closed again."""
    gas = gas_of(config)
    line = gas.modbus
    modbus = Bus(
        line.url,
        SerialSettings(line.baudrate, line.parity, line.bytesize, line.stopbits),
        name="gas-modbus",
    )
    try:
        await modbus.open()
    except (TransportError, OSError) as exc:
        raise BenchOpenError(f"Modbus line at {line.url}: {exc}") from exc
    name = "bell prover" if gas.method == "bell" else "master meter"
    reference = GasReferenceDevice(
        ModbusRtuClient(modbus, gas.reference.unit, name=name), gas.reference
    )
    sensors = GasLineSensors(ModbusRtuClient(modbus, gas.sensors.unit, name="line sensors"))
    identities: dict[str, Any] = {}
    try:
        try:
            await reference.stop()
            state = await reference.read()
        except ModbusError as exc:
            raise BenchOpenError(f"{name} on {line.url}: {exc}") from exc
        try:
            line_now = await sensors.conditions()
        except ModbusError as exc:
            raise BenchOpenError(f"line sensors on {line.url}: {exc}") from exc
    except BaseException:
        with contextlib.suppress(Exception):
            await modbus.close()
        raise
    identities["reference"] = {
        "method": gas.method,
        "temperature_c": str(state.temperature_c),
        "pressure_pa": state.pressure_pa,
    }
    identities["line"] = {
        "temperature_c": str(line_now.temperature_c),
        "pressure_pa": line_now.pressure_pa,
    }
    return GasDevices(gas, reference, sensors, modbus), identities


def gas_meter_client(entry: MeterEntry, bus: Bus) -> Cjt188Client | None:
    """The CJ/T 188 client (meter type 30H) of a meter with a register port."""
    if getattr(entry.meter_type, "protocol", "") != "cjt188":
        return None
    return Cjt188Client(bus, entry.address or "aa" * 7, meter_type=TYPE_GAS)


__all__ = ["GasDevices", "gas_meter_client", "open_gas_devices"]
