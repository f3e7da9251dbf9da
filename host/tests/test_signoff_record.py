"""Sign-off rows: the one kind of row a completed run takes after it closed, chained like
every other; an open or aborted run takes none, and after a sign-off a completed run still
takes no other row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from meterbench.results import (
    ClosedRunError,
    Event,
    ResultsStore,
    RunStatus,
    Severity,
    Signoff,
)
from meterbench.results.errors import SignoffNotAllowedError
from meterbench.results.sample import START, store_sample_run


def _signoff(run_id: str, stage: str = "check") -> Signoff:
    return Signoff(
        run_id=run_id, stage=stage, at=START + timedelta(hours=2), username="chen", name="Chen"
    )


def test_a_completed_run_takes_sign_offs_and_its_chain_verifies(tmp_path: Path) -> None:
    with ResultsStore.open(tmp_path / "r.db") as store:
        run = store_sample_run(store)  # completed
        before = store.final_hash(run.run_id)
        assert store.append(_signoff(run.run_id), _signoff(run.run_id, "approve")) == 2
        assert store.append(_signoff(run.run_id)) == 0  # the same row again: a replay
        report = store.verify_chain(run.run_id, store.final_hash(run.run_id))
        assert report.ok and store.final_hash(run.run_id) != before
        assert [s.stage for s in store.load_run(run.run_id).signoffs] == ["check", "approve"]
        with pytest.raises(ClosedRunError):
            store.append(
                Event(
                    run_id=run.run_id,
                    at=START + timedelta(hours=3),
                    severity=Severity.INFO,
                    kind="note",
                    message="late",
                )
            )


@pytest.mark.parametrize("status", [None, RunStatus.ABORTED])
def test_only_a_completed_run_is_signed_off(tmp_path: Path, status: RunStatus | None) -> None:
    with ResultsStore.open(tmp_path / "r.db") as store:
        run = store_sample_run(store, close=False)
        if status is not None:
            store.set_status(run.run_id, status, START + timedelta(hours=1))
        with pytest.raises(SignoffNotAllowedError, match="only a completed run"):
            store.append(_signoff(run.run_id))


def test_a_stage_is_check_or_approve() -> None:
    with pytest.raises(ValueError, match="check, approve"):
        _signoff("RUN-1", "rubber-stamp")
