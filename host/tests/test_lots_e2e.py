"""Lots end to end: two runs of one lot on the simulated bench; the lot statistics the second
run stores equal a direct computation over the accepted meters of both runs, and the meter
rejected for its reverse error does not move the lot's figures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from meterbench.results import LimitKind, Outcome, ResultsStore
from meterbench.runner.engine import RunOptions, run_batch
from meterbench.sim import virtual_loop

BENCHES = Path(__file__).resolve().parent / "benches"
BENCH = BENCHES / "runner-1p-3-bidirectional.toml"
PLAN = BENCHES / "plan-reverse.toml"
TYPE = "1p-class2-5-60a-bidirectional"


def _meters(path: Path, prefix: str) -> Path:
    rows = "".join(f"{p},{TYPE},{prefix}{p},10000000000{p},LOT-9\n" for p in (1, 2, 3))
    path.write_text("position,type,serial,address,lot\n" + rows, encoding="utf-8")
    return path


def test_lot_statistics_equal_a_direct_computation_over_accepted_meters(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    (tmp_path / "meter_types").symlink_to(BENCHES / "meter_types")  # types sit beside the list
    runs = []
    for prefix in ("A", "B"):
        meters = _meters(tmp_path / f"meters-{prefix}.csv", prefix)
        runs.append(virtual_loop.run(run_batch(RunOptions(BENCH, PLAN, meters, db=db))))
    with ResultsStore.open(db) as store:
        records = [store.load_run(r) for r in runs]
    assert all(p.lot == "LOT-9" for r in records for p in r.positions)
    expected: dict[str, list[Fraction]] = {}
    everyone: dict[str, list[Fraction]] = {}
    for record in records:
        mpe = [c for c in record.conclusions if c.limit_kind is LimitKind.MPE]
        rejected = {c.position for c in mpe if c.outcome is not Outcome.PASS}
        assert rejected == {2}  # wrong only in reverse
        for c in mpe:
            if c.step_key.startswith("basic_error/"):
                assert c.mean is not None
                everyone.setdefault(c.step_key, []).append(Fraction(c.mean))
                if c.position not in rejected:
                    expected.setdefault(c.step_key, []).append(Fraction(c.mean))
    stored = {s.point: s for s in records[1].lot_statistics}
    assert set(stored) == set(expected)
    for point, means in expected.items():
        stat = stored[point]
        assert stat.n == len(means) == 4 and stat.n_all == 6
        assert stat.mean is not None and stat.mean_all is not None
        assert abs(Fraction(stat.mean) - sum(means) / len(means)) < Fraction(1, 10**6)
        all_mean = sum(everyone[point]) / len(everyone[point])
        assert abs(Fraction(stat.mean_all) - all_mean) < Fraction(1, 10**6)
    reverse = stored["basic_error/P-/all/Ib/1.0"]
    assert (
        reverse.mean_all is not None and reverse.mean_all > 0 and reverse.verdict is Outcome.PASS
    )  # the rejected meter is out
    (verdict,) = records[1].lot_verdicts
    assert verdict.lot == "LOT-9" and verdict.verdict is Outcome.PASS
    assert all(set(s.runs) == set(runs) for s in records[1].lot_statistics)
    first = {s.point: s for s in records[0].lot_statistics}
    assert first["basic_error/P-/all/Ib/1.0"].n == 2  # the first run saw only its own meters
