"""The anti-cheat items' rules apart from a bench: the whole-run register judgement, where the
two ends of the check go in a plan, and how unannounced loads are drawn."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from meterbench.config.errors import ConfigError
from meterbench.kinds.electricity.items.unannounced import draw_load
from meterbench.plan.expand import expand_files
from meterbench.plan.model import RegisterSpanStep, UnannouncedStep
from meterbench.regulations.register import SpanJudgement, register_span_judgement

REPO = Path(__file__).resolve().parents[2]
METER = REPO / "bench_configs" / "meter_types" / "1p-class1-5-60a.toml"
BIDIRECTIONAL = REPO / "bench_configs" / "meter_types" / "1p-class2-5-60a-bidirectional.toml"
D = Decimal


def _judge(advance: str, reference: str) -> SpanJudgement:
    return register_span_judgement(
        D(advance), D(reference), D(1), D("0.01"), D(1), D("0.5"), D("0.01")
    )


def test_whole_run_limit_is_the_mpe_widened_by_the_reading_quantisation() -> None:
    judged = register_span_judgement(
        D("10.12"), D("10"), D(1), D("0.01"), D(1), D("0.5"), D("0.01")
    )
    assert judged.judged and judged.rounded == D("1.20") and judged.limit_pct == D("1.1")
    assert not judged.passed
    honest = register_span_judgement(
        D("10.10"), D("10"), D(1), D("0.01"), D(1), D("0.5"), D("0.01")
    )
    assert honest.passed and honest.rounded == D("1.00")


def test_too_little_energy_is_not_judged_and_no_energy_allows_one_digit() -> None:
    short = _judge("1.50", "1.0")  # one digit is 1 % of 1 kWh: more than half the MPE
    assert not short.judged and short.passed and short.rounded is None
    idle = _judge("0.01", "0")
    assert idle.passed and not idle.judged
    crept = _judge("0.03", "0")  # the register moved with no energy in its direction
    assert not crept.passed and crept.judged


def _plan(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(
        '[plan]\nid = "p"\ntitle = "p"\nregulation = "jjg596-2012"\nverification = "initial"\n'
        'kind = "electricity"\n' + body,
        encoding="utf-8",
    )
    return path


def test_the_whole_run_check_opens_and_closes_the_run_wherever_it_is_planned(
    tmp_path: Path,
) -> None:
    plan = _plan(
        tmp_path,
        '[[items]]\ntype = "creep"\n[[items]]\ntype = "register_span"\n'
        '[[items]]\ntype = "register"\n',
    )
    steps = expand_files(plan, METER).steps
    assert isinstance(steps[0], RegisterSpanStep) and steps[0].part == "start"
    assert isinstance(steps[-1], RegisterSpanStep) and steps[-1].part == "end"
    assert [s.planned()[0].key for s in (steps[0], steps[-1])] == [
        "register_span/start",
        "register_span/end",
    ]
    assert steps[0].directions == ["P+"] and steps[0].limits.mpe == D(1)
    assert "register_span.limit" in steps[0].unconfirmed  # provenance carried into the plan
    both = expand_files(plan, BIDIRECTIONAL).steps[0]
    assert isinstance(both, RegisterSpanStep) and both.directions == ["P+", "P-"]


def test_unannounced_points_plan_only_the_range(tmp_path: Path) -> None:
    plan = _plan(tmp_path, '[[items]]\ntype = "unannounced"\npoints = 3\n')
    steps = expand_files(plan, METER).steps
    assert [s.planned()[0].key for s in steps] == [f"unannounced/{n}" for n in (1, 2, 3)]
    first = steps[0]
    assert isinstance(first, UnannouncedStep)
    assert (first.current_low_a, first.current_high_a) == (D("0.5"), D(60))
    assert first.seed is None and first.pfs == ["1.0", "0.5L", "0.8C"]
    bad = _plan(tmp_path, '[[items]]\ntype = "unannounced"\ncurrent_low = "2Imax"\n')
    with pytest.raises(ConfigError, match="current_low"):
        expand_files(bad, METER)


def test_draws_are_repeatable_from_their_seed_and_stay_inside_the_range(tmp_path: Path) -> None:
    plan = _plan(tmp_path, '[[items]]\ntype = "unannounced"\npoints = 1\nreverse = true\n')
    step = expand_files(plan, BIDIRECTIONAL).steps[0]
    assert isinstance(step, UnannouncedStep) and step.directions == ["P+", "P-"]
    draws = [draw_load(random.Random(f"run-a/{n}"), step, 5.0) for n in range(200)]
    again = [draw_load(random.Random(f"run-a/{n}"), step, 5.0) for n in range(200)]
    other = [draw_load(random.Random(f"run-b/{n}"), step, 5.0) for n in range(200)]
    assert draws == again and draws != other
    ratios = [float(c.removesuffix("Ib")) for c, _, _ in draws]
    assert min(ratios) >= 0.1 and max(ratios) <= 12
    assert min(ratios) < 0.3 and max(ratios) > 5  # log-uniform: both ends get points
    assert {pf for _, pf, _ in draws} == {"1.0", "0.5L", "0.8C"}
    assert {d for _, _, d in draws} == {"P+", "P-"}
