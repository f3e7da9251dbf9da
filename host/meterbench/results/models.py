"""Immutable records of a verification run: run -> position -> step -> readings -> conclusion.

Each class is one kind of stored row. Records validate and normalise on construction
(Decimals exact, datetimes timezone-aware, JSON fields deep-frozen), so a record that exists is
one the store can write and read back unchanged. Nothing here computes an error or a verdict:
the runner does, and the record keeps the raw counts so anyone can recompute them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from meterbench.results.canonical import (
    FrozenDict,
    FrozenList,
    JsonValue,
    canonical_json,
    datetime_text,
    freeze,
    to_decimal,
)
from meterbench.results.kinds import (
    LimitKind,
    Outcome,
    ReadingStatus,
    RunStatus,
    Severity,
    check_identifier,
)

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _text(obj: object, name: str, *, optional: bool = False) -> None:
    value = getattr(obj, name)
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        kind = type(obj).__name__
        raise ValueError(f"{kind}.{name}: expected non-empty text, got {value!r}")


def _time(obj: object, name: str) -> None:
    value = getattr(obj, name)
    if not isinstance(value, datetime):
        raise TypeError(f"{type(obj).__name__}.{name}: expected a datetime, got {value!r}")
    datetime_text(value)  # refuses naive datetimes


def _dec(obj: object, name: str, *, optional: bool = True) -> None:
    value = getattr(obj, name)
    if value is None and optional:
        return
    _set(obj, name, to_decimal(value, f"{type(obj).__name__}.{name}"))


def _int(obj: object, name: str, minimum: int) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{type(obj).__name__}.{name}: expected an integer >= {minimum}")


def _json(obj: object, name: str, *, mapping: bool) -> None:
    value = freeze(getattr(obj, name), f"{type(obj).__name__}.{name}")
    if mapping and not isinstance(value, FrozenDict):
        raise TypeError(f"{type(obj).__name__}.{name}: expected a JSON object")
    if not mapping and not isinstance(value, FrozenList):
        raise TypeError(f"{type(obj).__name__}.{name}: expected a JSON list")
    _set(obj, name, value)


def _enum(obj: object, name: str, kind: type[Enum]) -> None:
    value = getattr(obj, name)
    try:
        _set(obj, name, kind(value))
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise ValueError(
            f"{type(obj).__name__}.{name}: {value!r} is not one of {allowed}"
        ) from None


def _run_id(obj: Any) -> None:
    value = obj.run_id
    if not isinstance(value, str) or not _RUN_ID.match(value):
        raise ValueError(
            f"{type(obj).__name__}.run_id: {value!r} must be 1-128 of letters, digits, '._:-'"
        )


def _position(obj: object) -> None:
    _int(obj, "position", 1)


def _empty() -> Any:
    return FrozenDict()


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """Conditions of the room when the run started (they go on the record and certificate)."""

    temperature_c: Decimal | None = None
    humidity_pct: Decimal | None = None
    place: str | None = None

    def __post_init__(self) -> None:
        _dec(self, "temperature_c")
        _dec(self, "humidity_pct")
        _text(self, "place", optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """The head of a run record. Its status is not here: status changes are appended rows."""

    run_id: str
    started_at: datetime
    bench: str
    plan: str
    regulation: str
    software_version: str
    regulation_version: str | None = None
    verifier: str | None = None
    checker: str | None = None
    task: str | None = None
    environment: Environment = field(default_factory=Environment)
    extra: JsonValue = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _run_id(self)
        _time(self, "started_at")
        for name in ("bench", "plan", "regulation", "software_version"):
            _text(self, name)
        for name in ("regulation_version", "verifier", "checker", "task"):
            _text(self, name, optional=True)
        if not isinstance(self.environment, Environment):
            raise TypeError("Run.environment: expected an Environment")
        _json(self, "extra", mapping=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """A copy of an input as it was used: bench config, plan, meter types, profile, firmware."""

    run_id: str
    name: str
    recorded_at: datetime
    content: JsonValue

    def __post_init__(self) -> None:
        _run_id(self)
        _set(self, "name", check_identifier(self.name, "Snapshot.name"))
        _time(self, "recorded_at")
        _set(self, "content", freeze(self.content, f"Snapshot {self.name}"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStatusChange:
    """One status change, appended (the run head is never updated)."""

    run_id: str
    status: RunStatus
    at: datetime
    reason: str | None = None

    def __post_init__(self) -> None:
        _run_id(self)
        _enum(self, "status", RunStatus)
        _time(self, "at")
        _text(self, "reason", optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """The meter under test at one bench position.

    ``retest_of`` names the run whose record this one re-tests (records are never edited).
    ``lot`` is the production lot the meter belongs to (None: the run is its own lot).
    """

    run_id: str
    position: int
    meter_type: str
    serial_no: str | None = None
    asset_no: str | None = None
    address: str | None = None
    customer: str | None = None
    retest_of: str | None = None
    nameplate: JsonValue = field(default_factory=_empty)
    lot: str | None = None

    def __post_init__(self) -> None:
        _run_id(self)
        _position(self)
        _text(self, "meter_type")
        for name in ("serial_no", "asset_no", "address", "customer", "retest_of", "lot"):
            _text(self, name, optional=True)
        _json(self, "nameplate", mapping=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One item at one point, measured on every position at once (e.g. basic error at Ib, PF 1).

    ``step_key`` is unique in the run and is what readings and conclusions refer to; ``ordinal``
    is the step's place in the plan. ``parameters`` holds current, PF, voltage, flow, durations...
    """

    run_id: str
    step_key: str
    ordinal: int
    item: str
    point: str
    parameters: JsonValue = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _run_id(self)
        _text(self, "step_key")
        _int(self, "ordinal", 0)
        _set(self, "item", check_identifier(self.item, "Step.item"))
        _text(self, "point")
        _json(self, "parameters", mapping=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One reading of one position in one step, with the raw counts it was computed from.

    ``(position, step_key, index, attempt)`` is its identity: a retry of reading 2 is index 2,
    attempt 1. ``raw`` holds whatever the item measures (reference count m, meter pulses N,
    gate ticks, timestamps, register values) so the value can be recomputed from the record.
    """

    run_id: str
    position: int
    step_key: str
    index: int
    at: datetime
    raw: JsonValue
    value: Decimal | None = None
    unit: str = ""
    attempt: int = 0
    status: ReadingStatus = ReadingStatus.OK

    def __post_init__(self) -> None:
        _run_id(self)
        _position(self)
        _text(self, "step_key")
        _int(self, "index", 0)
        _int(self, "attempt", 0)
        _time(self, "at")
        _json(self, "raw", mapping=True)
        _dec(self, "value")
        if not isinstance(self.unit, str):
            raise TypeError("Reading.unit: expected text")
        _enum(self, "status", ReadingStatus)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conclusion:
    """The judgement of one position in one step against one kind of limit.

    ``mean`` is unrounded (batch statistics use it); ``rounded`` is what was compared with
    ``lower``/``upper``. A step judged against both the MPE and an acceptance limit has two.
    """

    run_id: str
    position: int
    step_key: str
    at: datetime
    outcome: Outcome
    limit_kind: LimitKind = LimitKind.MPE
    mean: Decimal | None = None
    rounded: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    unit: str = ""
    reason: str | None = None
    details: JsonValue = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _run_id(self)
        _position(self)
        _text(self, "step_key")
        _time(self, "at")
        _enum(self, "outcome", Outcome)
        _enum(self, "limit_kind", LimitKind)
        for name in ("mean", "rounded", "lower", "upper"):
            _dec(self, name)
        if not isinstance(self.unit, str):
            raise TypeError("Conclusion.unit: expected text")
        _text(self, "reason", optional=True)
        _json(self, "details", mapping=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One entry of the run's error log, with the raw frames that were on the bus.

    ``key`` makes a replayed event a no-op; by default it is a digest of the content, so only
    an identical event (same time, same text) is taken for a replay.
    """

    run_id: str
    at: datetime
    severity: Severity
    kind: str
    message: str
    position: int | None = None
    step_key: str | None = None
    trace: JsonValue = ()
    key: str | None = None

    def __post_init__(self) -> None:
        _run_id(self)
        _time(self, "at")
        _enum(self, "severity", Severity)
        _set(self, "kind", check_identifier(self.kind, "Event.kind"))
        if not isinstance(self.message, str):
            raise TypeError("Event.message: expected text")
        if self.position is not None:
            _position(self)
        _text(self, "step_key", optional=True)
        _json(self, "trace", mapping=False)
        if self.key is None:
            _set(self, "key", self._digest())
        else:
            _text(self, "key")

    def _digest(self) -> str:
        content = {
            "at": self.at,
            "severity": self.severity.value,
            "kind": self.kind,
            "message": self.message,
            "position": self.position,
            "step_key": self.step_key,
            "trace": self.trace,
        }
        return hashlib.sha256(canonical_json(content).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchStatistic:
    """Batch statistics of one meter type at one point (from unrounded means), with its verdict."""

    run_id: str
    meter_type: str
    step_key: str
    at: datetime
    n: int
    verdict: Outcome
    mean: Decimal | None = None
    std: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    unit: str = ""
    members: JsonValue = ()

    def __post_init__(self) -> None:
        _run_id(self)
        _text(self, "meter_type")
        _text(self, "step_key")
        _time(self, "at")
        _int(self, "n", 0)
        _enum(self, "verdict", Outcome)
        for name in ("mean", "std", "minimum", "maximum"):
            _dec(self, name)
        if not isinstance(self.unit, str):
            raise TypeError("BatchStatistic.unit: expected text")
        _json(self, "members", mapping=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualResult:
    """The outcome of an item a person carries out (visual inspection, AC voltage test, water
    tightness) at one position, and who did it. A later entry for the same position and item
    supersedes an earlier one; both stay in the chain."""

    run_id: str
    position: int
    item: str
    at: datetime
    outcome: Outcome
    verifier: str
    note: str | None = None

    def __post_init__(self) -> None:
        _run_id(self)
        _position(self)
        _set(self, "item", check_identifier(self.item, "ManualResult.item"))
        _time(self, "at")
        _enum(self, "outcome", Outcome)
        if self.outcome not in (Outcome.PASS, Outcome.FAIL):
            raise ValueError("ManualResult.outcome: a person records pass or fail")
        _text(self, "verifier")
        _text(self, "note", optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class LotStatistic:
    """Mean error of a production lot at one point, over the accepted meters of every run of
    the lot (``mean``, ``n``), with the figure over all meters beside it (``mean_all``,
    ``n_all``). ``rounded`` is the mean on the class interval; ``counted`` says whether the
    plan's lot rule counts this point towards the lot verdict."""

    run_id: str
    lot: str
    meter_type: str
    point: str
    at: datetime
    n: int
    n_all: int
    verdict: Outcome
    counted: bool = True
    mean: Decimal | None = None
    rounded: Decimal | None = None
    mean_all: Decimal | None = None
    unit: str = "%"
    runs: JsonValue = ()
    members: JsonValue = ()

    def __post_init__(self) -> None:
        _run_id(self)
        _text(self, "lot")
        _text(self, "meter_type")
        _text(self, "point")
        _time(self, "at")
        _int(self, "n", 0)
        _int(self, "n_all", 0)
        _enum(self, "verdict", Outcome)
        if not isinstance(self.counted, bool):
            raise TypeError("LotStatistic.counted: expected a bool")
        for name in ("mean", "rounded", "mean_all"):
            _dec(self, name)
        if not isinstance(self.unit, str):
            raise TypeError("LotStatistic.unit: expected text")
        _json(self, "runs", mapping=False)
        _json(self, "members", mapping=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LotVerdict:
    """The overall verdict of a lot and what follows from it (``flag`` the lot, or
    ``withhold`` its certificates), as the plan's lot rule says."""

    run_id: str
    lot: str
    at: datetime
    verdict: Outcome
    consequence: str
    failed_points: JsonValue = ()

    def __post_init__(self) -> None:
        _run_id(self)
        _text(self, "lot")
        _time(self, "at")
        _enum(self, "verdict", Outcome)
        if self.consequence not in ("flag", "withhold"):
            raise ValueError("LotVerdict.consequence: 'flag' or 'withhold'")
        _json(self, "failed_points", mapping=False)


SIGNOFF_STAGES = ("check", "approve")


@dataclass(frozen=True, slots=True, kw_only=True)
class Signoff:
    """A person's sign-off of a completed run: checked (核验, stage ``check``) or approved
    (批准, stage ``approve``). Appended to the run's chain after the run closed, so the
    record shows who vouched for the results and when; certificates follow approval."""

    run_id: str
    stage: str
    at: datetime
    username: str
    name: str
    note: str | None = None

    def __post_init__(self) -> None:
        _run_id(self)
        if self.stage not in SIGNOFF_STAGES:
            raise ValueError(f"Signoff.stage: one of {', '.join(SIGNOFF_STAGES)}")
        _time(self, "at")
        _text(self, "username")
        _text(self, "name")
        _text(self, "note", optional=True)


Record = (
    Run
    | Snapshot
    | RunStatusChange
    | Position
    | Step
    | Reading
    | Conclusion
    | Event
    | BatchStatistic
    | ManualResult
    | LotStatistic
    | LotVerdict
    | Signoff
)


def to_plain(value: object) -> JsonValue:
    """JSON-ready plain form of a record (or any value in one): Decimals and times as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value
