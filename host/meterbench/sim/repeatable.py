"""What two runs of one seeded simulated bench must repeat, and how to compare it.

A simulated bench decides every count from its seed and the program alone, but each run
begins at its own wall time, and so does its simulated date and time: the meters' clocks
read back (text in a reading's raw values) differ by that start. Given as seconds from the
run's start, they must repeat exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

FROM_START = "seconds from start"


def times_from(value: Any, start: dt.datetime) -> Any:
    """``value`` (a reading's raw values: dicts, lists, text) with every date and time in it
    replaced by ``(FROM_START, seconds)`` from ``start``; a time without a zone is taken in
    the start's zone."""
    if isinstance(value, dict):
        return {k: times_from(v, start) for k, v in value.items()}
    if isinstance(value, list):
        return [times_from(v, start) for v in value]
    if isinstance(value, str):
        try:
            at = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if at.tzinfo is None:
            at = at.replace(tzinfo=start.tzinfo)
        return (FROM_START, (at - start).total_seconds())
    return value
