"""A plan with manual items (visual inspection) runs: the runner leaves them to people.

Manual steps are expanded into the plan (reports and certificates need them) but no
executor exists for them; the runner must skip them instead of refusing the plan.
"""

from __future__ import annotations

from pathlib import Path

from meterbench.runner.engine import RunOptions, planned_steps, prepare

BENCHES = Path(__file__).resolve().parent / "benches"


def test_a_plan_with_a_visual_inspection_is_accepted_and_the_runner_skips_it() -> None:
    options = RunOptions(
        BENCHES / "runner-1p-8.toml", BENCHES / "plan-web.toml", BENCHES / "meters-8.csv"
    )
    prepared = prepare(options)
    expansion = next(iter(prepared.expansions.values()))
    assert any(step.type == "manual" for step in expansion.steps)  # kept for the documents
    executed = planned_steps(prepared.expansions, prepared.meters)
    assert [s.item for s in executed] == ["basic_error", "basic_error"]
