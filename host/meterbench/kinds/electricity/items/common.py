"""What the electricity items share: units, budgets, source setpoints per position, grouping
of positions that can be measured under one setpoint, and the MPE/acceptance measurements."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from meterbench.electrical import Setpoint
from meterbench.regulations.numbers import to_decimal
from meterbench.results import LimitKind
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement

DEC = Decimal
MARGIN = 1.5  # budget factor over the physically expected time of a measurement
WINDOW_LIMIT_MS = 7 * 86_400_000  # a pulse count the runner stops itself


def dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else to_decimal(value)


def nominal_voltage(ctx: RunContext, position: int) -> float:
    return float(ctx.meter_type(position).un_v)  # type: ignore[union-attr]


def wiring_of(ctx: RunContext, position: int) -> str:
    return ctx.meter_type(position).wiring  # type: ignore[union-attr]


def voltage_only(ctx: RunContext, positions: list[int], voltage: float | None = None) -> Setpoint:
    p = positions[0]
    return Setpoint.balanced(wiring_of(ctx, p), voltage or nominal_voltage(ctx, p), 0.0, 1.0)


def groups(ctx: RunContext, step: PlannedStep, key: Any) -> dict[Any, list[int]]:
    """Positions that can be measured under one source setpoint."""
    groups: dict[Any, list[int]] = {}
    for position in step.positions:
        groups.setdefault(key(step.for_position(ctx, position), position), []).append(position)
    return groups


def limit_measurements(
    passed: bool,
    limits: Any,
    *,
    mean: Decimal | None,
    rounded: Decimal | None,
    acceptance_pass: bool | None,
    unit: str,
    details: dict[str, Any],
    reason: str | None = None,
) -> list[Measurement]:
    """The point judged against the MPE, and against the acceptance limit when there is one."""
    mpe = Measurement(
        mean, passed, rounded, -limits.mpe, limits.mpe, unit, reason=reason, details=details
    )
    out = [mpe]
    if getattr(limits, "acceptance", None) is not None:
        out.append(
            mpe.against(
                LimitKind.ACCEPTANCE, -limits.acceptance, limits.acceptance, bool(acceptance_pass)
            )
        )
    return out
