"""Batch efficiency: a full plan on the simulated 24-position bench, measured time against the
time physics requires.

Required, per measurement step (the shared clock's seconds):
  load point   source settling + the slowest position's readings x pulses per reading / its
               pulse rate, plus one pulse period to reach the first gate edge
  creep        settling + the longest creep duration of the meter types present
  starting     settling + the longest starting window t0
  clock        settling + readings x gate + the skipped and the first second pulse
  register     settling + the test energy / the test power
Communication and time setting exchange frames at wire speed; they are reported on their own
(their bound is the bus wire time, see bus_sweep.py) and not counted on either side.

The simulated bench accelerates physics, not the host: every link round trip and source
command still takes wall time, which the time scale multiplies into simulated seconds. So the
run prints the ratio at its own time scale, the host's overhead in wall seconds, and the ratio
a real bench (time scale 1) gets with that same overhead. Target: measured <= 1.05 x required.

    python benchmarks/batch_efficiency.py [--time-scale 20] [--plan PLAN] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from meterbench.config.bench import load_bench
from meterbench.kinds.electricity.simulator import SimulatedBench
from meterbench.results import ReadingStatus, ResultsStore
from meterbench.runner.engine import Runner, RunOptions, planned_steps, prepare

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench_configs" / "sim-1p-24.toml"
PLAN = ROOT / "bench_configs" / "plans" / "jjg596-2012-initial.toml"
METERS = ROOT / "bench_configs" / "meters" / "sim-1p-24.csv"
WIRE_BOUND = {"communication", "time_setting"}


class Timings:
    """Observer that keeps each step's start and end on the shared clock."""

    def __init__(self) -> None:
        self.steps: dict[str, tuple[float, float]] = {}

    def step(self, title: str, index: int, total: int) -> None:
        print(f"  step {index}/{total}: {title}", flush=True)

    def position(self, position: int, text: str) -> None:
        pass

    def event(self, severity: str, message: str) -> None:
        pass

    def step_done(self, key: str, started: float, finished: float) -> None:
        self.steps[key] = (started, finished)


def required_seconds(
    step: object,
    positions: list[int],
    bench: SimulatedBench,
    readings: dict[tuple[int, str], int],
    settle: float,
    first_pulse: dict[int, float],
) -> float:
    """What physics needs for one step on these positions."""
    item, key = step.item, step.key  # type: ignore[attr-defined]
    by_type = step.by_type  # type: ignore[attr-defined]
    if item == "creep":
        return settle + max(float(m.duration_s) for m in by_type.values())
    if item == "starting":
        # One window per starting current (types differ); a window may end when its slowest
        # meter has started, and must run to t0 when a meter does not start.
        groups: dict[float, float] = {}
        for p in positions:
            model = by_type[_type_id(bench, p)]
            first = first_pulse.get(p)
            need = float(model.window_s) if first is None else min(float(model.window_s), first)
            current = float(model.current_a)
            groups[current] = max(groups.get(current, 0.0), need)
        return sum(settle + need for need in groups.values())
    if item == "clock":
        return settle + max(float(m.gate_s) * m.readings + 2.0 for m in by_type.values())
    if item == "register":
        model = next(iter(by_type.values()))
        power = float(model.power_w)
        return settle + max(float(m.energy_kwh) for m in by_type.values()) * 3.6e6 / power
    if item in ("basic_error", "std_dev"):
        slowest = 0.0
        for p in positions:
            model = by_type[_type_id(bench, p)]
            point = model.point if item == "std_dev" else model
            behaviour = bench.world.meters[p].behaviour
            error = behaviour.error.systematic_pct(
                float(point.current_a), behaviour.ib_a, _angle(point.pf)
            )
            rate = float(point.power_w) * behaviour.constant_imp_per_kwh * (1 + error / 100) / 3.6e6
            if rate <= 0:
                continue
            pulses = readings.get((p, key), 0) * point.pulses.pulses_per_reading + 1
            slowest = max(slowest, pulses / rate)
        return settle + slowest
    return 0.0


def _angle(pf: str) -> float:
    from meterbench.electrical import pf_to_angle

    return pf_to_angle(pf)


def _type_id(bench: SimulatedBench, position: int) -> str:
    return Path(bench.section.meter_for(position).type or "").stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()

    db = args.db or Path(tempfile.mkdtemp(prefix="meterbench-bench-")) / "results.db"
    options = RunOptions(BENCH, args.plan, METERS, db=db, time_scale=args.time_scale)
    prepared = prepare(options)
    steps = planned_steps(prepared.expansions, prepared.meters)
    timings = Timings()
    print(f"full plan {args.plan.name} on {BENCH.name}, time scale {args.time_scale:g}")
    wall_start = time.monotonic()
    store = ResultsStore.open(db)
    run_id = asyncio.run(Runner(store, timings).start(options))
    wall = time.monotonic() - wall_start

    reference = SimulatedBench(load_bench(BENCH), BENCH)  # the same physics, not started
    settle = reference.section.source.settle_s
    readings: dict[tuple[int, str], int] = {}
    first_pulse: dict[int, float] = {}
    for r in store.readings(run_id):
        if r.status == ReadingStatus.OK:
            readings[(r.position, r.step_key)] = readings.get((r.position, r.step_key), 0) + 1
        if r.step_key == "starting" and r.raw.get("pulse_times_us"):
            first_pulse[r.position] = r.raw["pulse_times_us"][0] / 1e6
    required = measured = wire_steps = 0.0
    print(f"\n{'step':44} {'required s':>11} {'measured s':>11} {'ratio':>7}")
    for step in steps:
        if step.key not in timings.steps:
            continue
        started, finished = timings.steps[step.key]
        took = finished - started
        if step.item in WIRE_BOUND:
            wire_steps += took
            print(f"{step.key:44} {'(wire)':>11} {took:11.1f}")
            continue
        need = required_seconds(step, step.positions, reference, readings, settle, first_pulse)
        required += need
        measured += took
        print(f"{step.key:44} {need:11.1f} {took:11.1f} {took / need:7.3f}")
    overhead_wall = (measured - required) / args.time_scale
    print(
        f"\nmeasurement steps: required {required:.0f} s, measured {measured:.0f} s "
        f"(simulated seconds at time scale {args.time_scale:g})"
    )
    print(f"ratio at time scale {args.time_scale:g}: {measured / required:.3f}")
    print(
        f"host overhead: {overhead_wall:.1f} wall seconds over the whole plan "
        f"({overhead_wall / max(1, len(timings.steps)):.2f} s per step)"
    )
    print(
        f"ratio on a real bench (time scale 1, same overhead): "
        f"{(required + overhead_wall) / required:.4f}  (target <= 1.05)"
    )
    print(
        f"communication and time setting (wire-bound): {wire_steps / args.time_scale:.1f} "
        "wall seconds"
    )
    print(f"wall time of the run: {wall:.0f} s; run {run_id} in {db}")
    store.close()


if __name__ == "__main__":
    main()
