"""The stored tables as data: names, content columns, natural keys, in chain order.

This describes the *current* schema for the code that reads and writes rows; the DDL that
builds it lives in numbered migrations (`migrations/`), which never change once released.
Every chained table also has ``seq`` (per-run sequence number), ``prev_hash`` and
``row_hash``. Values are only TEXT or INTEGER, so SQLite and PostgreSQL store them alike.
"""

from __future__ import annotations

from dataclasses import dataclass

CHAIN_COLUMNS = ("seq", "prev_hash", "row_hash")
SCHEMA_TABLE = "meterbench_schema"


@dataclass(frozen=True, slots=True)
class Table:
    """One chained table: its content columns (hashed) and the natural key (idempotency)."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    def __post_init__(self) -> None:
        assert set(self.key) <= set(self.columns), self.name


RUN = Table(
    "run",
    columns=(
        "run_id",
        "started_at",
        "bench_name",
        "plan_name",
        "regulation",
        "regulation_version",
        "software_version",
        "verifier",
        "checker",
        "task",
        "temperature_c",
        "humidity_pct",
        "place",
        "extra",
    ),
    key=("run_id",),
)
RUN_STATUS = Table(
    "run_status",
    columns=("run_id", "status", "recorded_at", "reason"),
    key=("run_id", "status", "recorded_at"),
)
SNAPSHOT = Table(
    "snapshot",
    columns=("run_id", "snapshot_name", "recorded_at", "content"),
    key=("run_id", "snapshot_name"),
)
POSITION = Table(
    "meter_position",
    columns=(
        "run_id",
        "position_no",
        "meter_type",
        "serial_no",
        "asset_no",
        "address",
        "customer",
        "retest_of",
        "nameplate",
        "lot",
    ),
    key=("run_id", "position_no"),
)
STEP = Table(
    "step",
    columns=("run_id", "step_key", "ordinal", "item_kind", "point_key", "parameters"),
    key=("run_id", "step_key"),
)
READING = Table(
    "reading",
    columns=(
        "run_id",
        "position_no",
        "step_key",
        "reading_index",
        "attempt",
        "recorded_at",
        "raw_counts",
        "result_value",
        "unit",
        "status",
    ),
    key=("run_id", "position_no", "step_key", "reading_index", "attempt"),
)
CONCLUSION = Table(
    "conclusion",
    columns=(
        "run_id",
        "position_no",
        "step_key",
        "limit_kind",
        "recorded_at",
        "outcome",
        "mean_value",
        "rounded_value",
        "lower_limit",
        "upper_limit",
        "unit",
        "reason",
        "details",
    ),
    key=("run_id", "position_no", "step_key", "limit_kind"),
)
EVENT = Table(
    "run_event",
    columns=(
        "run_id",
        "event_key",
        "recorded_at",
        "severity",
        "kind",
        "message",
        "position_no",
        "step_key",
        "trace",
    ),
    key=("run_id", "event_key"),
)
BATCH_STATISTIC = Table(
    "batch_statistic",
    columns=(
        "run_id",
        "meter_type",
        "step_key",
        "recorded_at",
        "n",
        "verdict",
        "mean_value",
        "std_value",
        "min_value",
        "max_value",
        "unit",
        "members",
    ),
    key=("run_id", "meter_type", "step_key"),
)
MANUAL_RESULT = Table(
    "manual_result",
    columns=(
        "run_id",
        "position_no",
        "item_kind",
        "recorded_at",
        "outcome",
        "verifier",
        "note",
    ),
    key=("run_id", "position_no", "item_kind", "recorded_at"),
)
LOT_STATISTIC = Table(
    "lot_statistic",
    columns=(
        "run_id",
        "lot",
        "meter_type",
        "point_key",
        "recorded_at",
        "n",
        "n_all",
        "verdict",
        "counted",
        "mean_value",
        "rounded_value",
        "mean_all_value",
        "unit",
        "runs",
        "members",
    ),
    key=("run_id", "lot", "meter_type", "point_key"),
)
LOT_VERDICT = Table(
    "lot_verdict",
    columns=("run_id", "lot", "recorded_at", "verdict", "consequence", "failed_points"),
    key=("run_id", "lot"),
)

SIGNOFF = Table(
    "signoff",
    columns=("run_id", "stage", "recorded_at", "username", "full_name", "note"),
    key=("run_id", "stage"),
)

TABLES: tuple[Table, ...] = (
    RUN,
    RUN_STATUS,
    SNAPSHOT,
    POSITION,
    STEP,
    READING,
    CONCLUSION,
    EVENT,
    BATCH_STATISTIC,
    MANUAL_RESULT,
    LOT_STATISTIC,
    LOT_VERDICT,
    SIGNOFF,
)
TABLES_BY_NAME = {table.name: table for table in TABLES}

# Not chained (a signature covers the chain, it is not part of it): meterbench.results.signing.
SIGNATURE_TABLE = "run_signature"
SIGNATURE_COLUMNS = (
    "run_id",
    "row_count",
    "final_hash",
    "signed_at",
    "key_id",
    "public_key",
    "signature",
)
