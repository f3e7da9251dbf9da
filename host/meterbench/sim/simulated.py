"""What every kind's simulated bench shares: its ``[sim]`` section, its clock, the meter type
of every position, a work directory for the ptys, the lines of its devices (ptys, or in
memory on virtual time), the controllers and meter buses, and the bench config handed back
with every ``sim://`` endpoint replaced by the path or URL its drivers open.

Two ways to run, chosen here once for every kind: ``virtual=True`` puts every device on an
in-memory line (``transport.memory``) with simulated time read from the virtual-time loop
(``VirtualClock``), so a seeded run is the same on any machine; otherwise every device is on
a pty for other processes (``sim serve``) and time runs a fixed factor faster than the wall
(``ScaledClock``).

A kind's simulated bench (``kinds/<kind>/simulator.py``) builds its physics world, its meters
and its own devices (a source, a pump drive, a balance) on lines from ``device`` and starts
and stops those in ``_start_own`` / ``_stop_own``; the rest is here once.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any, ClassVar

from meterbench.config.bench import SIM_SCHEME, BenchConfig, load_bench
from meterbench.config.errors import ConfigError
from meterbench.config.locate import locate_meter_type
from meterbench.config.meter_types import load_meter_type
from meterbench.sim.clock import ScaledClock, VirtualClock
from meterbench.sim.line import SimLine
from meterbench.sim.memory_device import MemoryDevice
from meterbench.sim.memory_port import MemoryBusServer
from meterbench.sim.pty import PtyDevice
from meterbench.sim.section import SimSectionBase, load_sim_section
from meterbench.sim.servers import PtyMeterServer


def resolve_meter_type_path(name: str, bench_path: Path) -> Path:
    """A meter type named in a bench file: relative to the bench file (or in ``meter_types/``
    next to it), else a shipped meter type."""
    return locate_meter_type(name, Path(bench_path), "sim.meter_defaults.type")


_memory_names: set[str] = set()  # claimed by the in-memory benches alive in this process


def _claim_memory_name(base: str) -> str:
    name, number = base, 1
    while name in _memory_names:
        number += 1
        name = f"{base}-{number}"
    _memory_names.add(name)
    return name


class SimulatedBenchBase:
    """Subclasses set ``section_model`` and ``workdir_prefix`` and build ``controllers``
    (id -> simulated controller with ``start()``/``stop()``) and ``meters`` (position ->
    simulated meter on a bus) before calling ``_build_buses``, every device on a line from
    ``device``.

    ``virtual``: in memory on the running virtual-time loop (``sim.virtual_loop``), which a
    ``time_scale`` then only paces for watching; ``start_datetime`` places the simulated
    time line (a resumed run goes on from the last time its record holds)."""

    section_model: ClassVar[type[SimSectionBase[Any]]]
    workdir_prefix: ClassVar[str] = "meterbench-sim-"

    def __init__(
        self,
        bench: BenchConfig,
        bench_path: Path | str,
        time_scale: float | None = None,
        workdir: Path | None = None,
        *,
        virtual: bool = False,
        start_datetime: dt.datetime | None = None,
    ) -> None:
        self.bench_path = Path(bench_path)
        self.config = bench
        self.section: Any = load_sim_section(self.section_model, bench, self.bench_path)
        # A directory made here is removed again by ``stop``; one handed in is the caller's.
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=self.workdir_prefix))
        self.meter_types: dict[int, Any] = {}
        self.meters: dict[int, Any] = {}
        self.controllers: dict[str, Any] = {}
        self.buses: dict[str, Any] = {}  # bus id -> PtyMeterServer or MemoryBusServer
        # In-process lines (a run on virtual time) instead of ptys.
        self.in_memory = virtual
        self.clock: Any
        if virtual:
            # Simulated time from the event loop, which only moves when everything waits.
            self.clock = VirtualClock(start_datetime=start_datetime, pace=time_scale)
        else:
            scale = time_scale or self.section.time_scale
            self.clock = ScaledClock(
                scale, slack=self.scaled_slack(scale), start_datetime=start_datetime
            )
        self.endpoints: dict[str, str] = {}  # endpoint name (as in BenchConfig) -> path or URL
        # The ``mem://`` names of its devices: the bench's id, so a seeded run records the same
        # URLs every time; a second bench of that id alive in this process gets a number.
        self.memory_name = _claim_memory_name(f"sim-{bench.bench.id}") if virtual else ""
        try:
            self._build()
        except BaseException:  # a bench that cannot be built leaves no folder behind
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            raise

    def _build(self) -> None:
        """The kind's own part of construction: its meters, devices and buses."""
        raise NotImplementedError

    @classmethod
    def from_file(cls, path: Path | str, **kwargs: Any) -> Any:
        return cls(load_bench(path), path, **kwargs)

    def _load_meter_types(self) -> None:
        """The meter type of every position, which must be one of the bench's kind."""
        kind = self.config.kind
        for position in self.config.positions:
            sim = self.section.meter_for(position.number)
            assert sim.type is not None  # load_sim_section checked it
            meter_type = load_meter_type(resolve_meter_type_path(sim.type, self.bench_path))
            if not isinstance(meter_type, kind.meter_type_model):
                raise ConfigError(
                    f"{self.bench_path}: position {position.number}: meter type "
                    f"{sim.type!r} is not {kind.article} {kind.name} meter"
                )
            self.meter_types[position.number] = meter_type

    def scaled_slack(self, time_scale: float) -> float | None:
        """How far a scaled clock may run ahead of its slowest controller (None: the
        clock's default)."""
        return None

    def state_dir(self, controller_id: str) -> Path:
        """Where one controller keeps its boot state: its own, as every board has its own
        flash (shared, the boot counts of all would add up and put the 4th into safe mode)."""
        path = self.workdir / f"state-{controller_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def device(self, name: str, poll_s: float = 0.004) -> Any:
        """A device's end of its line: a pty (``name`` in the work directory) or, in memory,
        ``mem://<work directory>/<name>``; both have the ``PtyDevice`` interface."""
        if self.in_memory:
            return MemoryDevice(f"{self.memory_name}/{name}")
        return PtyDevice(str(self.workdir / name), poll_s=poll_s)

    def _build_buses(self) -> None:
        """One pty (or in-memory line) per meter bus, serving the simulated meters on it."""
        bench = self.config
        for bus in bench.buses:
            devices = [
                self.meters[p.number]
                for p in bench.positions
                if p.bus == bus.id and p.number in self.meters
            ]
            parity_bits = 0 if bus.parity == "N" else 1
            line = SimLine(
                devices,
                baudrate=bus.baudrate,
                char_bits=1 + bus.bytesize + parity_bits + bus.stopbits,
                pace=self.section.pace_buses,
                latency_s=bus.adapter_latency_s,
                gap_s=bus.inter_byte_gap_s,
            )
            if self.in_memory:
                self.buses[bus.id] = MemoryBusServer(line, f"{self.memory_name}/bus-{bus.id}")
                continue
            self.buses[bus.id] = PtyMeterServer(
                line, link=str(self.workdir / f"bus-{bus.id}"), check_line_format=False
            )

    # -- life cycle -----------------------------------------------------------------------------
    async def _start_own(self) -> None:
        """Start the kind's own devices, recording their endpoints."""

    async def _stop_own(self) -> None:
        """Stop the kind's own devices."""

    async def start(self) -> BenchConfig:
        """Open every pty, start every device; returns the bench config with real paths."""
        await self._start_own()
        for cid, controller in self.controllers.items():
            self.endpoints[f"controllers[{cid}].url"] = controller.start()
        for bid, server in self.buses.items():
            self.endpoints[f"buses[{bid}].url"] = await server.start()
        return self.resolved_config()

    async def stop(self) -> None:
        _memory_names.discard(self.memory_name)
        try:
            for controller in self.controllers.values():
                await controller.stop()
            for server in self.buses.values():
                await server.stop()
            await self._stop_own()
        finally:
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    async def __aenter__(self) -> BenchConfig:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def resolved_config(self) -> BenchConfig:
        """The bench config with every simulated endpoint replaced by its pty path."""
        urls = {
            name: self.endpoints[name]
            for name, url in self.config.endpoints().items()
            if url.startswith(SIM_SCHEME) and name in self.endpoints
        }
        return self.config.with_endpoints(urls)

    # -- what it tells the outside --------------------------------------------------------------
    def address_for(self, position: int) -> str | None:
        """The address the meter in ``position`` answers at (None: it has no bus port)."""
        meter = self.meters.get(position)
        return None if meter is None else str(meter.address)

    def describe(self) -> dict[str, Any]:
        """Ports and meters, for ``meterbench sim serve``."""
        config = self.resolved_config()
        return {
            "endpoints": config.endpoints(),
            "meters": {
                p.number: {"address": self.address_for(p.number), "bus": p.bus}
                for p in config.positions
                if p.number in self.meters
            },
            "time_scale": self.clock.time_scale,
        }

    def fault_notes(self, positions: Collection[int]) -> list[str]:
        """Which of ``positions`` carry injected faults and what the run should make of them
        (and the bench-wide faults), one line each, for the operator of a simulated run."""
        notes = []
        for number in sorted(set(self.meter_types) & set(positions)):
            meter_class = str(getattr(self.meter_types[number], "meter_class", ""))
            for note in self.section.meter_for(number).fault_notes(meter_class):
                notes.append(f"position {number}: {note}")
        notes.extend(self.section.event_notes())
        return notes


__all__ = ["SimulatedBenchBase", "resolve_meter_type_path"]
