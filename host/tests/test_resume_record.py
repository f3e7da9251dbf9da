"""Resuming a record that cannot be resumed says what the record lacks, in one line, exit 2.

A record made by hand, by another program or by an older meterbench may lack the positions,
the snapshots or the file names a resumed run is rebuilt from; the operator reads which, and
the record is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterbench.cli import app
from meterbench.results import ResultsStore
from meterbench.results.sample import SNAPSHOTS, sample_run

RUN = "RUN-HAND"


def _resume(db: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["resume", RUN, "--db", str(db)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.strip().splitlines()


def test_a_record_without_positions_names_what_is_missing(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with ResultsStore.open(db) as store:
        store.create_run(sample_run(RUN), SNAPSHOTS)
        before = store.statuses(RUN)
    code, lines = _resume(db)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("meterbench: ") and f"run {RUN} cannot be resumed" in lines[0]
    assert "no positions" in lines[0], lines
    with ResultsStore.open(db, create=False) as store:  # refused at the door: nothing written
        assert store.statuses(RUN) == before and store.positions(RUN) == []


@pytest.mark.parametrize("missing", ["bench_config", "plan"])
def test_a_record_without_a_snapshot_names_it(tmp_path: Path, missing: str) -> None:
    db = tmp_path / "r.db"
    with ResultsStore.open(db) as store:
        store.create_run(sample_run(RUN), {k: v for k, v in SNAPSHOTS.items() if k != missing})
    code, lines = _resume(db)
    assert code == 2 and len(lines) == 1, lines
    assert f"no {missing} snapshot" in lines[0], lines


def test_a_stored_bench_config_that_does_not_validate_is_named(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with ResultsStore.open(db) as store:
        store.create_run(sample_run(RUN), SNAPSHOTS)  # the sample's bench config is a stub
    code, lines = _resume(db)
    assert code == 2 and len(lines) == 1, lines
    assert "bench_config snapshot" in lines[0] and "not a bench config" in lines[0], lines
