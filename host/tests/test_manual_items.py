"""Manual items, the recording side: `meterbench record` appends a named verifier's outcome to
the run's hash chain (one position, several, or all), refuses what does not fit with one line
and exit status 2 storing nothing, and a certificate is not issued while a mandatory manual
item is missing."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterbench.cli import app
from meterbench.reports import load_context
from meterbench.reports.certificate import build_certificate
from meterbench.reports.errors import ManualItemMissingError
from meterbench.reports.render import certificate_documents
from meterbench.results import ManualResult, Outcome, ResultsStore, RunStatus
from meterbench.results.sample import START

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import SNAPSHOTS_FULL, store_run  # noqa: E402

RUN = "RUN-M"
PLAN = {
    "DDZY-1": {
        "steps": [
            {
                "type": "manual",
                "id": "visual",
                "item": "visual",
                "title": "外观检查",
                "mandatory": True,
            },
            {
                "type": "manual",
                "id": "ac_voltage",
                "item": "ac_voltage",
                "title": "交流电压试验",
                "mandatory": False,
            },
        ]
    }
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "results.db"
    with ResultsStore.open(path) as store:
        store_run(store, RUN, {**SNAPSHOTS_FULL, "plan": PLAN}, close=False)
    return path


def _invoke(db: Path, *args: str):
    return CliRunner().invoke(app, ["record", RUN, *args, "--db", str(db)])


def test_record_one_position_then_all_and_the_chain_holds(db: Path) -> None:
    result = _invoke(
        db,
        "--item",
        "visual",
        "--position",
        "2",
        "--fail",
        "--note",
        "封印破损",
        "--verifier",
        "李伟",
    )
    assert result.exit_code == 0, result.output
    assert "position 2: visual fail (李伟)" in result.output
    result = _invoke(db, "--item", "ac_voltage", "--all", "--pass")
    assert result.exit_code == 0, result.output
    with ResultsStore.open(db, create=False) as store:
        record = store.load_run(RUN)
        assert store.verify_chain(RUN).ok
    stored = {(m.position, m.item): m for m in record.manual_results}
    visual = stored[(2, "visual")]
    assert (visual.outcome, visual.verifier, visual.note) == (Outcome.FAIL, "李伟", "封印破损")
    assert stored[(1, "ac_voltage")].verifier == "Li Wei"  # the run's verifier by default
    assert {p for p, item in stored if item == "ac_voltage"} == {1, 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--item", "visual", "--position", "9", "--pass"], "no position 9"),
        (["--item", "tightness", "--position", "1", "--pass"], "no manual item 'tightness'"),
        (["--item", "visual", "--position", "1"], "--pass or --fail"),
        (["--item", "visual", "--pass"], "--position N"),
        (["--item", "visual", "--all", "--position", "1", "--pass"], "--position N"),
    ],
)
def test_bad_requests_are_one_line_exit_2_and_store_nothing(
    db: Path, args: list[str], message: str
) -> None:
    result = _invoke(db, *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    with ResultsStore.open(db, create=False) as store:
        assert store.load_run(RUN).manual_results == ()


def test_a_closed_run_takes_no_more_entries(db: Path) -> None:
    with ResultsStore.open(db, create=False) as store:
        store.set_status(RUN, RunStatus.COMPLETED, START + timedelta(hours=1))
    result = _invoke(db, "--item", "visual", "--position", "1", "--pass")
    assert result.exit_code == 2, result.output
    assert "completed" in result.output and len(result.output.strip().splitlines()) == 1


def test_no_certificate_while_a_mandatory_item_is_missing(db: Path) -> None:
    with ResultsStore.open(db, create=False) as store:
        store.set_status(RUN, RunStatus.COMPLETED, START + timedelta(hours=1))
        ctx = load_context(store, RUN)
    meter = ctx.meter("SN0001")
    assert meter.missing_manual == ("visual",)
    with pytest.raises(ManualItemMissingError) as caught:
        build_certificate(ctx, meter)
    line = str(caught.value)
    assert "visual" in line and "position 1" in line and "\n" not in line
    docs, skipped = certificate_documents(ctx)
    assert any("visual" in s and "position 1" in s for s in skipped)
    # the failed meter still gets its result notice: the missing item cannot make it pass
    assert [d.title.split(" ")[0] for d in docs] == ["检定结果通知书"]


def test_a_recorded_item_lets_the_certificate_issue_and_a_failed_one_fails_the_meter(
    tmp_path: Path,
) -> None:
    path = tmp_path / "results.db"
    at = START + timedelta(minutes=50)
    with ResultsStore.open(path) as store:
        store_run(store, RUN, {**SNAPSHOTS_FULL, "plan": PLAN}, close=False)
        store.append(
            ManualResult(
                run_id=RUN, position=1, item="visual", at=at, outcome=Outcome.PASS, verifier="李伟"
            ),
            ManualResult(
                run_id=RUN, position=2, item="visual", at=at, outcome=Outcome.PASS, verifier="李伟"
            ),
            ManualResult(
                run_id=RUN,
                position=1,
                item="ac_voltage",
                at=at,
                outcome=Outcome.FAIL,
                verifier="李伟",
                note="击穿",
            ),
        )
        store.set_status(RUN, RunStatus.COMPLETED, START + timedelta(hours=1))
        ctx = load_context(store, RUN)
    meter = ctx.meter("SN0001")
    assert meter.verdict() is Outcome.FAIL  # the AC voltage test failed
    notice = build_certificate(ctx, meter).text()
    assert "交流电压试验" in notice and "击穿" in notice and "外观检查" in notice
