"""Accuracy-class spellings: one canonical form so ``class = 1``, ``"1.0"`` and ``"1"`` are the
same key in every table, and ``"0.5s"`` is ``"0.5S"``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CLASS = re.compile(r"^(\d+(?:\.\d+)?)\s*([Ss]?)$")


def normalise_class(value: object) -> str:
    """Canonical class name: ``2.0`` -> ``"2"``, ``"0.5s"`` -> ``"0.5S"``, ``"B"`` -> ``"B"``
    (MID letter classes). Raises ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError("an accuracy class must be text like '0.5S' or a number like 2")
    if isinstance(value, int | float | Decimal):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise ValueError(f"not an accuracy class: {value!r}")
    text = value.strip()
    if text.upper() in ("A", "B", "C"):
        return text.upper()
    match = _CLASS.match(text)
    if not match:
        raise ValueError(f"not an accuracy class: {value!r} (write e.g. '0.5S', '1', '2')")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise ValueError(f"not an accuracy class: {value!r}") from None
    text_number = format(number.normalize(), "f")
    return text_number + match.group(2).upper()
