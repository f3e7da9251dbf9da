"""A run rebuilt from its record plans the same steps in the same order as the fresh run.

The stored snapshot gives the plan expansions back keyed in sorted order; the order of the
steps must come from the meter list, or a resumed run with two meter types runs its steps in
another order and its record refuses them ("already stored with different ordinal").
"""

from __future__ import annotations

import json
from pathlib import Path

from meterbench.config.meter_types import ElectricityMeterType, load_meter_type
from meterbench.plan.model import PlanExpansion
from meterbench.runner.engine import RunOptions, planned_steps, prepare
from meterbench.runner.meters import MeterEntry
from meterbench.runner.recorded import meter_type_from_record

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "bench_configs"


def _single_phase_electricity(name: str) -> bool:
    meter_type = load_meter_type(CONFIGS / "meter_types" / f"{name}.toml")
    return isinstance(meter_type, ElectricityMeterType) and meter_type.wiring == "1p"


def _two_types(tmp_path: Path) -> RunOptions:
    """The demo bench with a second meter type (sorting after the first) on some positions."""
    lines = (CONFIGS / "meters" / "sim-1p-24.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    first = rows[0].split(",")[1]
    types = sorted(p.stem for p in (CONFIGS / "meter_types").glob("*.toml"))
    other = next(t for t in types if t != first and _single_phase_electricity(t))
    # the type that sorts later is on the first positions, so sorted keys reverse the order
    late, early = max(first, other), min(first, other)
    out = [header]
    for i, row in enumerate(rows):
        cells = row.split(",")
        cells[1] = late if i < len(rows) // 2 else early
        out.append(",".join(cells))
    meters = tmp_path / "meters.csv"
    meters.write_text("\n".join(out) + "\n", encoding="utf-8")
    for name in (late, early):
        (tmp_path / f"{name}.toml").write_text(
            (CONFIGS / "meter_types" / f"{name}.toml").read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    return RunOptions(
        CONFIGS / "sim-1p-24.toml", CONFIGS / "plans" / "jjg596-2012-initial.toml", meters
    )


def test_steps_from_the_snapshot_keep_the_fresh_order(tmp_path: Path) -> None:
    prepared = prepare(_two_types(tmp_path))
    assert len(prepared.expansions) == 2
    fresh = [
        (s.key, s.ordinal, s.positions) for s in planned_steps(prepared.expansions, prepared.meters)
    ]
    stored = {
        k: PlanExpansion.model_validate(json.loads(json.dumps(v.to_json_dict())))
        for k, v in sorted(prepared.expansions.items())
    }
    meters = [
        MeterEntry(
            m.position,
            m.type_id,
            Path(f"{m.type_id}.toml"),
            meter_type_from_record(
                m.position, json.loads(m.meter_type.model_dump_json(by_alias=True))
            ),
            m.serial,
            m.asset,
            m.address,
        )
        for m in prepared.meters
    ]
    again = [(s.key, s.ordinal, s.positions) for s in planned_steps(stored, meters)]
    assert again == fresh
