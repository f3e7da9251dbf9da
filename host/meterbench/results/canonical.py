"""Exact, deterministic text forms of record values.

Everything the store writes and everything the hash chain covers goes through this module, so
that one value has exactly one text form: Decimals keep their digits (``Decimal("0.30")`` stays
``"0.30"``), datetimes are ISO 8601 with their offset, JSON is sorted-key and compact.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

JsonValue = Any
"""A value made of None, bool, int, float, str, lists/tuples and str-keyed mappings."""


class FrozenDict(dict[str, Any]):
    """A dict that refuses changes, so a record's JSON fields stay as they were stored.

    It stays a real ``dict`` on purpose: ``json.dumps`` and ``==`` with plain dicts just work.
    """

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("record JSON fields are immutable")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(canonical_json(self))


class FrozenList(list[Any]):
    """A list that refuses changes (still a real ``list``, for the same reasons as FrozenDict)."""

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("record JSON fields are immutable")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]
    append = extend = insert = pop = _refuse
    remove = clear = sort = reverse = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type[FrozenList], tuple[list[Any]]]:
        return (FrozenList, (list(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(canonical_json(self))


def freeze(value: JsonValue, where: str = "value") -> JsonValue:
    """Deep-copy ``value`` into immutable JSON: mappings -> FrozenDict, sequences -> FrozenList.

    Decimals become their exact text (JSON has no decimal type and a float would not be exact).
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a finite number")
        return value
    if isinstance(value, Decimal):
        return decimal_text(value, where)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: JSON object keys must be str, got {key!r}")
            out[key] = freeze(item, f"{where}.{key}")
        return FrozenDict(out)
    if isinstance(value, list | tuple):
        return FrozenList(freeze(item, f"{where}[{i}]") for i, item in enumerate(value))
    raise TypeError(f"{where}: {type(value).__name__} cannot be stored as JSON")


def thaw(value: JsonValue) -> JsonValue:
    """Plain mutable copy of a frozen JSON value (dicts and lists)."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: JsonValue) -> str:
    """Sorted-key, compact, UTF-8-ready JSON: the one text form that is stored and hashed."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )


def parse_json(text: str) -> JsonValue:
    """Frozen value of stored JSON text."""
    return freeze(json.loads(text))


def to_decimal(value: object, where: str) -> Decimal:
    """Exact Decimal from Decimal, int or numeric text; floats are refused (they are not exact)."""
    if isinstance(value, bool):
        raise TypeError(f"{where}: expected a Decimal, got bool")
    if isinstance(value, float):
        raise TypeError(f"{where}: pass Decimal(str(x)) rather than a float, to stay exact")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{where}: {value!r} is not a decimal number") from None
    if not isinstance(value, Decimal):
        raise TypeError(f"{where}: expected a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{where}: {value} is not a finite number")
    return value


def decimal_text(value: Decimal, where: str = "value") -> str:
    """The exact text of a finite Decimal (trailing zeros kept: they carry the resolution)."""
    if not value.is_finite():
        raise ValueError(f"{where}: {value} is not a finite number")
    return str(value)


def datetime_text(value: datetime) -> str:
    """ISO 8601 text of a timezone-aware datetime, offset kept."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value!r} has no timezone; records need aware times")
    return value.isoformat()


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)
