"""Schema version 1: the run record tables, chained per run by (seq, prev_hash, row_hash).

Portable DDL only (TEXT and INTEGER columns, composite keys, foreign keys): the same statements
build the schema in SQLite and in PostgreSQL. Decimals are TEXT so they stay exact; JSON is
canonical TEXT so the stored bytes are the hashed bytes.
"""

from __future__ import annotations

DESCRIPTION = "run records: run, status, snapshots, positions, steps, readings, conclusions"

_CHAIN = """
    seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    UNIQUE (run_id, seq)"""

_RUN_FK = "FOREIGN KEY (run_id) REFERENCES run (run_id)"

STATEMENTS: tuple[str, ...] = (
    f"""CREATE TABLE run (
    run_id TEXT NOT NULL PRIMARY KEY,
    started_at TEXT NOT NULL,
    bench_name TEXT NOT NULL,
    plan_name TEXT NOT NULL,
    regulation TEXT NOT NULL,
    regulation_version TEXT,
    software_version TEXT NOT NULL,
    verifier TEXT,
    checker TEXT,
    task TEXT,
    temperature_c TEXT,
    humidity_pct TEXT,
    place TEXT,
    extra TEXT NOT NULL,
    {_CHAIN},
    CHECK (seq = 0)
)""",
    f"""CREATE TABLE run_status (
    run_id TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    reason TEXT,
    {_CHAIN},
    PRIMARY KEY (run_id, status, recorded_at),
    {_RUN_FK}
)""",
    f"""CREATE TABLE snapshot (
    run_id TEXT NOT NULL,
    snapshot_name TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    content TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, snapshot_name),
    {_RUN_FK}
)""",
    f"""CREATE TABLE meter_position (
    run_id TEXT NOT NULL,
    position_no INTEGER NOT NULL,
    meter_type TEXT NOT NULL,
    serial_no TEXT,
    asset_no TEXT,
    address TEXT,
    customer TEXT,
    retest_of TEXT,
    nameplate TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, position_no),
    {_RUN_FK}
)""",
    f"""CREATE TABLE step (
    run_id TEXT NOT NULL,
    step_key TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    item_kind TEXT NOT NULL,
    point_key TEXT NOT NULL,
    parameters TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, step_key),
    {_RUN_FK}
)""",
    f"""CREATE TABLE reading (
    run_id TEXT NOT NULL,
    position_no INTEGER NOT NULL,
    step_key TEXT NOT NULL,
    reading_index INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    raw_counts TEXT NOT NULL,
    result_value TEXT,
    unit TEXT NOT NULL,
    status TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, position_no, step_key, reading_index, attempt),
    FOREIGN KEY (run_id, position_no) REFERENCES meter_position (run_id, position_no),
    FOREIGN KEY (run_id, step_key) REFERENCES step (run_id, step_key)
)""",
    f"""CREATE TABLE conclusion (
    run_id TEXT NOT NULL,
    position_no INTEGER NOT NULL,
    step_key TEXT NOT NULL,
    limit_kind TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    mean_value TEXT,
    rounded_value TEXT,
    lower_limit TEXT,
    upper_limit TEXT,
    unit TEXT NOT NULL,
    reason TEXT,
    details TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, position_no, step_key, limit_kind),
    FOREIGN KEY (run_id, position_no) REFERENCES meter_position (run_id, position_no),
    FOREIGN KEY (run_id, step_key) REFERENCES step (run_id, step_key)
)""",
    f"""CREATE TABLE run_event (
    run_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    severity TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    position_no INTEGER,
    step_key TEXT,
    trace TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, event_key),
    {_RUN_FK}
)""",
    f"""CREATE TABLE batch_statistic (
    run_id TEXT NOT NULL,
    meter_type TEXT NOT NULL,
    step_key TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    n INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    mean_value TEXT,
    std_value TEXT,
    min_value TEXT,
    max_value TEXT,
    unit TEXT NOT NULL,
    members TEXT NOT NULL,
    {_CHAIN},
    PRIMARY KEY (run_id, meter_type, step_key),
    FOREIGN KEY (run_id, step_key) REFERENCES step (run_id, step_key)
)""",
)
