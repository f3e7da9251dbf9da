"""Batch statistics (§4.2): per meter type and point, the unrounded mean errors of the meters
that produced one; the batch passes when their mean is not above zero.

Meters that failed individually are included (and listed with their own verdict); meters with
no result at the point are excluded from n and listed separately. The verdict is taken from the
sign of the exact sum, so the comparison with zero is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meterbench.regulations.numbers import Number, to_decimal, to_fraction
from meterbench.regulations.rounding import round_to_interval
from meterbench.regulations.std_dev import std_dev


@dataclass(frozen=True)
class MeterPointValue:
    """One meter's result at one point: its unrounded mean error (None = no result)."""

    meter_id: str
    type_id: str
    point_id: str
    mean_error: Decimal | None
    position: int | None = None
    rounded: Decimal | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class BatchPointStatistics:
    """The §4.2 report for one type and point. ``verdict`` is 'pass' (mean <= 0), 'fail', or
    'no_result' when no meter produced a value."""

    type_id: str
    point_id: str
    n: int
    mean: Decimal | None
    mean_rounded: Decimal | None
    std: Decimal | None
    min: Decimal | None
    max: Decimal | None
    verdict: str
    meters: tuple[MeterPointValue, ...]
    no_result: tuple[MeterPointValue, ...]


def batch_statistics(
    values: Iterable[MeterPointValue],
    rounding_intervals: Mapping[str, Number] | None = None,
) -> list[BatchPointStatistics]:
    """Statistics per (type, point), in order of first appearance. ``rounding_intervals`` maps
    a type id to its class interval for the rounded display of the mean."""
    groups: dict[tuple[str, str], list[MeterPointValue]] = {}
    for value in values:
        groups.setdefault((value.type_id, value.point_id), []).append(value)
    out = []
    for (type_id, point_id), members in groups.items():
        interval = (rounding_intervals or {}).get(type_id)
        out.append(_point_statistics(type_id, point_id, members, interval))
    return out


def _point_statistics(
    type_id: str, point_id: str, members: list[MeterPointValue], interval: Number | None
) -> BatchPointStatistics:
    with_result = tuple(m for m in members if m.mean_error is not None)
    without = tuple(m for m in members if m.mean_error is None)
    errors = [to_fraction(m.mean_error) for m in with_result if m.mean_error is not None]
    if not errors:
        return BatchPointStatistics(
            type_id, point_id, 0, None, None, None, None, None, "no_result", (), without
        )
    total = sum(errors, Fraction(0))
    average = total / len(errors)
    mean = to_decimal(average)
    return BatchPointStatistics(
        type_id=type_id,
        point_id=point_id,
        n=len(errors),
        mean=mean,
        mean_rounded=None if interval is None else round_to_interval(average, interval),
        std=std_dev(errors) if len(errors) >= 2 else None,
        min=to_decimal(min(errors)),
        max=to_decimal(max(errors)),
        verdict="pass" if total <= 0 else "fail",
        meters=with_result,
        no_result=without,
    )
