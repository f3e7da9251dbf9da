"""The clock test alongside the load points: same verdicts as in plan order, less time.

The regulation profile says which items the clock test may run alongside (it needs only the
voltage their setpoints apply, and counts the second pulse, which they do not use); the plan
asks for it and the meter type says whether the second pulse has its own output. The overlapped
run on a seeded simulated bench must reach exactly the conclusions of the sequential one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meterbench.plan.model import PlanExpansion
from meterbench.results import ResultsStore
from meterbench.runner.engine import Runner, RunOptions, planned_steps, prepare
from meterbench.runner.items import PlannedStep
from meterbench.runner.schedule import build_schedule, remaining_seconds, schedule_seconds
from meterbench.runner.timing import estimate_s
from meterbench.sim import virtual_loop

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench_configs" / "sim-1p-24.toml"

PLAN = """
[plan]
id = "overlap-check"
title = "error points and clock"
regulation = "jjg596-2012"
verification = "initial"
kind = "electricity"

[[items]]
type = "basic_error"
points = [{{ current = "Ib", pf = "1.0" }}, {{ current = "0.5Imax", pf = "1.0" }}]

[[items]]
type = "clock"
gate_pulses = 10
overlap = {overlap}
"""

# position 15's clock runs 1.3 s/d fast; 3 is 2.6 % fast; 17 is a class 1 meter
METERS = [1, 3, 15, 17]


def _files(tmp_path: Path, overlap: bool) -> RunOptions:
    plan = tmp_path / f"plan-{overlap}.toml"
    plan.write_text(PLAN.format(overlap=str(overlap).lower()), encoding="utf-8")
    rows = (REPO / "bench_configs" / "meters" / "sim-1p-24.csv").read_text().splitlines()
    meters = tmp_path / "meters.csv"
    meters.write_text("\n".join([rows[0], *(rows[p] for p in METERS)]) + "\n", encoding="utf-8")
    types = REPO / "bench_configs" / "meter_types"
    for name in ("1p-class2-5-60a", "1p-class1-5-60a"):
        (tmp_path / f"{name}.toml").write_text((types / f"{name}.toml").read_text())
    return RunOptions(BENCH, plan, meters, db=tmp_path / f"r-{overlap}.db", time_scale=200)


def _run(options: RunOptions) -> tuple[dict[tuple[int, str, str], str], list[str]]:
    with ResultsStore.open(options.db) as store:
        run_id = virtual_loop.run(Runner(store).start(options))
        verdicts = {
            (c.position, c.step_key, c.limit_kind.value): c.outcome.value
            for c in store.conclusions(run_id)
        }
        order = list(dict.fromkeys(s.item for s in store.steps(run_id)))
    return verdicts, order


def test_the_overlapped_plan_gives_the_sequential_verdicts(tmp_path: Path) -> None:
    sequential, sequential_order = _run(_files(tmp_path, overlap=False))
    overlapped, overlapped_order = _run(_files(tmp_path, overlap=True))
    assert sequential_order == ["basic_error", "clock"]
    assert overlapped_order == ["clock", "basic_error"]  # started with the first load point
    assert overlapped == sequential
    # the faults still show: position 15's clock and position 3's error points fail
    assert {k[0] for k, v in overlapped.items() if k[1] == "clock" and v == "fail"} == {15}
    assert {k[0] for k, v in overlapped.items() if k[1] != "clock" and v == "fail"} == {3}


def test_the_schedule_comes_from_the_plan_data(tmp_path: Path) -> None:
    sequential_s = overlapped_s = 0.0
    for overlap in (False, True):
        prepared = prepare(_files(tmp_path, overlap))
        steps = planned_steps(prepared.expansions, prepared.meters)
        type_of = {m.position: m.type_id for m in prepared.meters}.__getitem__
        entries = build_schedule(steps, type_of, estimate_s)
        items = [(e.step.item, e.companion) for e in entries]
        if not overlap:
            assert items == [("basic_error", False), ("basic_error", False), ("clock", False)]
            sequential_s = schedule_seconds(entries, estimate_s)
        else:
            assert items == [("clock", True), ("basic_error", False), ("basic_error", False)]
            overlapped_s = schedule_seconds(entries, estimate_s)
    clock = next(s for s in steps if s.item == "clock")
    errors = sum(estimate_s(s) for s in steps if s.item == "basic_error")
    assert overlapped_s == pytest.approx(sequential_s - min(estimate_s(clock), errors))


def _step(
    key: str, item: str, positions: list[int], alongside: tuple[str, ...] = ()
) -> PlannedStep:
    model = type("M", (), {"alongside": list(alongside), "time": None})()
    return PlannedStep(key, item, "", 0, key, {"t": model, "u": model}, list(positions))


def test_positions_whose_type_forbids_it_keep_the_clock_in_plan_order() -> None:
    clock = _step("clock", "clock", [1, 2, 3], ("basic_error",))
    clock.by_type["u"] = type("M", (), {"alongside": [], "time": None})()
    steps = [_step("e1", "basic_error", [1, 2, 3]), _step("e2", "basic_error", [1, 2, 3]), clock]
    entries = build_schedule(steps, {1: "t", 2: "u", 3: "t"}.__getitem__, lambda s: 10.0)
    shape = [(e.step.key, e.step.positions, e.companion) for e in entries]
    assert shape == [
        ("clock", [1, 3], True),
        ("e1", [1, 2, 3], False),
        ("e2", [1, 2, 3], False),
        ("clock", [2], False),
    ]
    # the companion adds nothing beyond its 20 s block; the rest of the clock runs on its own
    assert remaining_seconds(entries, lambda s: 10.0) == [0.0, 10.0, 10.0, 10.0]


def test_a_companion_never_spans_a_step_it_may_not_run_alongside() -> None:
    steps = [
        _step("e1", "basic_error", [1]),
        _step("reg", "register", [1]),
        _step("e2", "basic_error", [1]),
        _step("e3", "basic_error", [1]),
        _step("clock", "clock", [1], ("basic_error",)),
    ]
    entries = build_schedule(steps, lambda p: "t", lambda s: 10.0)
    assert [e.step.key for e in entries] == ["e1", "reg", "clock", "e2", "e3"]


def test_a_stored_expansion_without_the_field_runs_in_plan_order(tmp_path: Path) -> None:
    # records written before the field existed: no alongside, the old order
    prepared = prepare(_files(tmp_path, overlap=True))
    stored = prepared.expansions["1p-class2-5-60a"].to_json_dict()
    for step in stored["steps"]:  # type: ignore[union-attr]
        step.pop("alongside", None)  # type: ignore[union-attr]
    old = PlanExpansion.model_validate(stored)
    steps = planned_steps({"1p-class2-5-60a": old}, prepared.meters[:1])
    entries = build_schedule(steps, lambda p: "1p-class2-5-60a", estimate_s)
    assert [e.step.item for e in entries] == ["basic_error", "basic_error", "clock"]


def test_plan_show_prints_the_scheduled_time_beside_the_plan_order(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from meterbench.cli import app

    options = _files(tmp_path, overlap=True)
    result = CliRunner().invoke(
        app, ["plan", "show", str(options.plan), "-m", str(tmp_path / "1p-class2-5-60a.toml")]
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("scheduled measuring"))
    assert "clock alongside the load points" in line and "(in plan order:" in line
