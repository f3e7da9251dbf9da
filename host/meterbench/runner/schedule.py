"""Which steps run one after another and which run alongside: the run's schedule.

The plan lists items in order; physics lets some of them share time. What may overlap is data
in the plan expansion, taken from the regulation profile and the meter type: a step whose
model lists ``alongside`` items (the clock test: it needs only the voltage every load point
applies, and counts the second pulse, an input the error tests do not use) runs as a
companion through the longest block of consecutive steps of those items, for the positions
whose meter type allows it; the other positions keep the step at its place in plan order.
The engine starts a companion with its block and waits for it before the first step outside
the block, so no step ever meets a source state or an input it did not ask for.

Pure: the same steps give the same schedule, so a resumed run keeps the fresh run's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from meterbench.plan.model import PlanExpansion
from meterbench.runner.items import PlannedStep
from meterbench.runner.timing import estimate_s


@dataclass
class Entry:
    """One step (or the part of it for some positions) in execution order. A companion is
    started here and runs alongside the following steps whose item is in ``alongside``."""

    step: PlannedStep
    alongside: frozenset[str] = frozenset()

    @property
    def companion(self) -> bool:
        return bool(self.alongside)


def _alongside(step: PlannedStep) -> dict[str, frozenset[str]]:
    """Per meter type of the step: the items it may run alongside (empty: none)."""
    return {t: frozenset(getattr(m, "alongside", None) or ()) for t, m in step.by_type.items()}


def build_schedule(
    steps: Sequence[PlannedStep],
    type_of: Callable[[int], str],
    estimate: Callable[[PlannedStep], float],
    overlap: bool = True,
) -> list[Entry]:
    """The steps in execution order, companions moved to the start of their block.
    ``type_of`` gives a position's meter-type id, ``estimate`` a step's seconds."""
    entries = [Entry(step) for step in steps]
    if not overlap:
        return entries
    for step in steps:
        by_type = _alongside(step)
        items = frozenset().union(*by_type.values()) if by_type else frozenset()
        if not items:
            continue
        block = _longest_block(entries, items, estimate)
        if block is None:
            continue
        # positions whose meter type allows every item of the block: only those go along
        along = [
            p
            for p in step.positions
            if all(entries[i].step.item in by_type.get(type_of(p), ()) for i in block)
        ]
        if not along:
            continue
        rest = [p for p in step.positions if p not in along]
        here = next(i for i, e in enumerate(entries) if e.step is step)
        companion = Entry(step.only(along), items)
        if rest:
            entries[here] = Entry(step.only(rest))
        else:
            del entries[here]
        shift = 1 if not rest and here < block[0] else 0  # the step left from before the block
        entries.insert(block[0] - shift, companion)
    return entries


def _longest_block(
    entries: list[Entry], items: frozenset[str], estimate: Callable[[PlannedStep], float]
) -> range | None:
    """The run of consecutive plain steps of ``items`` that lasts longest (first if tied)."""
    best: range | None = None
    best_s = -1.0
    start: int | None = None
    for index in range(len(entries) + 1):
        inside = (
            index < len(entries)
            and not entries[index].companion
            and entries[index].step.item in items
        )
        if inside and start is None:
            start = index
        elif not inside and start is not None:
            seconds = sum(estimate(entries[i].step) for i in range(start, index))
            if seconds > best_s:
                best, best_s = range(start, index), seconds
            start = None
    return best


def schedule_seconds(entries: Sequence[Entry], estimate: Callable[[PlannedStep], float]) -> float:
    """How long the schedule takes when every step lasts its estimate: the sequential steps
    one after another, and each companion beyond its block where it outlasts it."""
    return sum(remaining_seconds(entries, estimate))


def remaining_seconds(
    entries: Sequence[Entry], estimate: Callable[[PlannedStep], float]
) -> list[float]:
    """Each entry's share of the run's time: a plain step its estimate, a companion only what
    it adds beyond the steps it runs alongside (the run waits for it at the block's end)."""
    shares: list[float] = []
    for index, entry in enumerate(entries):
        own = estimate(entry.step)
        if not entry.companion:
            shares.append(own)
            continue
        block = 0.0
        for other in entries[index + 1 :]:
            if other.companion or other.step.item not in entry.alongside:
                break
            block += estimate(other.step)
        shares.append(max(0.0, own - block))
    return shares


def expansion_steps(expansion: PlanExpansion) -> list[PlannedStep]:
    """One meter type's steps on one position, for estimates without a meter list."""
    type_id = str(expansion.meter_type.get("id") or "type")
    out = []
    for step in expansion.steps:
        for planned in step.planned():
            out.append(
                PlannedStep(
                    planned.key,
                    step.type,
                    planned.point,
                    len(out),
                    planned.title,
                    {type_id: planned.model},
                    [1],
                )
            )
    return out


def plan_seconds(expansion: PlanExpansion, overlap: bool = True) -> float:
    """Measuring time of one meter type's plan (no settling): in plan order, or scheduled."""
    steps = expansion_steps(expansion)
    type_id = next(iter(steps[0].by_type)) if steps else ""
    entries = build_schedule(steps, lambda _: type_id, estimate_s, overlap)
    return schedule_seconds(entries, estimate_s)


__all__ = [
    "Entry",
    "build_schedule",
    "expansion_steps",
    "plan_seconds",
    "remaining_seconds",
    "schedule_seconds",
]
