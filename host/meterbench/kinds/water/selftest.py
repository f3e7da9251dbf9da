"""Commissioning checks of a water bench, beside the controller checks every bench gets
(``meterbench.selftest``): the Modbus line answers (pump drive stopped, water temperature
read), the balance identifies itself, the start valve closes, and every electronic meter
answers a CJ/T 188 read of its volume on its bus. The bench is left safe: pump stopped, valve
closed.
"""

from __future__ import annotations

import asyncio
import contextlib

from meterbench.config.meter_types import WaterMeterType
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.kinds.water.config import water_of
from meterbench.kinds.water.session import open_water_devices
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.selftest import Check, Devices, MeterInfo, Options


async def check_water_devices(devices: Devices) -> list[Check]:
    """Open the water bench's own devices as a run does; a failure names the device."""
    water = water_of(devices.config)
    missing = sorted(
        {ref.controller for ref in water.outputs().values()} - set(devices.controllers)
    )
    if missing:
        return [Check("water", "water bench", False, f"controller(s) {missing} not open")]
    try:
        opened, identities = await open_water_devices(
            devices.config, devices.controllers, OpenOptions(clock=devices.clock)
        )
    except BenchOpenError as exc:
        return [Check("water", "water bench", False, str(exc))]

    async def close() -> None:
        await opened.safe_off()
        await opened.close()

    devices.closers.append(close)
    devices.own["water"] = opened
    temperature = identities.get("thermometer", {}).get("water_temperature_c")
    text = f"pump drive stopped, water at {temperature} °C, start valve closed"
    if "scale" in identities:
        text += f", balance {identities['scale']['serial']}"
    return [Check("water", "water bench", True, text, data=dict(identities))]


async def check_meter_ports(devices: Devices, meters: dict[int, MeterInfo]) -> list[Check]:
    """Every position on a bus whose meter has a CJ/T 188 port answers a volume read."""

    async def one(position: int, bus_id: str) -> Check:
        subject = f"position {position}"
        info = meters.get(position, MeterInfo())
        meter_type = info.meter_type
        if isinstance(meter_type, WaterMeterType) and meter_type.protocol != "cjt188":
            return Check("meter_port", subject, None, "the meter has no CJ/T 188 port", position)
        if info.address is None:
            return Check(
                "meter_port", subject, None, "address unknown (give a meter list)", position
            )
        client = Cjt188Client(devices.buses[bus_id], info.address)
        try:
            reading = await client.read_volume()
        except Exception as exc:  # noqa: BLE001 - any failure is this port's finding
            return Check("meter_port", subject, False, str(exc), position)
        passed = reading.address == info.address
        text = f"address {reading.address}, {reading.volume} {reading.unit}"
        if not passed:
            text += f", expected {info.address}"
        data = {"address": reading.address, "volume": str(reading.volume)}
        return Check("meter_port", subject, passed, text, position, data)

    async def bus_in_turn(bus_id: str, positions: list[int]) -> list[Check]:
        return [await one(position, bus_id) for position in positions]

    by_bus: dict[str, list[int]] = {}
    for p in devices.config.positions:
        if p.bus is not None and p.bus in devices.buses:
            by_bus.setdefault(p.bus, []).append(p.number)
    results = await asyncio.gather(*(bus_in_turn(b, ps) for b, ps in by_bus.items()))
    return sorted((c for group in results for c in group), key=lambda c: c.position or 0)


async def water_checks(
    devices: Devices, meters: dict[int, MeterInfo], options: Options
) -> list[Check]:
    checks = await check_water_devices(devices)
    checks += await check_meter_ports(devices, meters)
    water = devices.own.get("water")
    if water is not None:
        with contextlib.suppress(Exception):
            await water.safe_off()
    return checks


__all__ = ["check_meter_ports", "check_water_devices", "water_checks"]
