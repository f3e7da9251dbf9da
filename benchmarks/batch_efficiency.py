"""Batch efficiency: a plan on the simulated 24-position bench, measured time against the
strict minimum physics allows, in plan order and with the schedule's overlaps.

Strict minimum, per measurement step (the shared clock's seconds; no step can beat it):
  load point   the slowest position's counted pulses (readings x pulses per reading) / its
               pulse rate
  creep        the longest creep duration of the meter types present
  starting     the starting window t0 (or the slowest meter's first pulse, if earlier)
  clock        readings x gate
  register     the test energy / the test power (accumulated: only the energy its block of
               error points does not deliver over their minimum times)
Source settling is the instrument's, not physics': it is reported beside the minimum, as are
the meter buses' timeouts (wall seconds waiting for replies that never came, a silent meter),
so "host overhead" is only what is left. Communication and time setting are bound by the bus
(see bus_sweep.py) and reported on their own.

The overlapped minimum runs the clock test alongside the load points and takes the register
test's energy from the forward error points where the plan data allows it (``--overlap`` asks
for both in a copy of the plan). Every figure is a ratio within one run; ``--time-scale 1``
measures a real-time point (use a short plan).

    python benchmarks/batch_efficiency.py [--time-scale 20] [--plan PLAN] [--overlap] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from meterbench.config.bench import load_bench
from meterbench.kinds.electricity.simulator import SimulatedBench
from meterbench.results import ReadingStatus, ResultsStore
from meterbench.runner import health
from meterbench.runner.engine import Runner, RunOptions, planned_steps, prepare
from meterbench.runner.schedule import build_schedule, remaining_seconds, schedule_seconds

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench_configs" / "sim-1p-24.toml"
PLAN = ROOT / "bench_configs" / "plans" / "jjg596-2012-initial.toml"
METERS = ROOT / "bench_configs" / "meters" / "sim-1p-24.csv"
WIRE_BOUND = {"communication", "time_setting"}


class Timings:
    """Observer that keeps each step's start and end on the shared clock."""

    def __init__(self) -> None:
        self.steps: dict[str, tuple[float, float]] = {}
        self.timeouts_wall: dict[str, float] = {}  # per step: bus waits for missing replies

    def step(self, title: str, index: int, total: int) -> None:
        print(f"  step {index}/{total}: {title}", flush=True)

    def position(self, position: int, text: str) -> None:
        pass

    def event(self, severity: str, message: str) -> None:
        pass

    def step_done(self, key: str, started: float, finished: float) -> None:
        self.steps[key] = (started, finished)


def minimum_seconds(
    step: Any,
    positions: list[int],
    bench: SimulatedBench,
    readings: dict[tuple[int, str], int],
    first_pulse: dict[int, float],
) -> float:
    """What physics needs for one step on these positions, and not a pulse more."""
    item, key, by_type = step.item, step.key, step.by_type
    if item == "creep":
        return max(float(m.duration_s) for m in by_type.values())
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
        return sum(groups.values())
    if item == "clock":
        return max(float(m.gate_s) * m.readings for m in by_type.values())
    if item == "register":
        model = next(iter(by_type.values()))
        return max(float(m.energy_kwh) for m in by_type.values()) * 3.6e6 / float(model.power_w)
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
            pulses = readings.get((p, key), 0) * point.pulses.pulses_per_reading
            slowest = max(slowest, pulses / rate)
        return slowest
    return 0.0


def _watch_bus_timeouts(timings: Timings) -> None:
    """Per step, the wall seconds the meter buses spent waiting for replies that never came
    (read from the buses' own counters when the engine reports each step's link health)."""
    report = health.LinkHealth.report
    last: dict[int, float] = {}

    async def counting(self: health.LinkHealth, ctx: Any, step_key: str) -> None:
        waited = sum(b.stats.timeout_wait_s for b in self.session.buses.values())
        timings.timeouts_wall[step_key] = waited - last.get(id(self), 0.0)
        last[id(self)] = waited
        await report(self, ctx, step_key)

    health.LinkHealth.report = counting  # type: ignore[method-assign]


def _overlapping(plan: Path, into: Path) -> Path:
    """A copy of ``plan`` whose clock item asks to run alongside the load points and whose
    register items ask to take their energy from the error points."""
    text = plan.read_text(encoding="utf-8")
    text, clocks = re.subn(r'(?m)^(type = "clock"\s*)$', r"\1\noverlap = true", text)
    text, registers = re.subn(r'(?m)^(type = "register"\s*)$', r"\1\naccumulate = true", text)
    if clocks + registers == 0:
        raise SystemExit(f"{plan}: no clock or register item to overlap")
    into.mkdir(parents=True, exist_ok=True)
    copy = into / plan.name
    copy.write_text(text, encoding="utf-8")
    return copy


def _angle(pf: str) -> float:
    from meterbench.electrical import pf_to_angle

    return pf_to_angle(pf)


def _type_id(bench: SimulatedBench, position: int) -> str:
    return Path(bench.section.meter_for(position).type or "").stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="clock alongside the load points, register energy from the error points",
    )
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="meterbench-bench-"))
    plan = _overlapping(args.plan, work) if args.overlap else args.plan
    db = args.db or work / "results.db"
    options = RunOptions(BENCH, plan, METERS, db=db, time_scale=args.time_scale)
    prepared = prepare(options)
    steps = planned_steps(prepared.expansions, prepared.meters)
    timings = Timings()
    _watch_bus_timeouts(timings)
    print(f"plan {plan.name} on {BENCH.name}, time scale {args.time_scale:g}")
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
    minimum: dict[str, float] = {}
    for step in steps:
        if step.item not in WIRE_BOUND:
            minimum[step.key] = minimum_seconds(
                step, step.positions, reference, readings, first_pulse
            )
    scale = args.time_scale
    # a register step this run split around its error points measures only its top-up
    type_of_run = {m.position: m.type_id for m in prepared.meters}.__getitem__
    run_schedule = build_schedule(
        [s for s in steps if s.key in minimum], type_of_run, lambda s: minimum[s.key]
    )
    run_minimum = {
        e.step.key: share
        for e, share in zip(
            run_schedule, remaining_seconds(run_schedule, lambda s: minimum[s.key]), strict=True
        )
        if e.part == "close"
    }
    head = f"{'step':40} {'minimum':>8} {'measured':>9} {'ratio':>6} {'settle':>7} {'timeouts':>9}"
    print(f"\n{head}")
    total = {"minimum": 0.0, "measured": 0.0, "settle": 0.0, "timeouts": 0.0, "wire": 0.0}
    under = []
    for step in steps:
        if step.key not in timings.steps:
            continue
        started, finished = timings.steps[step.key]
        took = finished - started
        waited = timings.timeouts_wall.get(step.key, 0.0) * scale
        if step.item in WIRE_BOUND:
            total["wire"] += took
            print(f"{step.key:40} {'(wire)':>8} {took:9.1f} {'':>6} {'':>7} {waited:9.1f}")
            continue
        need = run_minimum.get(step.key, minimum[step.key])
        settled = settle if step.item not in ("clock",) else 0.0
        if took < need:
            under.append(step.key)
        total["minimum"] += need
        total["measured"] += took
        total["settle"] += settled
        total["timeouts"] += waited
        ratio = f"{took / need:6.3f}" if need else f"{'-':>6}"
        print(f"{step.key:40} {need:8.1f} {took:9.1f} {ratio} {settled:7.1f} {waited:9.1f}")
    measurement_steps = [s for s in steps if s.item not in WIRE_BOUND]
    type_of = {m.position: m.type_id for m in prepared.meters}.__getitem__
    sequential = schedule_seconds(
        build_schedule(measurement_steps, type_of, lambda s: minimum[s.key], overlap=False),
        lambda s: minimum[s.key],
    )
    # what the schedule allows whether or not this run asked for it: the plan with overlap
    overlap_plan = _overlapping(args.plan, work / "overlap") if not args.overlap else plan
    allowed = prepare(RunOptions(BENCH, overlap_plan, METERS))
    allowed_steps = [
        s for s in planned_steps(allowed.expansions, allowed.meters) if s.key in minimum
    ]
    allowed_schedule = build_schedule(allowed_steps, type_of, lambda s: minimum[s.key])
    overlapped = schedule_seconds(allowed_schedule, lambda s: minimum[s.key])
    shares = remaining_seconds(allowed_schedule, lambda s: minimum[s.key])
    register_alone = sum(minimum[s.key] for s in measurement_steps if s.item == "register")
    register_topup = sum(
        share for e, share in zip(allowed_schedule, shares, strict=True) if e.part == "close"
    )
    register_kept = sum(
        minimum[e.step.key]
        for e in allowed_schedule
        if e.step.item == "register" and e.part is None
    )
    # the run's measurement time on the clock: from the first step's start to the last's end
    spans = [timings.steps[s.key] for s in measurement_steps if s.key in timings.steps]
    elapsed = max(f for _, f in spans) - min(s for s, _ in spans) if spans else 0.0
    wire_in_span = sum(
        timings.steps[s.key][1] - timings.steps[s.key][0]
        for s in steps
        if s.item in WIRE_BOUND
        and s.key in timings.steps
        and spans
        and timings.steps[s.key][0] >= min(a for a, _ in spans)
        and timings.steps[s.key][1] <= max(b for _, b in spans)
    )
    elapsed -= wire_in_span
    floor = overlapped if args.overlap else sequential
    host = elapsed - floor - total["settle"] - total["timeouts"]
    print(f"\n(simulated seconds at time scale {scale:g})")
    print(f"strict minimum in plan order {sequential:.0f} s; with overlaps {overlapped:.0f} s")
    print(
        f"  register tests: {register_alone:.0f} s on their own runs in plan order, "
        f"{register_topup + register_kept:.0f} s with their energy taken from the error points "
        f"(top-up {register_topup:.0f} s, not accumulated {register_kept:.0f} s)"
    )
    print(f"measured measurement time {elapsed:.0f} s (steps overlapping counted once)")
    print(
        f"measured / sequential minimum: {elapsed / sequential:.3f}; "
        f"measured / overlapped minimum: {elapsed / overlapped:.3f}"
    )
    print(f"excess over the minimum of this schedule: {elapsed - floor:.0f} s")
    if args.overlap:
        # the clock's bus timeouts fall inside the load points it runs alongside: the excess
        # cannot be split step by step, only the parts are shown
        print(
            f"  within it or alongside: source settling {total['settle']:.0f} s, bus timeouts "
            f"{total['timeouts']:.0f} s ({total['timeouts'] / scale:.1f} wall s)"
        )
    else:
        print(
            f"  source settling {total['settle']:.0f} s, bus timeouts {total['timeouts']:.0f} s "
            f"({total['timeouts'] / scale:.1f} wall s), host overhead {host:.0f} s "
            f"({host / scale:.1f} wall s)"
        )
    print(f"steps finishing under their minimum: {len(under)} {under if under else ''}")
    print(f"communication and time setting (bus-bound): {total['wire'] / scale:.1f} wall seconds")
    print(f"wall time of the run: {wall:.0f} s; run {run_id} in {db}")
    store.close()


if __name__ == "__main__":
    main()
