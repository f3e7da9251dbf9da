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

    python benchmarks/scale.py [--sizes 24,96,192,384] [--devices inproc|separate]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

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


def run_plan(bench: Path, meters: Path, plan: Path, db: Path, virtual: bool) -> str:
    from rich.console import Console

    from meterbench.results import ResultsStore
    from meterbench.runner.engine import Runner, RunOptions
    from meterbench.runner.progress import PlainProgress
    from meterbench.sim import virtual_loop

    store = ResultsStore.open(db)
    try:
        runner = Runner(store, PlainProgress(Console(file=io.StringIO())))
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


def one(positions: int, devices: str, time_scale: float) -> dict[str, float]:
    """Run one size in this process; its figures."""
    with tempfile.TemporaryDirectory(prefix="scale-") as name:
        folder = Path(name)
        bench = folder / "bench.toml"
        bench.write_text(bench_text(positions), encoding="utf-8")
        meters = folder / "meters.csv"
        meters.write_text(meters_text(positions), encoding="utf-8")
        plan = folder / "plan.toml"
        plan.write_text(PLAN, encoding="utf-8")
        db = folder / "r.db"
        server = None
        if devices == "separate":
            bench, server = served_bench(bench, time_scale, folder)
        began, cpu = time.monotonic(), time.process_time()
        try:
            run_id = run_plan(bench, meters, plan, db, virtual=devices == "inproc")
        finally:
            if server is not None:
                server.terminate()  # type: ignore[attr-defined]
                server.wait()  # type: ignore[attr-defined]
        cpu = time.process_time() - cpu
        wall = time.monotonic() - began
        sim_s = simulated_seconds(db, run_id)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "positions": positions,
        "wall_s": wall,
        "sim_s": sim_s,
        "cpu_s": cpu,
        "cpu_per_position_hour": cpu / positions / (sim_s / 3600),
        "rss_mib": rss_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="24,96,192,384")
    parser.add_argument("--devices", choices=("inproc", "separate"), default="inproc")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        print(json.dumps(one(options.one, options.devices, options.time_scale)))
        return
    results = []
    for size in (int(s) for s in options.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--devices", options.devices]
        command += ["--time-scale", str(options.time_scale)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        base = results[0]
        r = results[-1]
        print(
            f"{r['positions']:4d} positions: wall {r['wall_s']:7.1f} s, simulated "
            f"{r['sim_s']:7.0f} s, CPU {r['cpu_s']:6.1f} s = "
            f"{r['cpu_per_position_hour']:6.2f} s per position per simulated hour "
            f"(x{r['cpu_per_position_hour'] / base['cpu_per_position_hour']:.2f} of "
            f"{base['positions']}), max RSS {r['rss_mib']:5.0f} MiB "
            f"(x{r['rss_mib'] / base['rss_mib']:.2f})",
            flush=True,
        )
    print(f"devices: {options.devices}")


if __name__ == "__main__":
    main()
