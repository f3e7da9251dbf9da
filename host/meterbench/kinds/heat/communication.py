"""Communication of heat meters: every meter answers the CJ/T 188 reads the plan names.

``read_address`` asks the only meter on the line for its address (810A) and compares it with
the meter list; ``read_heat_data`` reads 901F as type 20H/21H and requires every field to
decode (cumulative heat, power, flow, cumulative volume, supply and return temperature,
working hours, real time, status), the clock to be set and the status to report no fault. The
decoded fields are stored with the reference thermometers' readings beside the meter's own
temperatures, so the record shows both."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from meterbench.kinds.heat.baths import reference_c
from meterbench.kinds.heat.session import HeatDevices
from meterbench.plan.model import CommunicationStep
from meterbench.results import Outcome, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import Measurement, conclude, no_result
from meterproto.cjt188.heat import HeatMeterData, describe_heat

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep


def heat_data_problems(data: HeatMeterData) -> list[str]:
    """Why a 901F heat reading is not acceptable as the meter's register ([] when it is)."""
    problems = list(data.warnings)
    if data.time is None and not any(w.startswith("real time") for w in data.warnings):
        problems.append("real time: not set")
    status = data.decoded_status()
    if status.battery_low:
        problems.append("status: battery low")
    return problems


def shares_bus(ctx: RunContext, position: int) -> bool:
    """Whether other positions hang on this position's meter bus."""
    positions = ctx.session.positions
    bus = positions[position].bus
    return any(p.bus == bus for n, p in positions.items() if n != position)


async def read_address(ctx: RunContext, position: int, client: Any) -> str:
    """The meter's address: asked with 810A when it is alone on its bus; on a shared bus every
    meter would answer the wildcard at once, so a 901F read addressed to the listed address
    must come back from that address (the client accepts no other)."""
    if not shares_bus(ctx, position):
        return await client.read_address()
    await client.read_heat()
    return client.address


async def communication(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(HeatDevices, ctx.session.devices)
    meters = [p for p in step.positions if p in ctx.session.meters]
    for p in step.positions:
        if p not in ctx.session.meters:
            no_result(ctx, p, step.key, Outcome.NO_RESULT, "the meter has no bus to reach it on")
    if not meters:
        return
    references = await reference_c(devices)

    async def check(position: int) -> None:
        client = ctx.session.meters[position]
        plan: CommunicationStep = step.for_position(ctx, position)
        results: dict[str, Any] = {}
        problems: list[str] = []
        wanted = ctx.meters[position].address
        for index, name in enumerate(plan.checks):
            try:
                if name == "read_address":
                    value: Any = await read_address(ctx, position, client)
                    if wanted is not None and value != wanted:
                        problems.append(f"address reads {value}, the meter list says {wanted}")
                elif name == "read_heat_data":
                    data = await client.read_heat()
                    value = describe_heat(data)
                    value["reference_supply_c"] = str(references[0])
                    value["reference_return_c"] = str(references[1])
                    problems += [f"901F {p}" for p in heat_data_problems(data)]
                else:
                    problems.append(f"{name}: not a heat-meter read")
                    break
                results[name] = value
                raw = {"check": name, "value": value if isinstance(value, dict) else str(value)}
                ctx.append(ctx.reading(position, step.key, index, raw))
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


__all__ = ["communication", "heat_data_problems"]
