"""Opening a bench: the one place where a ``sim://`` bench is started.

``open_bench`` hands back the bench config with endpoints that can be opened and the clock to
run on. A real bench is used as configured, on the wall clock. A simulated bench (a ``[sim]``
section) is started by its kind's simulator (``MeterKind.simulator``): its devices on ptys,
sharing its accelerated clock, stopped again when the block ends. Run, resume, selftest,
``sim serve`` and the bench test suite all open benches here, so none of them, and not the
engine, knows the simulator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from meterbench.clock import Clock, WallClock
from meterbench.config.bench import BenchConfig
from meterbench.kinds import Simulator
from meterbench.sim.virtual_loop import running_virtual_loop
from meterbench.transport import trace


@dataclass
class OpenBench:
    """A bench ready to open: ``config`` has real (or pty) endpoints; ``simulator`` is the
    running simulated bench, None for a real one."""

    config: BenchConfig
    clock: Clock
    simulator: Simulator | None = None

    @property
    def simulated(self) -> bool:
        return self.simulator is not None


def runs_on_virtual_time(config: BenchConfig) -> bool:
    """A simulated bench whose kind's simulator can run in-process on virtual time (the
    others run on ptys and the scaled wall clock, on an ordinary event loop)."""
    return config.simulated and bool(getattr(config.kind, "virtual_time", False))


@contextlib.asynccontextmanager
async def open_bench(
    config: BenchConfig,
    config_path: Path | str,
    time_scale: float | None = None,
    start_datetime: dt.datetime | None = None,
) -> AsyncIterator[OpenBench]:
    """The bench to open and its clock; a simulated bench runs while the block runs.
    ``time_scale`` overrides a simulated bench's own (real benches ignore it).

    On a virtual-time loop (``sim.virtual_loop``, what ``run``/``resume``/``demo`` use for a
    simulated bench) the devices run in this process on in-memory lines and simulated time is
    the loop's: reproducible whatever the machine does; ``time_scale`` then only paces it.
    Elsewhere (``sim serve``, for other processes) they are on ptys and the clock runs
    ``time_scale`` times the wall. ``start_datetime`` places a simulated time line (a resumed
    run goes on from the last time its record holds)."""
    if not config.simulated:
        yield OpenBench(config, WallClock())
        return
    loop = running_virtual_loop()
    if loop is not None:
        if not runs_on_virtual_time(config):
            raise RuntimeError(f"the {config.kind.name} simulator cannot run on virtual time")
        loop.set_pace(time_scale)
        simulator = cast("Any", config.kind).simulator(
            config, Path(config_path), time_scale, virtual=True, start_datetime=start_datetime
        )
    else:
        simulator = config.kind.simulator(config, Path(config_path), time_scale)
    clock = simulator.clock
    token = trace.use_clock(lambda: clock.datetime().timestamp()) if loop is not None else None
    try:
        resolved = await simulator.start()
        try:
            yield OpenBench(resolved, clock, simulator)
        finally:
            await simulator.stop()
    finally:
        if token is not None:
            trace.reset_clock(token)


__all__ = ["OpenBench", "open_bench", "runs_on_virtual_time"]
