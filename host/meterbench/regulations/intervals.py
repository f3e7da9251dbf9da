"""Bands written the way the tables print them: ``[0.05Ib, 0.1Ib)``, ``[0.1Ib, Imax]``,
``(30, inf)``.

A square bracket includes the bound, a round one excludes it, so the edge cases of the
regulation tables ("0.05 Ib <= I < 0.1 Ib") live in the data file, visible, not in code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from meterbench.regulations.expressions import CurrentExpression, Rating, parse_current
from meterbench.regulations.numbers import to_fraction

B = TypeVar("B")


@dataclass(frozen=True)
class Interval(Generic[B]):
    """A band with parsed bounds (None = unbounded) and which ends are included."""

    text: str
    low: B | None
    high: B | None
    low_closed: bool
    high_closed: bool


def parse_interval(text: str, bound: Callable[[str], B]) -> Interval[B]:
    """Split ``[a, b)``-style text and parse each bound with ``bound``; ``inf`` / ``-inf``
    (or an empty bound) mean unbounded."""
    if not isinstance(text, str):
        raise ValueError(f"an interval must be text like '[0.05Ib, 0.1Ib)', got {text!r}")
    s = text.strip()
    if len(s) < 3 or s[0] not in "[(" or s[-1] not in "])":
        raise ValueError(f"{text!r} is not an interval like '[0.05Ib, 0.1Ib)'")
    parts = s[1:-1].split(",")
    if len(parts) != 2:
        raise ValueError(f"{text!r} must have exactly two bounds separated by a comma")
    low_text, high_text = (p.strip() for p in parts)
    low = None if low_text in ("", "-inf") else bound(low_text)
    high = None if high_text in ("", "inf", "+inf") else bound(high_text)
    if low is None and s[0] == "[" or high is None and s[-1] == "]":
        raise ValueError(f"{text!r}: an unbounded end must use a round bracket")
    return Interval(s, low, high, s[0] == "[", s[-1] == "]")


def current_band(text: str) -> Interval[CurrentExpression]:
    """A current band whose bounds are current expressions."""
    return parse_interval(text, parse_current)


def number_band(text: str) -> Interval[Fraction]:
    """A band with plain numeric bounds (temperatures, flow ratios)."""
    return parse_interval(text, to_fraction)


def contains(band: Interval[Fraction], value: Fraction) -> bool:
    """Whether ``value`` lies in a numeric band, honouring open and closed ends."""
    if band.low is not None and (value < band.low or value == band.low and not band.low_closed):
        return False
    return not (
        band.high is not None and (value > band.high or value == band.high and not band.high_closed)
    )


def resolve_band(band: Interval[CurrentExpression], rating: Rating) -> Interval[Fraction]:
    """A current band in amperes for one rating."""
    return Interval(
        band.text,
        None if band.low is None else band.low.evaluate(rating),
        None if band.high is None else band.high.evaluate(rating),
        band.low_closed,
        band.high_closed,
    )
