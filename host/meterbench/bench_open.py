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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from meterbench.clock import Clock, WallClock
from meterbench.config.bench import BenchConfig
from meterbench.kinds import Simulator


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


@contextlib.asynccontextmanager
async def open_bench(
    config: BenchConfig, config_path: Path | str, time_scale: float | None = None
) -> AsyncIterator[OpenBench]:
    """The bench to open and its clock; a simulated bench runs while the block runs.
    ``time_scale`` overrides a simulated bench's own (real benches ignore it)."""
    if not config.simulated:
        yield OpenBench(config, WallClock())
        return
    simulator = config.kind.simulator(config, Path(config_path), time_scale)
    resolved = await simulator.start()
    try:
        yield OpenBench(resolved, simulator.clock, simulator)
    finally:
        await simulator.stop()


__all__ = ["OpenBench", "open_bench"]
