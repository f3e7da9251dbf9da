"""Lot statistics: the mean error of a production lot at each load point, over the meters the
verification accepted, across every run of the lot.

A batch of household meters should not register too much on average (verification reference
§4.2). Judged per run over all meters, a meter rejected anyway can flip that verdict either way:
one fast reject fails a good lot, one slow reject hides a fast lot. So the lot mean counts only
accepted meters (their individual verdict is pass); the mean over all meters is kept beside it
for the record. Which points count, how meters weigh (each meter alike, or each run alike) and
what a failed lot means are the plan's lot rule. The verdict compares the mean, rounded as the
regulation rounds the class's errors, with zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from meterbench.regulations.numbers import to_decimal, to_fraction
from meterbench.regulations.rounding import round_to_interval

Weighting = Literal["meter", "run"]
Consequence = Literal["flag", "withhold"]
DEFAULT_ITEMS = ("basic_error", "water_error")


@dataclass(frozen=True)
class LotRule:
    """Which points count towards the lot verdict and how meters weigh (plan data)."""

    items: tuple[str, ...] = DEFAULT_ITEMS
    points: tuple[str, ...] | None = None
    weighting: Weighting = "meter"
    consequence: Consequence = "flag"

    def counts(self, item: str, point: str) -> bool:
        """Does a point of an item count towards the verdict? ``point`` is the load-point key
        (``P+/all/Ib/1.0``) or the step key (``basic_error/P+/all/Ib/1.0``)."""
        if item not in self.items:
            return False
        if self.points is None:
            return True
        tail = point.split("/", 1)[1] if point.startswith(f"{item}/") else point
        return point in self.points or tail in self.points


@dataclass(frozen=True)
class LotMember:
    """One meter's result at one point in one run of the lot."""

    run_id: str
    position: int
    serial: str
    meter_type: str
    item: str
    point: str
    mean_error: Decimal
    accepted: bool
    interval: Decimal | None = None


@dataclass(frozen=True)
class LotPointStatistics:
    """The lot at one (meter type, point): over accepted meters and over all."""

    meter_type: str
    point: str
    item: str
    counted: bool
    n: int
    n_all: int
    mean: Decimal | None
    rounded: Decimal | None
    mean_all: Decimal | None
    verdict: Literal["pass", "fail", "no_result"]
    runs: tuple[str, ...]
    members: tuple[LotMember, ...]


@dataclass(frozen=True)
class LotOutcome:
    """The overall lot verdict: pass when every counted point passes."""

    verdict: Literal["pass", "fail", "no_result"]
    consequence: Consequence
    failed_points: tuple[str, ...]

    @property
    def withholds_certificates(self) -> bool:
        return self.verdict == "fail" and self.consequence == "withhold"


def _mean(values: Sequence[Fraction], runs: Sequence[str], weighting: Weighting) -> Fraction:
    if weighting == "meter":
        return sum(values, Fraction(0)) / len(values)
    by_run: dict[str, list[Fraction]] = {}
    for value, run in zip(values, runs, strict=True):
        by_run.setdefault(run, []).append(value)
    means = [sum(v, Fraction(0)) / len(v) for v in by_run.values()]
    return sum(means, Fraction(0)) / len(means)


def lot_statistics(members: Iterable[LotMember], rule: LotRule) -> list[LotPointStatistics]:
    """Statistics per (meter type, point), in order of first appearance."""
    groups: dict[tuple[str, str], list[LotMember]] = {}
    for member in members:
        groups.setdefault((member.meter_type, member.point), []).append(member)
    out = []
    for (meter_type, point), group in groups.items():
        accepted = [m for m in group if m.accepted]
        interval = next((m.interval for m in group if m.interval is not None), None)
        all_mean = _mean(
            [to_fraction(m.mean_error) for m in group], [m.run_id for m in group], rule.weighting
        )
        mean: Fraction | None = None
        rounded: Decimal | None = None
        verdict: Literal["pass", "fail", "no_result"] = "no_result"
        if accepted:
            mean = _mean(
                [to_fraction(m.mean_error) for m in accepted],
                [m.run_id for m in accepted],
                rule.weighting,
            )
            rounded = None if interval is None else round_to_interval(mean, interval)
            judged = to_fraction(rounded) if rounded is not None else mean
            verdict = "pass" if judged <= 0 else "fail"
        out.append(
            LotPointStatistics(
                meter_type=meter_type,
                point=point,
                item=group[0].item,
                counted=rule.counts(group[0].item, point),
                n=len(accepted),
                n_all=len(group),
                mean=None if mean is None else to_decimal(mean),
                rounded=rounded,
                mean_all=to_decimal(all_mean),
                verdict=verdict,
                runs=tuple(dict.fromkeys(m.run_id for m in group)),
                members=tuple(group),
            )
        )
    return out


def lot_verdict(statistics: Sequence[LotPointStatistics], rule: LotRule) -> LotOutcome:
    """Fail when any counted point fails; no result when no counted point has accepted meters."""
    counted = [s for s in statistics if s.counted]
    failed = tuple(s.point for s in counted if s.verdict == "fail")
    if failed:
        return LotOutcome("fail", rule.consequence, failed)
    if any(s.verdict == "pass" for s in counted):
        return LotOutcome("pass", rule.consequence, ())
    return LotOutcome("no_result", rule.consequence, ())
