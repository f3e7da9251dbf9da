"""The register test on the energy of the forward error points (``accumulate = true``).

The accumulated plan must reach the verdicts of the sequential one on a seeded simulated
bench, cheating registers included; its register test must really be judged on the error
points' energy (no energy run of its own where they deliver enough); and a resume inside the
accumulated span must give the test its own run back instead of judging half a span.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.runner.items import PlannedStep
from meterbench.runner.schedule import build_schedule, remaining_seconds
from meterbench.runner.timing import estimate_s
from meterbench.sim import virtual_loop

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH, METERS = "runner-1p-6-cheats.toml", "meters-6-cheats.csv"
HONEST, REGISTER_LOW_IB, REGISTER_ONLY_05L, REGISTER_FAST = (1, 6), 2, 3, 4
LOW = '[[items]]\nid = "register_low"'


UNANNOUNCED = '[[items]]\ntype = "unannounced"\npoints = 4\nseed = 7\n'


def _plan(tmp: Path, name: str, cut: str | None = None) -> Path:
    """A copy of a test plan without its unannounced points (on virtual time a small drawn
    load stores nothing for longer than the run watchdog allows, in plan order too), and
    without everything from ``cut`` on."""
    text = (BENCHES / name).read_text(encoding="utf-8")
    assert UNANNOUNCED in text
    text = text.replace(UNANNOUNCED, "")
    if cut is not None:
        text = text[: text.index(cut)]
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(tmp: Path, plan: str) -> Any:
    db = tmp / "results.db"
    options = RunOptions(BENCHES / BENCH, _plan(tmp, plan), BENCHES / METERS, db=db)
    run_id = virtual_loop.run(run_batch(options))  # virtual time: the same run anywhere
    return ResultsStore.open(db).load_run(run_id)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    sequential = _run(tmp_path_factory.mktemp("sequential"), "plan-cheats.toml")
    accumulated = _run(tmp_path_factory.mktemp("accumulated"), "plan-cheats-accumulate.toml")
    return sequential, accumulated


def _verdicts(record: Any) -> dict[tuple[int, str, str], Outcome]:
    return {(c.position, c.step_key, c.limit_kind.value): c.outcome for c in record.conclusions}


def _conclusion(record: Any, position: int, key: str) -> Any:
    (found,) = [
        c
        for c in record.conclusions
        if c.position == position and c.step_key == key and c.limit_kind.value == "mpe"
    ]
    return found


def test_accumulated_plan_gives_the_sequential_verdicts(runs: tuple[Any, Any]) -> None:
    sequential, accumulated = runs
    assert sequential.status == accumulated.status == RunStatus.COMPLETED
    assert _verdicts(accumulated) == _verdicts(sequential)
    # the cheats are still caught, by the same register test, for the same reason
    for position in (REGISTER_LOW_IB, REGISTER_ONLY_05L, REGISTER_FAST):
        low = _conclusion(accumulated, position, "register_low")
        assert low.outcome == Outcome.FAIL and "ahead of its pulses" in low.reason
    for position in HONEST:
        assert _conclusion(accumulated, position, "register").outcome == Outcome.PASS


def test_register_is_judged_on_the_error_points_energy(runs: tuple[Any, Any]) -> None:
    """The Imax register test asks for 1 kWh: the four error points deliver part or all of it
    (how much depends on how long they take), and only the rest is run at Imax. The reference
    is the accumulator's over the points and the top-up; the registers are read before the
    first point."""
    _, accumulated = runs
    for position in range(1, 7):
        details = _conclusion(accumulated, position, "register").details
        points_kwh = float(details["accumulated"]["error_points_kwh"])
        topup_kwh = float(details["accumulated"]["topup_kwh"])
        assert points_kwh > 0.05  # the plan's points at their planned times give 0.087 kWh
        assert points_kwh + topup_kwh >= 1.0
        assert topup_kwh <= max(0.0, 1.0 - points_kwh) + 0.01  # only what was missing
        reference = float(details["reference_energy_kwh"])
        assert reference == pytest.approx(points_kwh + topup_kwh, abs=1e-8)
        # registered over the whole span: the advance is that energy within a digit or two
        assert float(details["register_advance_kwh"]) == pytest.approx(reference, abs=0.03)
        if topup_kwh == 0:
            assert details["meter_pulses"] is None  # the points used the pulse input
        else:
            assert details["meter_pulses"] > 0  # counted over the top-up
    # the Ib 0.5L test cannot share that span (its run would flow inside it): its own run
    low = _conclusion(accumulated, 1, "register_low").details
    assert "accumulated" not in low and low["meter_pulses"] > 0
    # and that register test's registers were read before the error points
    opened = [
        r for r in accumulated.readings if r.step_key == "register" and r.raw.get("part") == "open"
    ]
    assert len(opened) == 6
    first_point = min(r.at for r in accumulated.readings if r.step_key.startswith("basic_error"))
    assert all(r.at < first_point for r in opened)


def test_a_register_off_over_the_points_is_caught(tmp_path: Path) -> None:
    """A register 3 % fast everywhere (pulses honest) fails the accumulated register test;
    asking for more energy than the points give, only the rest is run, its pulses counted."""
    bench = (
        (BENCHES / BENCH)
        .read_text(encoding="utf-8")
        .replace("register_bias_pct = 0.5", "register_bias_pct = 3.0")
    )
    (tmp_path / BENCH).write_text(bench, encoding="utf-8")
    plan = _plan(tmp_path, "plan-cheats-accumulate.toml", LOW).read_text(encoding="utf-8")
    plan = plan.replace('[[items]]\ntype = "register_span"\n', "")
    plan = plan.replace("energy_kwh = 1", "energy_kwh = 10")  # more than the points give
    (tmp_path / "plan.toml").write_text(plan, encoding="utf-8")
    db = tmp_path / "results.db"
    options = RunOptions(tmp_path / BENCH, tmp_path / "plan.toml", BENCHES / METERS, db=db)
    run_id = virtual_loop.run(run_batch(options))  # virtual time: the same run anywhere
    record = ResultsStore.open(db).load_run(run_id)
    fast = _conclusion(record, REGISTER_FAST, "register")
    assert fast.outcome == Outcome.FAIL
    assert float(fast.rounded) > 1.0  # beyond the MPE against the reference, too
    honest = _conclusion(record, 1, "register")
    assert honest.outcome == Outcome.PASS
    for conclusion in (fast, honest):
        details = conclusion.details
        points, topup = (
            float(details["accumulated"][k]) for k in ("error_points_kwh", "topup_kwh")
        )
        assert 0.05 < points < 10.0 and points + topup >= 10.0
        assert topup <= 10.0 - points + 0.01  # only the missing energy
        assert details["meter_pulses"] > 0  # counted over the top-up
    assert "ahead of its pulses" in fast.reason


def test_a_resume_inside_the_span_gives_the_register_test_its_own_run(tmp_path: Path) -> None:
    """Killed at an error-point reading inside the accumulated span, the resumed run cannot
    know the reference energy since the opening: the register test runs on its own."""
    meterbench = str(Path(sys.executable).with_name("meterbench"))
    db = tmp_path / "results.db"
    plan = _plan(tmp_path, "plan-cheats-accumulate.toml", LOW)  # the Imax register test only
    args = [
        *(meterbench, "run", "--plain", "--bench", str(BENCHES / BENCH)),
        *("--plan", str(plan), "--meters", str(BENCHES / METERS), "--db", str(db)),
    ]
    # 6 whole-run start readings, 6 register openings, then the error points' readings
    env = {**os.environ, "METERBENCH_TEST_KILL_AFTER": "reading:16"}
    killed = subprocess.run(args, env=env, capture_output=True, timeout=900, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    with ResultsStore.open(db) as store:
        (summary,) = store.list_runs()
        stored = store.readings(summary.run_id)
    assert sum(r.raw.get("part") == "open" for r in stored) == 6  # the span was open
    env.pop("METERBENCH_TEST_KILL_AFTER")
    resumed = subprocess.run(
        [meterbench, "resume", summary.run_id, "--db", str(db)],
        env=env,
        capture_output=True,
        timeout=900,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    record = ResultsStore.open(db).load_run(summary.run_id)
    assert record.status == RunStatus.COMPLETED
    notes = [e for e in record.events if e.kind == "register_accumulation"]
    assert {e.position for e in notes} == set(range(1, 7))
    assert all("resumed" in e.message for e in notes)
    for position in range(1, 7):
        register = _conclusion(record, position, "register")
        assert "accumulated" not in register.details  # its own run, pulses counted
        assert register.details["meter_pulses"] > 0
    assert _conclusion(record, REGISTER_FAST, "register").outcome == Outcome.PASS


def _step(key: str, item: str, model: Any, positions: list[int]) -> PlannedStep:
    return PlannedStep(key, item, key, 0, key, {"t": model}, positions)


class _Time:
    def __init__(self, seconds: float) -> None:
        self.max_s = seconds
        self.min_s = seconds


class _Point:
    def __init__(self, direction: str, seconds: float, power_w: float) -> None:
        self.direction, self.time, self.power_w = direction, _Time(seconds), power_w


class _Register:
    def __init__(self, energy_kwh: float, power_w: float, over: list[str]) -> None:
        self.energy_kwh, self.power_w, self.accumulate_over = energy_kwh, power_w, over
        self.time = _Time(energy_kwh * 3.6e6 / power_w)


def _entries(steps: list[PlannedStep]) -> list[tuple[str, str | None]]:
    entries = build_schedule(steps, lambda _: "t", estimate_s)
    return [(e.step.key, e.part) for e in entries]


def test_schedule_splits_the_register_around_forward_points_only() -> None:
    forward = [_step(f"be/{n}", "basic_error", _Point("P+", 60, 3600), [1]) for n in range(2)]
    reverse = _step("be/rev", "basic_error", _Point("P-", 600, 3600), [1])
    register = _step("register", "register", _Register(1.0, 3600, ["basic_error"]), [1])
    steps = [*forward, reverse, register]
    assert _entries(steps) == [
        ("register", "open"),
        ("be/0", None),
        ("be/1", None),
        ("register", "close"),
        ("be/rev", None),
    ]
    # the points give 2 x 60 s x 3.6 kW = 0.12 kWh: 0.88 kWh is topped up at 3.6 kW
    entries = build_schedule(steps, lambda _: "t", estimate_s)
    shares = remaining_seconds(entries, estimate_s)
    assert shares[0] == 0.0 and shares[3] == pytest.approx(880.0)
    assert sum(shares) == pytest.approx(880.0 + 120.0 + 600.0)  # 3600 s in plan order
    # without the permission in the step's model it stays a whole step at its place
    plain = _step("register", "register", _Register(1.0, 3600, []), [1])
    assert _entries([*forward, plain]) == [("be/0", None), ("be/1", None), ("register", None)]


def test_a_second_register_test_does_not_accumulate_over_a_taken_span() -> None:
    """Its top-up would flow inside the first one's span at a load that is not that test's."""
    points = [_step(f"be/{n}", "basic_error", _Point("P+", 60, 3600), [1]) for n in range(2)]
    first = _step("register", "register", _Register(1.0, 3600, ["basic_error"]), [1])
    second = _step("register_low", "register", _Register(5.0, 1000, ["basic_error"]), [1])
    assert _entries([*points, first, second]) == [
        ("register", "open"),
        ("be/0", None),
        ("be/1", None),
        ("register", "close"),
        ("register_low", None),
    ]


def test_plan_show_estimates_the_run_without_the_separate_register_run() -> None:
    """The estimate counts only the top-up the planned points leave missing."""
    from typer.testing import CliRunner

    from meterbench.cli import app
    from meterbench.plan.bench import BenchContext
    from meterbench.plan.expand import expand_files
    from meterbench.plan.model import BasicErrorStep, RegisterStep
    from meterbench.runner.schedule import plan_seconds

    meter_type = BENCHES.parents[2] / "bench_configs" / "meter_types" / "1p-class1-5-60a.toml"
    accumulate = expand_files(BENCHES / "plan-cheats-accumulate.toml", meter_type, BenchContext())
    plain = expand_files(BENCHES / "plan-cheats.toml", meter_type, BenchContext())
    register = next(
        s for s in accumulate.steps if isinstance(s, RegisterStep) and s.id == "register"
    )
    assert register.accumulate_over == ["basic_error", "std_dev"]
    assert plan_seconds(plain, False) == plan_seconds(accumulate, False)  # same plan in order
    saved = plan_seconds(accumulate, False) - plan_seconds(accumulate)
    points = [p for s in accumulate.steps if isinstance(s, BasicErrorStep) for p in s.points]
    delivered_kwh = sum(float(p.power_w) * float(p.time.max_s) for p in points) / 3.6e6
    assert saved == pytest.approx(delivered_kwh * 3.6e6 / float(register.power_w), rel=1e-4)
    assert plan_seconds(plain) == plan_seconds(plain, False)  # nothing asked, nothing saved
    result = CliRunner().invoke(
        app, ["plan", "show", str(BENCHES / "plan-cheats-accumulate.toml"), "-m", str(meter_type)]
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("scheduled measuring"))
    assert "register energy from the error points" in line and "(in plan order:" in line


def test_a_source_without_the_accumulator_gives_the_register_test_its_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reference standard that refuses REF:ACC cannot say what the error points delivered:
    the register test runs on its own, and the record says why."""
    from meterbench.devices.source import ScpiSource, SourceError

    async def refused(self: ScpiSource) -> None:
        raise SourceError('source refused REF:ACC:STAR: -113,"Undefined header"')

    monkeypatch.setattr(ScpiSource, "start_accumulation", refused)
    plan = _plan(tmp_path, "plan-cheats-accumulate.toml", LOW).read_text(encoding="utf-8")
    plan = plan.replace('[[items]]\ntype = "register_span"\n', "")
    (tmp_path / "plan.toml").write_text(plan, encoding="utf-8")
    db = tmp_path / "results.db"
    options = RunOptions(BENCHES / BENCH, tmp_path / "plan.toml", BENCHES / METERS, db=db)
    record = ResultsStore.open(db).load_run(virtual_loop.run(run_batch(options)))
    assert record.status == RunStatus.COMPLETED
    (note,) = [e for e in record.events if "cannot accumulate" in e.message]
    assert note.kind == "register_accumulation" and "runs on its own" in note.message
    for position in range(1, 7):
        register = _conclusion(record, position, "register")
        assert "accumulated" not in register.details and register.details["meter_pulses"] > 0
    for position in HONEST:
        assert _conclusion(record, position, "register").outcome == Outcome.PASS
