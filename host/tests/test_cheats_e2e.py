"""Meters built to cheat, end to end on the seeded simulated bench: each is caught by the item
that looks where it cheats, with a reason naming why, and only its meter fails; the honest
meters pass every item. Also: on reverse points the reverse register moves, the forward one
does not, and the whole-run register check judges each direction on its own energy."""

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
from meterbench.sim import virtual_loop

BENCHES = Path(__file__).resolve().parent / "benches"
HONEST = (1, 6)
REGISTER_LOW_IB, REGISTER_ONLY_05L, REGISTER_FAST, EXACT_AT_POINTS = 2, 3, 4, 5


def _run(tmp: Path, bench: str, plan: str, meters: str) -> Any:
    db = tmp / "results.db"
    options = RunOptions(BENCHES / bench, BENCHES / plan, BENCHES / meters, db=db)
    run_id = virtual_loop.run(run_batch(options))
    return ResultsStore.open(db).load_run(run_id)


@pytest.fixture(scope="module")
def cheats(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _run(
        tmp_path_factory.mktemp("cheats"),
        "runner-1p-6-cheats.toml",
        "plan-cheats.toml",
        "meters-6-cheats.csv",
    )


def _mpe(record: Any) -> dict[tuple[int, str], Any]:
    return {(c.position, c.step_key): c for c in record.conclusions if c.limit_kind.value == "mpe"}


def _failed(record: Any, position: int) -> set[str]:
    return {k for (p, k), c in _mpe(record).items() if p == position and c.outcome != Outcome.PASS}


def test_honest_meters_pass_every_item(cheats: Any) -> None:
    assert cheats.status == RunStatus.COMPLETED
    steps = {k for _, k in _mpe(cheats)}
    assert {"register_span/start", "register_span/end", "register", "register_low"} <= steps
    assert {f"unannounced/{n}" for n in range(1, 5)} <= steps
    for position in HONEST:
        assert _failed(cheats, position) == set(), position


def test_register_fast_only_up_to_ib_fails_the_low_register_test_and_the_whole_run(
    cheats: Any,
) -> None:
    done = _mpe(cheats)
    assert _failed(cheats, REGISTER_LOW_IB) == {"register_low", "register_span/end"}
    assert "ahead of its pulses" in done[REGISTER_LOW_IB, "register_low"].reason
    span = done[REGISTER_LOW_IB, "register_span/end"]
    assert "forward register" in span.reason and "whole run" in span.reason
    assert span.rounded > span.upper  # beyond MPE + quantisation
    assert done[REGISTER_LOW_IB, "register"].outcome == Outcome.PASS  # Imax: honest


def test_register_fast_only_at_pf_05l_is_caught_the_same_way(cheats: Any) -> None:
    done = _mpe(cheats)
    assert _failed(cheats, REGISTER_ONLY_05L) == {"register_low", "register_span/end"}
    assert "ahead of its pulses" in done[REGISTER_ONLY_05L, "register_low"].reason
    assert done[REGISTER_ONLY_05L, "basic_error/P+/all/Ib/0.5L"].outcome == Outcome.PASS


def test_register_half_a_percent_fast_with_honest_pulses_runs_ahead_of_its_pulses(
    cheats: Any,
) -> None:
    done = _mpe(cheats)
    # within the MPE against the reference, but ahead of the meter's own test output
    assert _failed(cheats, REGISTER_FAST) == {"register_low"}
    low = done[REGISTER_FAST, "register_low"]
    assert abs(low.rounded) < low.upper and "ahead of its pulses" in low.reason
    # against its own pulses: 0.5 % give or take one register digit (0.01 kWh) of the advance
    digit_pct = 0.01 / float(low.details["register_advance_kwh"]) * 100
    assert abs(float(low.details["vs_pulses_pct"]) - 0.5) <= digit_pct + 0.01


def test_meter_exact_only_at_the_plans_points_fails_the_unannounced_points(cheats: Any) -> None:
    done = _mpe(cheats)
    failed = _failed(cheats, EXACT_AT_POINTS)
    assert failed and all(k.startswith("unannounced/") for k in failed)
    for key in failed:
        conclusion = done[EXACT_AT_POINTS, key]
        assert conclusion.rounded == 3 and "beyond" in conclusion.reason
        load = conclusion.details["load"]  # the drawn load is in the record
        assert load["direction"] == "P+" and load["current"].endswith("Ib")
    basic = [k for (p, k) in done if p == EXACT_AT_POINTS and k.startswith("basic_error/")]
    assert len(basic) == 4 and not any(k in failed for k in basic)
    drawn = [e.message for e in cheats.events if e.kind == "unannounced"]
    assert len(drawn) == 4 and all("PF" in m for m in drawn)


@pytest.fixture(scope="module")
def reverse(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _run(
        tmp_path_factory.mktemp("reverse"),
        "runner-1p-3-bidirectional.toml",
        "plan-reverse-registers.toml",
        "meters-3-bidirectional.csv",
    )


def test_reverse_points_move_the_reverse_register_only(reverse: Any) -> None:
    assert reverse.status == RunStatus.COMPLETED
    done = _mpe(reverse)
    for position in (1, 2, 3):
        span = done[position, "register_span/end"].details
        assert span["forward"]["register_advance_kwh"] == "0.00"
        assert span["forward"]["reference_energy_kwh"] == "0"
        reverse_kwh = float(span["reverse"]["reference_energy_kwh"])
        assert reverse_kwh > 1.0  # over a hundred register digits
        assert float(span["reverse"]["register_advance_kwh"]) == pytest.approx(
            reverse_kwh, rel=0.05
        )
    # position 2 registers reverse energy 3 % fast: the reverse register says so over the run
    assert done[2, "register_span/end"].outcome == Outcome.FAIL
    assert "reverse register" in done[2, "register_span/end"].reason
    assert done[1, "register_span/end"].outcome == Outcome.PASS
    assert done[3, "register_span/end"].outcome == Outcome.PASS


def test_a_resumed_run_does_not_judge_registers_on_a_lost_accumulation(tmp_path: Path) -> None:
    """Killed after the start readings, the run resumes with a source driver that never
    started the accumulator: the whole-run check says so instead of judging half a run."""
    meterbench = str(Path(sys.executable).with_name("meterbench"))
    db = tmp_path / "results.db"
    args = [
        meterbench,
        "run",
        "--plain",
        "--bench",
        str(BENCHES / "runner-1p-3-bidirectional.toml"),
        "--plan",
        str(BENCHES / "plan-reverse-registers.toml"),
        "--meters",
        str(BENCHES / "meters-3-bidirectional.csv"),
        "--db",
        str(db),
    ]
    env = {**os.environ, "METERBENCH_TEST_KILL_AFTER": "reading:4"}  # a first error reading
    killed = subprocess.run(args, env=env, capture_output=True, timeout=900, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    with ResultsStore.open(db) as store:
        (summary,) = store.list_runs()
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
    for position in (1, 2, 3):
        end = _mpe(record)[position, "register_span/end"]
        assert end.outcome == Outcome.NO_RESULT
        assert "resumed" in (end.reason or "")
