"""Communication: every meter answers the reads the plan names (address, energy, date and
time) over its bus."""

from __future__ import annotations

import asyncio
from typing import Any

from meterbench.kinds.electricity.items.common import voltage_only
from meterbench.kinds.electricity.source import apply
from meterbench.plan.model import CommunicationStep
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude, no_result


async def communication(ctx: RunContext, step: PlannedStep) -> None:
    meters = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            no_result(ctx, p, step.key, Outcome.NO_RESULT, "the meter has no bus to reach it on")
    if not meters:
        return
    await apply(ctx, voltage_only(ctx, meters))

    async def check(position: int) -> None:
        client = ctx.session.meters[position]
        plan: CommunicationStep = step.for_position(ctx, position)
        results: dict[str, Any] = {}
        problems: list[str] = []
        wanted = ctx.meters[position].address
        for index, name in enumerate(plan.checks):
            try:
                if name == "read_address":
                    value: Any = await client.read_address()
                    if wanted is not None and value != wanted:
                        problems.append(f"address reads {value}, the meter list says {wanted}")
                elif name == "read_energy":
                    value = str(await client.read_energy())
                elif name == "read_datetime":
                    value = (await client.read_clock()).isoformat()
                else:
                    value = str((await client.read(name)).value)
                results[name] = value
                ctx.append(
                    ctx.reading(position, step.key, index, {"check": name, "value": str(value)})
                )
            except Exception as exc:  # noqa: BLE001 - any failure is this position's result
                problems.append(f"{name}: {exc}")
                ctx.log(
                    Severity.ERROR,
                    "timeout",
                    f"{name} failed: {exc}",
                    position,
                    step.key,
                    ctx.trace(position),
                )
                break
        measured = Measurement(
            None, not problems, reason="; ".join(problems) or None, details={"checks": results}
        )
        conclude(ctx, position, step.key, measured, say=f"communication: {measured.outcome.value}")

    await asyncio.gather(*(check(p) for p in meters))
