"""Open every device of a bench for a run, and close them all again.

A bench session holds what every bench has, opened here once for every kind: one link client
per controller (HELLO checked, its firmware recorded), one bus manager per meter bus and one
client per meter on a bus (the kind's ``meter_client``), plus the devices only the bench's
kind has (``MeterKind.open_devices``: a source and reference standard, a pump and valves, a
balance). It only sees endpoint URLs, so a simulated bench and a real one are
opened the same way, and a dead device is named before anything runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from meterbench.clock import Clock, WallClock
from meterbench.config.bench import BenchConfig, Position
from meterbench.devices.controller import ControllerClient, send_input_config
from meterbench.kinds import KindDevices
from meterbench.reports.traceability import firmware_line
from meterbench.runner.meters import MeterEntry
from meterbench.transport.bus import Bus, BusTiming
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings
from meterproto.dlt645.messages import Password


class BenchOpenError(Exception):
    """A device of the bench could not be opened or did not answer; names which."""


@dataclass
class OpenOptions:
    """What the kinds' devices and meter clients may need when they are opened."""

    password: Password | None = None
    operator: int = 0
    clock: Clock = field(default_factory=WallClock)


def text(value: Any) -> str:
    return (
        value.rstrip(b"\x00").decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    )


@dataclass
class BenchSession:
    config: BenchConfig
    controllers: dict[str, ControllerClient]
    buses: dict[str, Bus]
    devices: KindDevices
    meters: dict[int, Any] = field(default_factory=dict)
    firmware: dict[str, Any] = field(default_factory=dict)  # for the run record
    hello: dict[str, dict[str, str]] = field(default_factory=dict)  # HELLO fields by controller

    @cached_property
    def positions(self) -> Mapping[int, Position]:
        """Positions by number, expanded once: every reading looks its position up, and
        expanding a 192-position bench's groups each time made the host's cost grow with
        the square of its positions (the bench config is frozen, so this never goes stale)."""
        return MappingProxyType({p.number: p for p in self.config.positions})

    def controller_of(self, position: int) -> tuple[ControllerClient, int]:
        p = self.positions[position]
        return self.controllers[p.controller], p.channel

    async def safe_off(self) -> None:
        """The kind's devices to their safe state (never raises)."""
        with contextlib.suppress(Exception):
            await self.devices.safe_off()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.devices.close()
        for client in self.controllers.values():
            with contextlib.suppress(Exception):
                await client.close()
        for bus in self.buses.values():
            with contextlib.suppress(Exception):
                await bus.close()


async def open_controllers(
    config: BenchConfig, opened: list[Any]
) -> tuple[dict[str, ControllerClient], dict[str, dict[str, str]], dict[str, str]]:
    """Every controller, HELLO checked: (clients, HELLO fields, firmware line for the record)."""
    controllers: dict[str, ControllerClient] = {}
    hellos: dict[str, dict[str, str]] = {}
    firmware: dict[str, str] = {}
    for info in config.controllers:
        try:
            client = await ControllerClient.open(info.url, baudrate=info.baudrate)
            opened.append(client)
            hello = await client.hello()
            await send_input_config(client, info.min_pulse_width_us)
        except Exception as exc:  # noqa: BLE001 - name the device
            raise BenchOpenError(f"controller {info.id} at {info.url}: {exc}") from exc
        controllers[info.id] = client
        fields = {k: text(v) for k, v in hello.fields.items()}
        hellos[info.id] = fields
        firmware[info.id] = firmware_line(fields)
    return controllers, hellos, firmware


async def open_buses(config: BenchConfig, opened: list[Any]) -> dict[str, Bus]:
    buses: dict[str, Bus] = {}
    for info in config.buses:
        bus = Bus(
            info.url,
            SerialSettings(info.baudrate, info.parity, info.bytesize, info.stopbits),
            timing=BusTiming(response_window=info.response_delay_max_s),
            name=info.id,
        )
        try:
            await bus.open()
        except (TransportError, OSError) as exc:
            raise BenchOpenError(f"meter bus {info.id} at {info.url}: {exc}") from exc
        opened.append(bus)
        buses[info.id] = bus
    return buses


async def open_session(
    config: BenchConfig, meters: list[MeterEntry], options: OpenOptions | None = None
) -> BenchSession:
    """Open the kind's devices, every controller and every bus; BenchOpenError names a dead
    device, and whatever was opened is closed again."""
    options = options or OpenOptions()
    kind = config.kind
    opened: list[Any] = []
    try:
        controllers, hellos, firmware = await open_controllers(config, opened)
        buses = await open_buses(config, opened)
        devices, identities = await kind.open_devices(config, controllers, options)
        opened.append(devices)
        session = BenchSession(
            config, controllers, buses, devices, firmware={**identities, **firmware}, hello=hellos
        )
        by_number = session.positions
        for entry in meters:
            position = by_number[entry.position]
            if position.bus is None:
                continue
            client = kind.meter_client(entry, buses[position.bus], options)
            if client is not None:
                session.meters[entry.position] = client
        return session
    except BaseException:
        for item in reversed(opened):
            with contextlib.suppress(Exception):
                await item.close()
        raise


__all__ = ["BenchOpenError", "BenchSession", "OpenOptions", "open_session", "text"]
