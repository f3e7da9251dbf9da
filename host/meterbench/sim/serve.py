"""``meterbench sim serve``: a simulated bench on its own, for drivers, tools and people.

Prints where every device is (controllers, meter buses, the kind's own devices) and which
meter answers at which address, then serves until interrupted. Other programs (``meterbench
meter read``, ``meterbench selftest``, a lab's own scripts) open those paths like real ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from meterbench.bench_open import open_bench
from meterbench.config.bench import BenchConfig, load_bench
from meterbench.config.errors import ConfigError
from meterbench.config.locate import BENCHES, locate
from meterbench.inputs import time_scale_problem
from meterbench.waits import within

_SINGULAR = {"controllers": "controller", "buses": "bus"}


def _device_name(endpoint: str) -> str:
    """``controllers[C1].url`` -> ``controller C1``; ``source.url`` -> ``source``."""
    match = re.fullmatch(r"(\w+)\[(.+)\]\.url", endpoint)
    if match:
        return f"{_SINGULAR.get(match.group(1), match.group(1))} {match.group(2)}"
    return endpoint.removesuffix(".url")


async def _serve(
    config: BenchConfig, path: Path, time_scale: float | None, as_json: bool, seconds: float | None
) -> None:
    async with open_bench(config, path, time_scale) as bench:
        assert bench.simulator is not None  # serve() checked the bench is simulated
        described = bench.simulator.describe()
        endpoints = {_device_name(name): url for name, url in described["endpoints"].items()}
        meters = described["meters"]
        scale = described["time_scale"]
        if as_json:
            print(
                json.dumps({"endpoints": endpoints, "meters": meters, "time_scale": scale}),
                flush=True,
            )
        else:
            console = Console(highlight=False)
            table = Table(title=f"simulated bench {config.bench.id} (time scale {scale:g})")
            table.add_column("device")
            table.add_column("port")
            for name, url in endpoints.items():
                table.add_row(name, url)
            console.print(table)
            console.print(
                f"{len(meters)} meters on buses, addresses "
                f"{min(m['address'] for m in meters.values())} ... "
                f"{max(m['address'] for m in meters.values())}"
                if meters
                else ""
            )
            console.print("serving; Ctrl-C stops")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(TimeoutError):
            await within(stop.wait(), seconds)


def serve(
    bench: Annotated[
        str,
        typer.Option("--bench", help="Bench file with a [sim] section, or a shipped bench's name."),
    ],
    time_scale: Annotated[
        float | None, typer.Option(help="Simulated seconds per wall second (default: the file's).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the ports as one JSON line.")
    ] = False,
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many wall seconds.")
    ] = None,
) -> None:
    """Start a simulated bench and print its ports; serve until interrupted."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if problem := time_scale_problem(time_scale):
        err.print(f"meterbench: {problem}", markup=False)
        raise typer.Exit(2)
    path = locate(bench, BENCHES)
    config = load_bench(path)
    if not config.simulated:
        raise ConfigError(path, None, "the bench has no [sim] section, so it cannot be simulated")
    asyncio.run(_serve(config, path, time_scale, as_json, seconds))
