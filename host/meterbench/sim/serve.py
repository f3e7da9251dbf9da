"""``meterbench sim serve``: a simulated bench on its own, for drivers, tools and people.

Prints where every device is (source, controllers, meter buses) and which meter answers at
which address, then serves until interrupted. Other programs (``meterbench meter read``,
``meterbench selftest``, a lab's own scripts) open those paths like real ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from meterbench.config.locate import BENCHES, locate
from meterbench.sim.bench import SimulatedBench


async def _serve(bench: SimulatedBench, as_json: bool, seconds: float | None) -> None:
    config = await bench.start()
    try:
        endpoints = {
            "source": config.source.url,
            **{f"controller {c.id}": c.url for c in config.controllers},
            **{f"bus {b.id}": b.url for b in config.buses},
        }
        meters = {
            p.number: {"address": m.address, "bus": p.bus}
            for p in config.positions
            if (m := bench.meters.get(p.number)) is not None
        }
        if as_json:
            print(
                json.dumps(
                    {"endpoints": endpoints, "meters": meters, "time_scale": bench.clock.time_scale}
                ),
                flush=True,
            )
        else:
            console = Console(highlight=False)
            table = Table(
                title=f"simulated bench {config.bench.id} (time scale {bench.clock.time_scale:g})"
            )
            table.add_column("device")
            table.add_column("port")
            for name, url in endpoints.items():
                table.add_row(name, url)
            console.print(table)
            console.print(
                f"{len(meters)} DL/T 645 meters, addresses "
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
            await asyncio.wait_for(stop.wait(), seconds)
    finally:
        await bench.stop()


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
    simulated = SimulatedBench.from_file(locate(bench, BENCHES), time_scale=time_scale)
    asyncio.run(_serve(simulated, as_json, seconds))
