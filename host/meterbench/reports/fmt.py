"""How values are printed: exact decimals with the records' sign rule, times, raw JSON.

One place for this so the HTML, the PDF and the exports never disagree on a digit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

DASH = "—"


def signed(value: Decimal | None) -> str:
    """Errors as records print them (§1.8): '+0.2', '-0.4', '0.0' (zero has no sign).

    The digits are the stored ones: a rounded value keeps the interval's decimals.
    """
    if value is None:
        return ""
    if value == 0:
        return str(abs(value))
    return f"+{value}" if value > 0 else str(value)


def plain(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def with_unit(text: str, unit: str) -> str:
    if not text or not unit:
        return text
    return f"{text} {unit}" if unit != "%" else f"{text} %"


def limits(lower: Decimal | None, upper: Decimal | None) -> str:
    """'±2.0' for symmetric limits, '[-1.0, +2.0]' otherwise, one side alone as '≤ +2.0'."""
    if lower is None and upper is None:
        return ""
    if lower is not None and upper is not None:
        if lower == -upper and upper > 0:
            return f"±{upper}"
        return f"[{signed(lower)}, {signed(upper)}]"
    if upper is not None:
        return f"≤ {signed(upper)}"
    return f"≥ {signed(lower)}"


def when(value: datetime | None, tz: tzinfo | None = None) -> str:
    """The time in the document's zone ``tz`` (as recorded when None), with its offset, so
    a reader sees local time and can still tell the instant."""
    if value is None:
        return ""
    if tz is not None:
        value = value.astimezone(tz)
    return value.isoformat(sep=" ", timespec="seconds")


def local_day(value: datetime | None, tz: tzinfo | None) -> date | None:
    """The calendar day of an instant in the document's zone."""
    if value is None:
        return None
    return (value.astimezone(tz) if tz is not None else value).date()


def day(value: date | datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def scalar(value: Any) -> str:
    """A JSON value as short text: scalars bare, containers as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def pairs(mapping: Mapping[str, Any] | None) -> str:
    """'m=600000, N=10, gate_ticks=12000000': raw counts and parameters on one line."""
    if not mapping:
        return ""
    return ", ".join(f"{key}={scalar(value)}" for key, value in mapping.items())
