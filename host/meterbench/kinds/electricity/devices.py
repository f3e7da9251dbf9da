"""The devices only an electricity bench has: the source with its reference standard."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meterbench.config.bench import BenchConfig
from meterbench.devices.source import ScpiSource, SourceError
from meterbench.kinds.electricity.config import source_of
from meterbench.runner.session import BenchOpenError, OpenOptions
from meterbench.transport.errors import TransportError
from meterbench.transport.settings import SerialSettings


@dataclass
class ElectricityDevices:
    source: ScpiSource
    reference_constant: float  # C0 the standard reports on its range (imp/kWh)
    settle_timeout_s: float

    async def safe_off(self) -> None:
        """Source output off: no voltage on the meters after a run or a failure."""
        with contextlib.suppress(Exception):
            await self.source.output_off()

    async def safe_state(self) -> dict[str, str]:
        """What the source itself says about its output (``OUTP?``): the proof, after a stop,
        that the meters are no longer energised."""
        answer = (await self.source.query("OUTP?")).strip()
        return {"source output": {"0": "off", "1": "on"}.get(answer, f"unknown ({answer!r})")}

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.source.close()


async def open_electricity_devices(
    config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
) -> tuple[ElectricityDevices, dict[str, Any]]:
    """The source, identified and asked for its reference constant; BenchOpenError names it."""
    src = source_of(config)
    source: ScpiSource | None = None
    try:
        source = await ScpiSource.open(
            src.url,
            SerialSettings(src.baudrate, src.parity),
            timeout_s=src.timeout_s,
            poll_s=0.01,
        )
        identity = await source.identify()
        reference_constant = await source.reference_constant()
    except (SourceError, TransportError, OSError) as exc:
        if source is not None:
            with contextlib.suppress(Exception):
                await source.close()
        raise BenchOpenError(f"source at {src.url}: {exc}") from exc
    devices = ElectricityDevices(source, reference_constant, src.settle_timeout_s)
    return devices, {"source": identity}


__all__ = ["ElectricityDevices", "open_electricity_devices"]
