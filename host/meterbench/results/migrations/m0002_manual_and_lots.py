"""Schema version 2: manual item results, lot statistics and lot verdicts, and the lot of
each position.

The new ``meter_position.lot`` column is NULL for older rows, and NULL columns are left out of
the row hash, so every run recorded under version 1 still verifies unchanged.
"""

from __future__ import annotations

DESCRIPTION = "manual item results, lot statistics and verdicts, position lot"

_CHAIN = """
    seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    UNIQUE (run_id, seq)"""

_RUN_FK = "FOREIGN KEY (run_id) REFERENCES run (run_id)"

STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE meter_position ADD COLUMN lot TEXT",
    f"""CREATE TABLE manual_result (
    run_id TEXT NOT NULL,
    position_no INTEGER NOT NULL,
    item_kind TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    verifier TEXT NOT NULL,
    note TEXT,
    {_CHAIN},
    PRIMARY KEY (run_id, position_no, item_kind, recorded_at),
    FOREIGN KEY (run_id, position_no) REFERENCES meter_position (run_id, position_no)
)""",
    f"""CREATE TABLE lot_statistic (
    run_id TEXT NOT NULL,
    lot TEXT NOT NULL,
    meter_type TEXT NOT NULL,
    point_key TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    n INTEGER NOT NULL,
    n_all INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    counted INTEGER NOT NULL,
    mean_value TEXT,
    rounded_value TEXT,
    mean_all_value TEXT,
    unit TEXT NOT NULL,
    runs TEXT NOT NULL,
    members TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, lot, meter_type, point_key),
    {_RUN_FK}
)""",
    f"""CREATE TABLE lot_verdict (
    run_id TEXT NOT NULL,
    lot TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    consequence TEXT NOT NULL,
    failed_points TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, lot),
    {_RUN_FK}
)""",
)
