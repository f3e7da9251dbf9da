"""Commissioning checks of a heat bench, beside the controller checks every bench gets: the
water bench's own devices (as ``kinds.water.selftest`` checks them), the heat line (both baths
and both reference thermometers answer, the calculator tester disconnects), and every heat
meter answers a CJ/T 188 901F heat read on its bus. The bench is left safe."""

from __future__ import annotations

import asyncio
import contextlib

from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.kinds.heat.session import open_heat_devices
from meterbench.kinds.water.config import water_of
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.selftest import Check, Devices, MeterInfo, Options


async def check_heat_devices(devices: Devices) -> list[Check]:
    water = water_of(devices.config)
    missing = sorted(
        {ref.controller for ref in water.outputs().values()} - set(devices.controllers)
    )
    if missing:
        return [Check("heat", "heat bench", False, f"controller(s) {missing} not open")]
    try:
        opened, identities = await open_heat_devices(
            devices.config, devices.controllers, OpenOptions(clock=devices.clock)
        )
    except BenchOpenError as exc:
        return [Check("heat", "heat bench", False, str(exc))]

    async def close() -> None:
        await opened.safe_off()
        await opened.close()

    devices.closers.append(close)
    devices.own["heat"] = opened
    baths = identities.get("baths", {})
    text = (
        f"pump drive stopped, start valve closed, supply bath {baths.get('supply_c')} °C, "
        f"return bath {baths.get('return_c')} °C"
    )
    if opened.calculator is not None:
        text += ", calculator tester disconnected"
    return [Check("heat", "heat bench", True, text, data=dict(identities))]


async def check_heat_ports(devices: Devices, meters: dict[int, MeterInfo]) -> list[Check]:
    """Every position on a bus whose heat meter has a CJ/T 188 port answers a heat read."""

    async def one(position: int, bus_id: str) -> Check:
        subject = f"position {position}"
        info = meters.get(position, MeterInfo())
        meter_type = info.meter_type
        if isinstance(meter_type, HeatMeterType) and meter_type.protocol != "cjt188":
            return Check("meter_port", subject, None, "the meter has no CJ/T 188 port", position)
        if info.address is None:
            return Check(
                "meter_port", subject, None, "address unknown (give a meter list)", position
            )
        kind = meter_type.cjt188_type if isinstance(meter_type, HeatMeterType) else 0x20
        client = Cjt188Client(devices.buses[bus_id], info.address, meter_type=kind)
        try:
            data = await client.read_heat()
        except Exception as exc:  # noqa: BLE001 - any failure is this port's finding
            return Check("meter_port", subject, False, str(exc), position)
        passed = client.address == info.address and not data.warnings
        text = f"address {client.address}, heat {data.heat} (unit {data.heat_unit:02X}H)"
        if client.address != info.address:
            text += f", expected {info.address}"
        if data.warnings:
            text += f", {'; '.join(data.warnings)}"
        values = {"address": client.address, "heat": str(data.heat)}
        return Check("meter_port", subject, passed, text, position, values)

    async def bus_in_turn(bus_id: str, positions: list[int]) -> list[Check]:
        return [await one(position, bus_id) for position in positions]

    by_bus: dict[str, list[int]] = {}
    for p in devices.config.positions:
        if p.bus is not None and p.bus in devices.buses:
            by_bus.setdefault(p.bus, []).append(p.number)
    results = await asyncio.gather(*(bus_in_turn(b, ps) for b, ps in by_bus.items()))
    return sorted((c for group in results for c in group), key=lambda c: c.position or 0)


async def heat_checks(
    devices: Devices, meters: dict[int, MeterInfo], options: Options
) -> list[Check]:
    checks = await check_heat_devices(devices)
    checks += await check_heat_ports(devices, meters)
    heat = devices.own.get("heat")
    if heat is not None:
        with contextlib.suppress(Exception):
            await heat.safe_off()
    return checks


__all__ = ["check_heat_devices", "check_heat_ports", "heat_checks"]
