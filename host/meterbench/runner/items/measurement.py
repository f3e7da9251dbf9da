"""One way to turn a judgement into stored conclusions, shared by every item of every kind.

A ``Measurement`` is what an item measured and how it was judged, in one object (the idea of
OpenHTF's measurement with its validator): the value and its rounded form, the limits, the
unit, the outcome and whether it was marginal, with the reason a failure gets and the details
the record keeps. ``conclude`` stores the measurements of one position and step (the regulatory
MPE and a customer's acceptance limit are two measurements of one value) in one append, so a
step is complete for a position exactly when its conclusions are stored; ``no_result`` stores
the conclusion of a position that could not be measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from meterbench.results import Conclusion, LimitKind, Outcome

if TYPE_CHECKING:
    from meterbench.runner.context import RunContext


@dataclass(frozen=True)
class Measurement:
    """A judged value. ``passed`` is the item's verdict (it may weigh more than the limits,
    e.g. a register running ahead of its pulses); ``value`` is what the record calls the mean
    and ``rounded`` what was compared with the limits."""

    value: Decimal | None
    passed: bool
    rounded: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    unit: str = ""
    limit_kind: LimitKind = LimitKind.MPE
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def within(
        cls,
        value: Decimal,
        *,
        lower: Decimal | None,
        upper: Decimal | None,
        unit: str,
        rounded: Decimal | None = None,
        reason: str | None = None,
        **kwargs: Any,
    ) -> Measurement:
        """Judged by its limits alone: passes when ``rounded`` (else ``value``) lies in them."""
        judged = value if rounded is None else rounded
        passed = (lower is None or judged >= lower) and (upper is None or judged <= upper)
        return cls(
            value,
            passed,
            value if rounded is None else rounded,
            lower,
            upper,
            unit,
            reason=None if passed else reason,
            **kwargs,
        )

    @property
    def outcome(self) -> Outcome:
        return Outcome.PASS if self.passed else Outcome.FAIL

    @property
    def marginal(self) -> bool:
        """Passed, but the rounded value sits on a limit: no margin left."""
        if not self.passed or self.rounded is None:
            return False
        return self.rounded in (self.lower, self.upper)

    def against(
        self, limit_kind: LimitKind, lower: Decimal | None, upper: Decimal | None, passed: bool
    ) -> Measurement:
        """The same value judged against another limit (an acceptance limit beside the MPE);
        the reason stays with the regulatory verdict."""
        return replace(
            self, limit_kind=limit_kind, lower=lower, upper=upper, passed=passed, reason=None
        )

    def conclusion(self, ctx: RunContext, position: int, step_key: str) -> Conclusion:
        return ctx.conclusion(
            position,
            step_key,
            self.outcome,
            limit_kind=self.limit_kind,
            mean=self.value,
            rounded=self.rounded,
            lower=self.lower,
            upper=self.upper,
            unit=self.unit,
            details=self.details,
            reason=self.reason,
        )


def conclude(
    ctx: RunContext, position: int, step_key: str, *measurements: Measurement, say: str = ""
) -> None:
    """Store the measurements of one position and step in one append and tell the operator
    (``say``, else the step and the first verdict)."""
    ctx.append(*(m.conclusion(ctx, position, step_key) for m in measurements))
    first = measurements[0]
    ctx.observer.position(position, say or f"{step_key}: {first.outcome.value}")


def no_result(
    ctx: RunContext,
    position: int,
    step_key: str,
    outcome: Outcome,
    reason: str,
    details: dict[str, Any] | None = None,
) -> None:
    """A position that could not be measured (``no_result``) or failed to answer (``error``)."""
    ctx.append(ctx.conclusion(position, step_key, outcome, reason=reason, details=details or {}))
    ctx.observer.position(position, f"{step_key}: {outcome.value} ({reason})")


__all__ = ["Measurement", "conclude", "no_result"]
