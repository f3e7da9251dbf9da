"""Open every device of a bench for a run, and close them all again.

A bench session holds the source driver, one link client per controller (HELLO checked, its
firmware recorded), one bus manager per meter bus and one DL/T 645 client per meter. It only
sees endpoint URLs, so a simulated bench and a real one are opened the same way.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from meterbench.config.bench import BenchConfig, Position
from meterbench.devices.controller import ControllerClient, ControllerError, send_input_config
from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.meter_clients import electricity_meter_client
from meterbench.devices.source import ScpiSource, SourceError
from meterbench.runner.meters import MeterEntry
from meterbench.transport.bus import Bus
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings
from meterproto.dlt645.messages import Password


class BenchOpenError(Exception):
    """A device of the bench could not be opened or did not answer; names which."""


def _text(value: Any) -> str:
    return (
        value.rstrip(b"\x00").decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    )


@dataclass
class BenchSession:
    config: BenchConfig
    source: ScpiSource
    controllers: dict[str, ControllerClient]
    buses: dict[str, Bus]
    meters: dict[int, Dlt645Client] = field(default_factory=dict)
    firmware: dict[str, Any] = field(default_factory=dict)
    reference_constant: float = 0.0

    @property
    def positions(self) -> dict[int, Position]:
        return {p.number: p for p in self.config.positions}

    def controller_of(self, position: int) -> tuple[ControllerClient, int]:
        p = self.positions[position]
        return self.controllers[p.controller], p.channel

    async def close(self) -> None:
        for client in self.controllers.values():
            with contextlib.suppress(Exception):
                await client.close()
        for bus in self.buses.values():
            with contextlib.suppress(Exception):
                await bus.close()
        with contextlib.suppress(Exception):
            await self.source.close()


async def open_session(
    config: BenchConfig,
    meters: list[MeterEntry],
    password: Password | None = None,
    operator: int = 0,
) -> BenchSession:
    """Open the source, every controller and every bus; BenchOpenError names a dead device."""
    opened: list[Any] = []
    try:
        src = config.source
        try:
            source = await ScpiSource.open(
                src.url,
                SerialSettings(src.baudrate, src.parity),
                timeout_s=src.timeout_s,
                poll_s=0.01,
            )
            opened.append(source)
            identity = await source.identify()
            reference_constant = await source.reference_constant()
        except (SourceError, TransportError, OSError) as exc:
            raise BenchOpenError(f"source at {src.url}: {exc}") from exc
        controllers: dict[str, ControllerClient] = {}
        firmware: dict[str, Any] = {"source": identity}
        for info in config.controllers:
            try:
                client = await ControllerClient.open(info.url, baudrate=info.baudrate)
                opened.append(client)
                hello = await client.hello()
                await send_input_config(client, info.min_pulse_width_us)
            except (ControllerError, OSError, Exception) as exc:  # noqa: BLE001 - name the device
                raise BenchOpenError(f"controller {info.id} at {info.url}: {exc}") from exc
            controllers[info.id] = client
            fields = {k: _text(v) for k, v in hello.fields.items()}
            firmware[info.id] = (
                f"firmware {fields['fw_version']} ({fields['fw_hash']}) on {fields['board']}, "
                f"MicroPython {fields['mp_version']}, link {int(fields['protocol']):#06x}"
            )
        buses: dict[str, Bus] = {}
        for info in config.buses:
            bus = Bus(
                info.url,
                SerialSettings(info.baudrate, info.parity, info.bytesize, info.stopbits),
                name=info.id,
            )
            try:
                await bus.open()
            except (TransportError, OSError) as exc:
                raise BenchOpenError(f"meter bus {info.id} at {info.url}: {exc}") from exc
            opened.append(bus)
            buses[info.id] = bus
        session = BenchSession(
            config,
            source,
            controllers,
            buses,
            firmware=firmware,
            reference_constant=reference_constant,
        )
        by_number = session.positions
        for entry in meters:
            position = by_number[entry.position]
            protocol = getattr(entry.meter_type, "protocol", "none")
            if position.bus is None:
                continue
            client = electricity_meter_client(
                protocol, buses[position.bus], entry.address, password=password, operator=operator
            )
            if client is not None:
                session.meters[entry.position] = client  # type: ignore[assignment]
        return session
    except BaseException:
        for item in reversed(opened):
            with contextlib.suppress(Exception):
                await item.close()
        raise
