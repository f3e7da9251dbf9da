"""What a run stores for its documents: the lab profile of its bench and one firmware line per
controller that names the runtime truthfully (a simulated controller runs on CPython)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from meterbench.config.lab import lab_snapshot, load_lab
from meterbench.results import ResultsStore
from meterbench.runner.engine import RunOptions, run_batch

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH = BENCHES / "runner-1p-3-bidirectional.toml"
PLAN = BENCHES / "plan-reverse.toml"


def test_a_run_snapshots_the_lab_profile_and_names_the_simulated_runtime(tmp_path: Path) -> None:
    """The documents read the lab and the firmware lines from the record alone."""
    lab = Path(__file__).resolve().parents[2] / "bench_configs" / "labs" / "example-lab.toml"
    bench = tmp_path / "bench.toml"
    bench.write_text(f"lab = {str(lab)!r}\n" + BENCH.read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "meter_types").symlink_to(BENCHES / "meter_types")
    meters = tmp_path / "meters.csv"
    meters.write_text((BENCHES / "meters-3-bidirectional.csv").read_text("utf-8"), "utf-8")
    db = tmp_path / "results.db"
    run_id = asyncio.run(run_batch(RunOptions(bench, PLAN, meters, db=db)))
    with ResultsStore.open(db) as store:
        snapshots = store.snapshots(run_id)
    assert snapshots["lab"] == lab_snapshot(load_lab(lab))
    line = snapshots["firmware_versions"]["C1"]
    assert "simulated on CPython" in line and "MicroPython" not in line
