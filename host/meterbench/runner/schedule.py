"""Which steps run one after another and which run alongside: the run's schedule.

The plan lists items in order; physics lets some of them share time. What may overlap is data
in the plan expansion, taken from the regulation profile and the meter type: a step whose
model lists ``alongside`` items (the clock test: it needs only the voltage every load point
applies, and counts the second pulse, an input the error tests do not use) runs as a
companion through the longest block of consecutive steps of those items, for the positions
whose meter type allows it; the other positions keep the step at its place in plan order.
The engine starts a companion with its block and waits for it before the first step outside
the block, so no step ever meets a source state or an input it did not ask for.

A register step whose model lists ``accumulate_over`` items is split around the longest block
of consecutive forward (P+) steps of those items: its ``open`` part reads the registers before
the block, its ``close`` part after it, and the reference accumulator's energy over the block
counts towards the register test, so only what the block does not deliver is run at the
register load. Reverse points end a block: their energy belongs to another register.

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
    # "open" / "close": the part of a register step that reads the registers before / after
    # the block whose energy it accumulates (None: the whole step)
    part: str | None = None

    @property
    def companion(self) -> bool:
        return bool(self.alongside)

    @property
    def plain(self) -> bool:
        """A whole step in plan order: neither a companion nor one part of a split step."""
        return not self.companion and self.part is None


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
        _accumulate(entries, step, type_of, estimate)
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


def _accumulate_over(step: PlannedStep) -> dict[str, frozenset[str]]:
    """Per meter type of the step: the items whose forward points deliver its energy."""
    return {
        t: frozenset(getattr(m, "accumulate_over", None) or ()) for t, m in step.by_type.items()
    }


def _direction(model: object) -> str | None:
    """The energy direction of a load point's model (a std-dev point wraps its load point)."""
    direction = getattr(model, "direction", None)
    if direction is None:
        direction = getattr(getattr(model, "point", None), "direction", None)
    return direction


def _forward(step: PlannedStep) -> bool:
    return all(_direction(m) == "P+" for m in step.by_type.values())


def _wrapped(entries: Sequence[Entry]) -> set[int]:
    """Ids of the steps inside the span of a split register step (between its parts)."""
    inside: set[int] = set()
    open_keys: set[str] = set()
    for entry in entries:
        if entry.part == "open":
            open_keys.add(entry.step.key)
        elif entry.part == "close":
            open_keys.discard(entry.step.key)
        elif open_keys:
            inside.add(id(entry.step))
    return inside


def _accumulate(
    entries: list[Entry],
    step: PlannedStep,
    type_of: Callable[[int], str],
    estimate: Callable[[PlannedStep], float],
) -> None:
    """Split a register step that may accumulate into its open and close parts around the
    longest block of forward steps of its items, for the positions whose meter type allows
    every item of the block; the other positions keep the whole step at its place."""
    by_type = _accumulate_over(step)
    items = frozenset().union(*by_type.values()) if by_type else frozenset()
    if not items:
        return
    # a block one register step accumulates over is not another's: the top-up of the one
    # closing first would flow inside the other's span, at a load that is not its own
    wrapped = _wrapped(entries)
    block = _longest_block(entries, items, estimate, lambda s: _forward(s) and id(s) not in wrapped)
    if block is None:
        return
    along = [
        p
        for p in step.positions
        if all(entries[i].step.item in by_type.get(type_of(p), ()) for i in block)
    ]
    if not along:
        return
    here = next(i for i, e in enumerate(entries) if e.plain and e.step is step)
    rest = [p for p in step.positions if p not in along]
    part = step.only(along)
    close_at = block[-1] + 1
    open_at = block[0]
    if rest:
        entries[here] = Entry(step.only(rest))
    else:
        del entries[here]
        if here < open_at:
            open_at, close_at = open_at - 1, close_at - 1
    entries.insert(close_at, Entry(part, part="close"))
    entries.insert(open_at, Entry(part, part="open"))


def _longest_block(
    entries: list[Entry],
    items: frozenset[str],
    estimate: Callable[[PlannedStep], float],
    fits: Callable[[PlannedStep], bool] = lambda _: True,
) -> range | None:
    """The run of consecutive whole steps of ``items`` (each one ``fits``) that lasts longest
    (first if tied)."""
    best: range | None = None
    best_s = -1.0
    start: int | None = None
    for index in range(len(entries) + 1):
        inside = (
            index < len(entries)
            and entries[index].plain
            and entries[index].step.item in items
            and fits(entries[index].step)
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
        if entry.part == "open":
            shares.append(0.0)  # register reads only
            continue
        if entry.part == "close":
            shares.append(_topup_s(entries, index, estimate))
            continue
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


def point_power_w(model: object) -> float:
    """The active power a load point applies (a std-dev point wraps its load point); 0 for a
    model without one."""
    power = getattr(model, "power_w", None)
    if power is None:
        power = getattr(getattr(model, "point", None), "power_w", None)
    return 0.0 if power is None else float(power)


def _topup_s(
    entries: Sequence[Entry], close: int, estimate: Callable[[PlannedStep], float]
) -> float:
    """Seconds at the register load for the energy the block of an accumulating register
    step does not deliver when each block step lasts its estimate (the longest over the
    step's meter types)."""
    step = entries[close].step
    opened = max(
        i for i in range(close) if entries[i].part == "open" and entries[i].step.key == step.key
    )
    block = [e.step for e in entries[opened + 1 : close] if e.plain]
    longest = 0.0
    for type_id, model in step.by_type.items():
        delivered = sum(
            point_power_w(s.by_type[type_id]) * estimate(s) / 3.6e6
            for s in block
            if type_id in s.by_type
        )
        missing = max(0.0, float(model.energy_kwh) - delivered)
        longest = max(longest, missing * 3.6e6 / max(float(model.power_w), 1e-9))
    return longest


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


def plan_overlaps(expansion: PlanExpansion) -> list[str]:
    """What the schedule of one meter type's plan overlaps, in words."""
    steps = expansion_steps(expansion)
    type_id = next(iter(steps[0].by_type)) if steps else ""
    entries = build_schedule(steps, lambda _: type_id, estimate_s)
    said: list[str] = []
    for entry in entries:
        if entry.companion:
            said.append(f"{entry.step.item} alongside the load points")
        elif entry.part == "open":
            said.append(f"{entry.step.key} energy from the error points")
    return list(dict.fromkeys(said))


def plan_seconds(expansion: PlanExpansion, overlap: bool = True) -> float:
    """Measuring time of one meter type's plan (no settling): in plan order, or scheduled."""
    steps = expansion_steps(expansion)
    type_id = next(iter(steps[0].by_type)) if steps else ""
    entries = build_schedule(steps, lambda _: type_id, estimate_s, overlap)
    return schedule_seconds(entries, estimate_s)


__all__ = [
    "Entry",
    "point_power_w",
    "build_schedule",
    "expansion_steps",
    "plan_overlaps",
    "plan_seconds",
    "remaining_seconds",
    "schedule_seconds",
]
