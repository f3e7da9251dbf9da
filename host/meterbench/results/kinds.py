"""The closed vocabularies of the record model, and the open ones with their usual values.

Closed sets (run status, reading status, outcome, limit kind, severity) are enums: the store
refuses anything else. Item kinds and event kinds are open (a regulation or a driver may add
one), so records accept any lower-case identifier; the enums below only name the usual values.
"""

from __future__ import annotations

import re
from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    ABORTED = "aborted"
    INTERRUPTED = "interrupted"

    @property
    def closed(self) -> bool:
        """A closed run takes no more rows: its record is final."""
        return self in (RunStatus.COMPLETED, RunStatus.ABORTED)


# Allowed status changes. A run is created running; a crash leaves it running until
# `resume` records that it was interrupted and runs it again.
TRANSITIONS: dict[RunStatus | None, frozenset[RunStatus]] = {
    None: frozenset({RunStatus.RUNNING}),
    RunStatus.RUNNING: frozenset({RunStatus.COMPLETED, RunStatus.ABORTED, RunStatus.INTERRUPTED}),
    RunStatus.INTERRUPTED: frozenset({RunStatus.RUNNING, RunStatus.ABORTED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.ABORTED: frozenset(),
}


class ReadingStatus(StrEnum):
    """What a reading was when it was appended (a later decision is an event, not an edit)."""

    OK = "ok"
    RETRIED = "retried"  # taken again after an earlier attempt at the same index failed
    INVALID = "invalid"  # rejected (jump rejection, lost pulses); kept, never averaged
    MARKED = "marked"  # kept and averaged, but flagged for the record


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NO_RESULT = "no_result"
    ERROR = "error"


class LimitKind(StrEnum):
    """Regulatory MPE (the legal conclusion) vs a customer's tighter acceptance limit."""

    MPE = "mpe"
    ACCEPTANCE = "acceptance"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ItemKind(StrEnum):
    """Usual verification items; `Step.item` accepts any identifier."""

    VISUAL = "visual"
    AC_VOLTAGE = "ac_voltage"
    CREEP = "creep"
    STARTING = "starting"
    BASIC_ERROR = "basic_error"
    STD_DEV = "std_dev"
    REGISTER = "register"
    CLOCK = "clock"
    COMMUNICATION = "communication"
    TIME_SETTING = "time_setting"
    WATER_ERROR = "water_error"


class EventKind(StrEnum):
    """Usual error-log entries; `Event.kind` accepts any identifier."""

    TIMEOUT = "timeout"
    RETRY = "retry"
    FAULT = "fault"
    ISOLATED = "isolated"
    SOURCE_UNSTABLE = "source_unstable"
    RECONNECT = "reconnect"
    RESUMED = "resumed"
    NOTE = "note"


_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")


def check_identifier(value: object, where: str) -> str:
    """An open-vocabulary kind: lower-case identifier, so it sorts, greps and exports cleanly."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError(f"{where}: {value!r} is not a lower-case identifier like 'basic_error'")
    return str(value)
