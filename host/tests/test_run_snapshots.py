"""What a run stores for its documents: the lab profile of its bench and one firmware line per
controller that names the runtime truthfully (a simulated controller runs on CPython)."""

from __future__ import annotations

from pathlib import Path

from meterbench.config.lab import lab_snapshot, load_lab
from meterbench.results import ResultsStore
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop

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
    run_id = virtual_loop.run(run_batch(RunOptions(bench, PLAN, meters, db=db)))
    with ResultsStore.open(db) as store:
        snapshots = store.snapshots(run_id)
    assert snapshots["lab"] == lab_snapshot(load_lab(lab))
    line = snapshots["firmware_versions"]["C1"]
    assert "simulated on CPython" in line and "MicroPython" not in line


def test_a_run_closed_on_a_bench_whose_lab_signs_is_signed(tmp_path: Path, db_location) -> None:
    """The runner signs the closed run's head with the lab's key; the signature is not part
    of the record's lab snapshot (the key file's place is no part of a record)."""
    from test_signed_records import make_lab

    from meterbench.config.lab import lab_public_key

    lab = make_lab(tmp_path)
    bench = tmp_path / "bench.toml"
    bench.write_text(f"lab = {str(lab)!r}\n" + BENCH.read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "meter_types").symlink_to(BENCHES / "meter_types")
    meters = tmp_path / "meters.csv"
    meters.write_text((BENCHES / "meters-3-bidirectional.csv").read_text("utf-8"), "utf-8")
    run_id = virtual_loop.run(run_batch(RunOptions(bench, PLAN, meters, db=db_location)))
    with ResultsStore.open(db_location, read_only=True) as store:
        result = store.verify_run(run_id, public_key=lab_public_key(lab))
        assert "signing" not in store.snapshots(run_id)["lab"]
    assert result.ok, result.summary()
    assert result.signatures.state == "signed"
    assert result.signatures.head is not None
    assert result.signatures.head.rows == result.chain.rows


def test_a_bench_whose_lab_key_is_missing_starts_nothing(tmp_path: Path) -> None:
    import pytest
    from test_signed_records import make_lab

    from meterbench.config.errors import ConfigError

    lab = make_lab(tmp_path)
    (tmp_path / "lab-signing.pem").unlink()
    bench = tmp_path / "bench.toml"
    bench.write_text(f"lab = {str(lab)!r}\n" + BENCH.read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "meter_types").symlink_to(BENCHES / "meter_types")
    meters = tmp_path / "meters.csv"
    meters.write_text((BENCHES / "meters-3-bidirectional.csv").read_text("utf-8"), "utf-8")
    db = tmp_path / "results.db"
    with pytest.raises(ConfigError, match="signing.key_file"):
        virtual_loop.run(run_batch(RunOptions(bench, PLAN, meters, db=db)))
    with ResultsStore.open(db, read_only=True) as store:
        assert store.list_runs() == []
