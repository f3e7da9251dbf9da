"""What every item executor shares, whatever the kind: the planned step it is handed, and one
way to turn a judgement into stored conclusions (``measurement``).

The executors themselves belong to the kinds (``meterbench.kinds.<kind>.items``): each takes
the run context and one planned step (the step of every meter type that has it, and the
positions that need it), measures all positions at once, streams the readings into the store
as they arrive, and appends one conclusion per position and limit kind (all in one append, so a
step is complete for a position exactly when its conclusions are stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meterbench.runner.context import RunContext


@dataclass
class PlannedStep:
    """One step of the run: the same plan step (or load point) for every meter type that has
    it. ``by_type`` maps meter-type id to that type's expanded step or point."""

    key: str
    item: str
    point: str
    ordinal: int
    title: str
    by_type: dict[str, Any]
    positions: list[int] = field(default_factory=list)
    batch_statistics: bool = False
    # run alongside other steps (a companion, see runner.schedule): it must leave the source
    # and the inputs those steps use as they are
    alongside: bool = False
    # "open" / "close": one part of a step split around the steps whose energy it
    # accumulates (see runner.schedule); None: the whole step
    part: str | None = None

    def for_position(self, ctx: RunContext, position: int) -> Any:
        return self.by_type[ctx.meters[position].type_id]

    def only(self, positions: list[int]) -> PlannedStep:
        """The same step for fewer positions."""
        return PlannedStep(
            self.key,
            self.item,
            self.point,
            self.ordinal,
            self.title,
            self.by_type,
            list(positions),
            self.batch_statistics,
            self.alongside,
            self.part,
        )


__all__ = ["PlannedStep"]
