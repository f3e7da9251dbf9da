"""Scale: what a simulated bench of 24 / 96 / 192 / 384 positions costs, per position.

Each size is a single-phase bench of controllers with 12 positions and RS-485 buses of 24
meters (the shipped 24-position bench repeated), running a short plan (meters read, one
Imax error point, meters read again). Every size runs in its own process, so the figures are
that run's alone:

- ``--devices inproc`` (default): host run and simulated devices in one process on virtual
  time; CPU seconds of the process (host and devices) per position per simulated hour.
- ``--devices separate``: the devices in a ``meterbench sim serve`` process at
  ``--time-scale`` (1 by default, real time), the run on the wall clock against its ports as
  against a real bench; CPU seconds of the run's process alone (the host) per position per
  simulated hour.

Printed per size: wall seconds, simulated seconds, CPU seconds per position per simulated
hour, max RSS, and both as ratios to the 24-position figures measured in the same run (a
linear cost keeps the CPU ratio near 1). Not a test: it measures the machine too.

``--window S`` measures a steady load point instead of a whole short plan, whose start-up
(imports, opening the bench, the first meter reads) would swamp a run of a minute: the plan
reads the meters, then holds one Imax error point for about S seconds (as many readings as
fit, at the profile's 5 s a reading), and only that step's CPU time and duration count. With
``--devices separate --time-scale 1`` that is the host's share of one core while a bench
runs in real time. ``--display live`` drives the operator's live table (on a terminal that
is not shown) instead of plain lines.

    python benchmarks/scale.py [--sizes 24,96,192,384] [--devices inproc|separate]
        [--time-scale 1] [--window S] [--display plain|live]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meterbench.runner.context import Observer

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "bench_configs"
METERBENCH = str(Path(sys.executable).with_name("meterbench"))
PER_CONTROLLER = 12
PER_BUS = 24

PLAN = """[plan]
id = "scale-short"
title = "short plan for the scale benchmark"
regulation = "jjg596-2012"
verification = "initial"
kind = "electricity"

[[items]]
type = "communication"
checks = ["read_address"]

[[items]]
type = "basic_error"
points = [{ current = "Imax", pf = "1.0" }]

[[items]]
type = "communication"
id = "communication_end"
title = "communication at the end"
checks = ["read_address", "read_energy"]
"""

SIM = """[sim]
time_scale = 1
seed = 7
address_base = 230715000001
serial_prefix = "SIM1P"

[sim.reference]
error_pct = 0.002

[sim.source]
settle_s = 3.0
noise_pct = 0.002

[sim.meter_defaults]
type = "1p-class2-5-60a"
noise_pct = 0.01
error_curve = [[0.05, 0.05], [0.1, -0.15], [1.0, -0.30], [12.0, -0.40]]
"""


def bench_text(positions: int) -> str:
    """A simulated bench of ``positions`` positions, built from the shipped 24-position one."""
    shipped = (CONFIGS / "sim-1p-24.toml").read_text(encoding="utf-8")
    head = shipped[: shipped.index("[[controllers]]")]
    head = head.replace('lab = "labs/', f'lab = "{CONFIGS}/labs/')
    head = head.replace('id = "SIM-1P-24"', f'id = "SIM-1P-{positions}"')
    parts = [head]
    controllers = positions // PER_CONTROLLER
    for c in range(1, controllers + 1):
        parts.append(f'[[controllers]]\nid = "C{c}"\nurl = "sim://controller/C{c}"\n')
    for b in range(1, positions // PER_BUS + 1):
        parts.append(
            f'[[buses]]\nid = "M{b}"\nurl = "sim://bus/M{b}"\nbaudrate = 2400\nparity = "E"\n'
        )
    per_bus = PER_BUS // PER_CONTROLLER
    for c in range(controllers):
        first = c * PER_CONTROLLER + 1
        parts.append(
            f'[[position_groups]]\nnumbers = "{first}-{first + PER_CONTROLLER - 1}"\n'
            f'controller = "C{c + 1}"\nbus = "M{c // per_bus + 1}"\n'
        )
    parts.append(
        '[certificates]\nnumber_format = "{bench}-{year}-{kind}{seq:05d}"\n'
        'issuer = "meterbench simulated verification laboratory"\n'
    )
    return "\n".join(parts) + "\n" + SIM


def meters_text(positions: int) -> str:
    rows = ["position,type,serial,asset,address"]
    rows += [
        f"{p},1p-class2-5-60a,SIM1P{p:04d},A26{p:06d},{230715000000 + p}"
        for p in range(1, positions + 1)
    ]
    return "\n".join(rows) + "\n"


READING_S = 5  # the profile's shortest reading (basic_error.pulses.min_reading_s)


def plan_text(window_s: float) -> str:
    """The short plan, or for a measuring window: meters read, one long Imax error point."""
    if not window_s:
        return PLAN
    readings = max(2, math.ceil(window_s / READING_S))
    head, _, _ = PLAN.partition("[[items]]")
    return (
        head
        + f'[profile_overrides]\n"basic_error.readings_per_point" = {readings}\n\n'
        + '[[items]]\ntype = "communication"\nchecks = ["read_address"]\n\n'
        + '[[items]]\ntype = "basic_error"\npoints = [{ current = "Imax", pf = "1.0" }]\n'
    )


class Window:
    """An observer that notes CPU and wall time over the error point step (the last one)."""

    def __init__(self, inner: Observer) -> None:
        self.inner = inner
        self.started: tuple[float, float] | None = None
        self.ended: tuple[float, float] | None = None

    def step(self, title: str, index: int, total: int) -> None:
        self.inner.step(title, index, total)
        if index == total:
            self.started = (time.monotonic(), time.process_time())

    def position(self, position: int, text: str) -> None:
        self.inner.position(position, text)

    def event(self, severity: str, message: str) -> None:
        self.inner.event(severity, message)

    def step_done(self, key: str, started: float, finished: float) -> None:
        self.inner.step_done(key, started, finished)
        if key.startswith("basic_error") and self.started is not None:
            self.ended = (time.monotonic(), time.process_time())

    def figures(self) -> tuple[float, float]:
        """Wall and CPU seconds of the window."""
        assert self.started is not None and self.ended is not None, "no error point ran"
        return self.ended[0] - self.started[0], self.ended[1] - self.started[1]


def observer(display: str, positions: int) -> Observer:
    from rich.console import Console

    from meterbench.runner.progress import LiveProgress, PlainProgress

    if display == "live":
        console = Console(file=io.StringIO(), force_terminal=True, width=160, height=60)
        return LiveProgress(list(range(1, positions + 1)), console)
    return PlainProgress(Console(file=io.StringIO()))


def simulated_seconds(db: Path, run_id: str) -> float:
    from meterbench.results import ResultsStore
    from meterbench.runner.recorded import last_stored_time

    store = ResultsStore.open(db)
    try:
        last = last_stored_time(store, run_id)
        assert last is not None
        return (last - store.get_run(run_id).started_at).total_seconds()
    finally:
        store.close()


def run_plan(
    bench: Path, meters: Path, plan: Path, db: Path, virtual: bool, progress: Observer
) -> str:
    from meterbench.results import ResultsStore
    from meterbench.runner.engine import Runner, RunOptions
    from meterbench.sim import virtual_loop

    store = ResultsStore.open(db)
    try:
        runner = Runner(store, progress)
        options = RunOptions(
            bench,
            plan,
            meters,
            db,
            verifier="scale",
            checker="scale",
            task="SCALE",
            temperature_c=Decimal("23"),
            humidity_pct=Decimal("45"),
        )
        go = virtual_loop.run if virtual else asyncio.run
        return go(runner.start(options))
    finally:
        store.close()


def served_bench(sim_bench: Path, time_scale: float, folder: Path) -> tuple[Path, object]:
    """Start the devices in a ``sim serve`` process; a bench file that points at its ports."""
    import tomllib

    process = subprocess.Popen(
        [METERBENCH, "sim", "serve", "--bench", str(sim_bench), "--json"]
        + ["--time-scale", str(time_scale)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ports = json.loads(process.stdout.readline())["endpoints"]
    data = tomllib.loads(sim_bench.read_text(encoding="utf-8"))
    text = sim_bench.read_text(encoding="utf-8").split("\n[sim]\n")[0] + "\n"
    for controller in data["controllers"]:
        cid = controller["id"]
        path = ports["controller " + cid]
        text = text.replace(f'url = "sim://controller/{cid}"', f'url = "{path}"')
    for bus in data["buses"]:
        bid = bus["id"]
        path = ports["bus " + bid]
        text = text.replace(f'url = "sim://bus/{bid}"', f'url = "{path}"')
    text = text.replace('url = "sim://source"', f'url = "{ports["source"]}"')
    real = folder / "served.toml"
    real.write_text(text, encoding="utf-8")
    return real, process


def one(
    positions: int, devices: str, time_scale: float, window_s: float, display: str
) -> dict[str, float]:
    """Run one size in this process; its figures (the window's when there is one)."""
    from meterbench.runner.progress import LiveProgress

    with tempfile.TemporaryDirectory(prefix="scale-") as name:
        folder = Path(name)
        bench = folder / "bench.toml"
        bench.write_text(bench_text(positions), encoding="utf-8")
        meters = folder / "meters.csv"
        meters.write_text(meters_text(positions), encoding="utf-8")
        plan = folder / "plan.toml"
        plan.write_text(plan_text(window_s), encoding="utf-8")
        db = folder / "r.db"
        server = None
        if devices == "separate":
            bench, server = served_bench(bench, time_scale, folder)
        progress = Window(observer(display, positions))
        began, cpu = time.monotonic(), time.process_time()
        inner = progress.inner
        live = inner if isinstance(inner, LiveProgress) else contextlib.nullcontext()
        try:
            with live:
                run_id = run_plan(bench, meters, plan, db, devices == "inproc", progress)
        finally:
            if server is not None:
                server.terminate()  # type: ignore[attr-defined]
                server.wait()  # type: ignore[attr-defined]
        cpu = time.process_time() - cpu
        wall = time.monotonic() - began
        sim_s = simulated_seconds(db, run_id)
    if window_s:
        # the window is on the host's clock: wall time, which the devices ran at time_scale
        wall, cpu = progress.figures()
        sim_s = wall * time_scale
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "positions": positions,
        "wall_s": wall,
        "sim_s": sim_s,
        "cpu_s": cpu,
        "cpu_per_position_hour": cpu / positions / (sim_s / 3600),
        "core_pct": 100 * cpu / wall,
        "rss_mib": rss_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="24,96,192,384")
    parser.add_argument("--devices", choices=("inproc", "separate"), default="inproc")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--window", type=float, default=0.0, help="seconds of one load point")
    parser.add_argument("--display", choices=("plain", "live"), default="plain")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.window and options.devices != "separate":
        parser.error("--window measures a wall-clock run: it needs --devices separate")
    if options.one:
        figures = one(
            options.one, options.devices, options.time_scale, options.window, options.display
        )
        print(json.dumps(figures))
        return
    load = os.getloadavg()
    results = []
    for size in (int(s) for s in options.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--devices", options.devices]
        command += ["--time-scale", str(options.time_scale), "--window", str(options.window)]
        command += ["--display", options.display]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        base = results[0]
        r = results[-1]
        print(
            f"{r['positions']:4d} positions: {'window' if options.window else 'wall'} "
            f"{r['wall_s']:7.1f} s, simulated "
            f"{r['sim_s']:7.0f} s, CPU {r['cpu_s']:6.1f} s = "
            f"{r['cpu_per_position_hour']:6.2f} s per position per simulated hour "
            f"(x{r['cpu_per_position_hour'] / base['cpu_per_position_hour']:.2f} of "
            f"{base['positions']}), {r['core_pct']:5.2f} % of one core, "
            f"max RSS {r['rss_mib']:5.0f} MiB "
            f"(x{r['rss_mib'] / base['rss_mib']:.2f})",
            flush=True,
        )
    end = os.getloadavg()
    print(
        f"devices: {options.devices}, time scale {options.time_scale:g}, display "
        f"{options.display}; load average (1 min) {load[0]:.2f} before, {end[0]:.2f} after"
    )


if __name__ == "__main__":
    main()
