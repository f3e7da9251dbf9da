"""Commissioning checks of a gas bench, beside the controller checks every bench gets: the
Modbus line answers (reference stopped, air conditions read at the reference and in the meter
line), and every meter answers a CJ/T 188 (30H) read of its volume on its bus. The bench is
left safe: flow stopped, line vented."""

from __future__ import annotations

import contextlib

from meterbench.config.gas_meter_type import GasMeterType
from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.kinds.gas.session import open_gas_devices
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.selftest import Check, Devices, MeterInfo, Options
from meterproto.cjt188.frame import TYPE_GAS


async def gas_checks(
    devices: Devices, meters: dict[int, MeterInfo], options: Options
) -> list[Check]:
    checks: list[Check] = []
    try:
        opened, identities = await open_gas_devices(
            devices.config, devices.controllers, OpenOptions(clock=devices.clock)
        )
    except BenchOpenError as exc:
        return [Check("gas", "gas bench", False, str(exc))]

    async def close() -> None:
        await opened.safe_off()
        await opened.close()

    devices.closers.append(close)
    devices.own["gas"] = opened
    ref, line = identities["reference"], identities["line"]
    name = "bell prover" if ref["method"] == "bell" else "master meter"
    text = (
        f"{name} stopped at {ref['temperature_c']} °C, "
        f"{ref['pressure_pa']} Pa; meter line at {line['temperature_c']} °C, "
        f"{line['pressure_pa']} Pa"
    )
    checks.append(Check("gas", "gas bench", True, text, data=dict(identities)))
    for position in devices.config.positions:
        subject, number = f"position {position.number}", position.number
        info = meters.get(position.number, MeterInfo())
        meter_type = info.meter_type
        if isinstance(meter_type, GasMeterType) and meter_type.protocol != "cjt188":
            checks.append(
                Check(
                    "meter_port", subject, None, "the meter has no CJ/T 188 port", position.number
                )
            )
            continue
        if info.address is None or position.bus not in devices.buses:
            checks.append(
                Check(
                    "meter_port",
                    subject,
                    None,
                    "address unknown (give a meter list)",
                    position.number,
                )
            )
            continue
        client = Cjt188Client(devices.buses[position.bus], info.address, meter_type=TYPE_GAS)
        try:
            reading = await client.read_volume()
        except Exception as exc:  # noqa: BLE001 - any failure is this port's finding
            checks.append(Check("meter_port", subject, False, str(exc), number))
            continue
        passed = reading.address == info.address
        text = f"address {reading.address}, {reading.volume} {reading.unit}"
        data = {"address": reading.address, "volume": str(reading.volume)}
        checks.append(Check("meter_port", subject, passed, text, number, data))
    with contextlib.suppress(Exception):
        await opened.safe_off()
    return checks


__all__ = ["gas_checks"]
