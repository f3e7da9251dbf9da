"""Results: the immutable record model and the append-only, hash-chained results store.

    from meterbench.results import ResultsStore, Run, Reading, ...

    with ResultsStore.open(path) as store:
        store.create_run(run, snapshots={"bench_config": ..., "plan": ...})
        store.append(position, step)
        store.append(reading)               # one committed transaction per call
        store.append(*conclusions)          # all conclusions of a position and step together
        store.set_status(run.run_id, "completed", at=now)
        store.verify_chain(run.run_id)      # -> ChainReport

See README.md in this directory for the schema, the chain and how `resume` uses the store.
"""

from meterbench.results.canonical import FrozenDict, FrozenList, JsonValue, canonical_json, thaw
from meterbench.results.chain import ChainProblem, ChainReport, Problem
from meterbench.results.errors import (
    ClosedRunError,
    ConflictError,
    CorruptDatabaseError,
    DatabaseMissingError,
    MissingReferenceError,
    NotAResultsDatabaseError,
    SchemaTooNewError,
    StatusTransitionError,
    StoreError,
    UnknownRunError,
)
from meterbench.results.kinds import (
    EventKind,
    ItemKind,
    LimitKind,
    Outcome,
    ReadingStatus,
    RunStatus,
    Severity,
)
from meterbench.results.models import (
    BatchStatistic,
    Conclusion,
    Environment,
    Event,
    LotStatistic,
    LotVerdict,
    ManualResult,
    Position,
    Reading,
    Record,
    Run,
    RunStatusChange,
    Signoff,
    Snapshot,
    Step,
    to_plain,
)
from meterbench.results.paths import default_db_path
from meterbench.results.record import RunRecord, RunSummary
from meterbench.results.runid import new_run_id
from meterbench.results.store import ResultsStore

__all__ = [
    "BatchStatistic",
    "ChainProblem",
    "ChainReport",
    "ClosedRunError",
    "Conclusion",
    "ConflictError",
    "CorruptDatabaseError",
    "DatabaseMissingError",
    "Environment",
    "Event",
    "EventKind",
    "FrozenDict",
    "FrozenList",
    "ItemKind",
    "JsonValue",
    "LimitKind",
    "LotStatistic",
    "LotVerdict",
    "ManualResult",
    "MissingReferenceError",
    "NotAResultsDatabaseError",
    "Outcome",
    "Position",
    "Problem",
    "Reading",
    "ReadingStatus",
    "Record",
    "ResultsStore",
    "Run",
    "RunRecord",
    "RunStatus",
    "RunStatusChange",
    "RunSummary",
    "SchemaTooNewError",
    "Severity",
    "Signoff",
    "Snapshot",
    "StatusTransitionError",
    "Step",
    "StoreError",
    "UnknownRunError",
    "canonical_json",
    "default_db_path",
    "new_run_id",
    "thaw",
    "to_plain",
]
