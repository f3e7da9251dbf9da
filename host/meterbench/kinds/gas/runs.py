"""One standing-start run of a gas flow point over every meter in the line: meters read at
rest, the reference counted from rest to rest, and the reference volume carried to the meter
line's pressure and temperature.

Why standing start: the meters' registers are read over CJ/T 188 one after the other, which
takes time; with the air at rest the reading does not depend on when it was taken, and the
start and stop transients pass the reference and the meters alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from meterbench.devices.cjt188_client import VolumeReading
from meterbench.devices.modbus_client import ModbusError
from meterbench.devices.source import SourceError
from meterbench.kinds.gas import registers as r
from meterbench.kinds.gas.devices import LineConditions, ReferenceState
from meterbench.kinds.gas.session import GasDevices
from meterbench.regulations.gas import bell_volume_at_meter
from meterbench.results import Severity
from meterbench.runner.context import RunContext
from meterproto.cjt188.heat import volume_m3
from meterproto.cjt188.messages import UNIT_LITRE, UNIT_M3

LITRES_PER_M3 = 1000
REFILL_POLLS = 10_000


class GasBenchError(SourceError):
    """A gas-bench device failed or cannot give what a point needs: a bench fault, so the
    run stops and can be resumed once it is fixed."""


@dataclass
class MeterRun:
    indicated_l: Fraction
    actual_l: Fraction
    raw: dict[str, Any]
    register_problem: str | None = None


@dataclass
class GasRunOutcome:
    results: dict[int, MeterRun] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
    flow_l_h: Fraction = Fraction(0)
    raw: dict[str, Any] = field(default_factory=dict)


async def _reference(devices: GasDevices) -> ReferenceState:
    try:
        return await devices.reference.read()
    except ModbusError as exc:
        raise GasBenchError(f"reference: {exc}") from exc


async def _line(devices: GasDevices) -> LineConditions:
    try:
        return await devices.sensors.conditions()
    except ModbusError as exc:
        raise GasBenchError(f"line sensors: {exc}") from exc


async def _command(devices: GasDevices, command: int) -> None:
    try:
        await devices.reference.command(command)
    except ModbusError as exc:
        raise GasBenchError(f"reference: {exc}") from exc


async def ensure_bell_volume(ctx: RunContext, devices: GasDevices, needed_l: Fraction) -> None:
    """Refill the bell when what is left cannot deliver ``needed_l``."""
    gas = devices.config
    if gas.method != "bell" or gas.reference.capacity_l is None:
        return
    capacity = Fraction(str(gas.reference.capacity_l))
    if needed_l > capacity:
        raise GasBenchError(
            f"the bell holds {float(capacity):g} L; a run needs {float(needed_l):.1f} L"
        )
    state = await _reference(devices)
    if Fraction(state.left_l) >= needed_l:
        return
    ctx.observer.event("info", "refilling the bell")
    await _command(devices, r.CMD_REFILL)
    for _ in range(REFILL_POLLS):
        await ctx.clock.sleep(gas.timing.poll_s * 5)
        state = await _reference(devices)
        if not state.moving:
            break
    if Fraction(state.left_l) < needed_l:
        raise GasBenchError(f"the bell refilled to {state.left_l} L only; a run needs more")


async def read_registers(
    ctx: RunContext, positions: list[int], when: str, step_key: str
) -> tuple[dict[int, VolumeReading], dict[int, str]]:
    """Each meter's register; a meter that does not answer is that meter's problem only."""
    out: dict[int, VolumeReading] = {}
    problems: dict[int, str] = {}
    for position in positions:
        client = ctx.session.meters.get(position)
        if client is None:
            problems[position] = "the meter has no register the bench can read"
            continue
        try:
            out[position] = await client.read_volume()
        except Exception as exc:  # noqa: BLE001 - this meter's problem only
            problems[position] = f"register read {when} the run: {exc}"
            ctx.log(
                Severity.ERROR,
                "timeout",
                problems[position],
                position,
                step_key,
                trace=[e.to_dict() for e in client.bus.trace.last(12)],
            )
    return out, problems


def register_litres(reading: VolumeReading) -> Fraction:
    """The register in litres; ValueError for a unit that is no volume."""
    unit = {"L": UNIT_LITRE, "m3": UNIT_M3}.get(reading.unit)
    if unit is None:
        raise ValueError(f"the register reports in {reading.unit}, not a volume")
    return Fraction(volume_m3(reading.volume, unit)) * LITRES_PER_M3


def register_problem(before: VolumeReading, after: VolumeReading) -> str | None:
    """What makes a run unusable beyond its value: a meter reporting its valve shut (in
    service no gas would pass it), before or after the run."""
    for reading in (before, after):
        if reading.valve != "open":
            return f"the meter's valve reports {reading.valve}"
    return None


def _text(value: Fraction, places: int = 6) -> str:
    return f"{float(value):.{places}f}"


async def standing_run(
    ctx: RunContext,
    devices: GasDevices,
    positions: list[int],
    volume_l: Fraction,
    flow_l_h: float,
    humidity: bool,
    step_key: str,
) -> GasRunOutcome:
    """Deliver ``volume_l`` at ``flow_l_h`` through the line from rest to rest."""
    gas = devices.config
    outcome = GasRunOutcome()
    settle_l = Fraction(flow_l_h) * Fraction(str(gas.timing.settle_s)) / 3600
    await ensure_bell_volume(ctx, devices, volume_l * Fraction(105, 100) + settle_l)
    before, problems = await read_registers(ctx, positions, "before", step_key)
    outcome.problems.update(problems)
    start = await _reference(devices)
    line_start = await _line(devices)
    try:
        await devices.reference.set_flow(flow_l_h)
    except ModbusError as exc:
        raise GasBenchError(f"reference: {exc}") from exc
    await _command(devices, r.CMD_DELIVER)
    started = ctx.clock.now()
    # a stuck bell or a closed line must not hold the run for ever: three times the time the
    # volume takes at the flow asked for, plus the settling
    budget = 3 * float(volume_l) / flow_l_h * 3600 + gas.timing.settle_s + 60
    flows: list[Decimal] = []
    state = start
    while (delivered := devices.reference.volume_l(state.count - start.count)) < volume_l:
        if ctx.clock.now() - started > budget:
            await _command(devices, r.CMD_STOP)
            raise GasBenchError(
                f"the reference counted {float(delivered):.1f} L of {float(volume_l):.1f} L "
                f"in {budget:.0f} s at {flow_l_h:g} L/h (line closed or drive stuck?)"
            )
        await ctx.clock.sleep(gas.timing.poll_s)
        state = await _reference(devices)
        if ctx.clock.now() - started >= gas.timing.settle_s:
            flows.append(state.flow_l_h)
        if state.empty:
            await _command(devices, r.CMD_STOP)
            raise GasBenchError("the bell ran empty during a run")
    await _command(devices, r.CMD_STOP)
    await ctx.clock.sleep(gas.timing.rest_s)
    end = await _reference(devices)
    line_end = await _line(devices)
    after, problems = await read_registers(ctx, positions, "after", step_key)
    for position, problem in problems.items():
        outcome.problems.setdefault(position, problem)
    counts = end.count - start.count
    reference_l = devices.reference.volume_l(counts)
    ref_t = (Fraction(start.temperature_c) + Fraction(end.temperature_c)) / 2
    ref_p = Fraction(start.pressure_pa + end.pressure_pa, 2)
    line_t = (Fraction(line_start.temperature_c) + Fraction(line_end.temperature_c)) / 2
    line_p = Fraction(line_start.pressure_pa + line_end.pressure_pa, 2)
    phi = 1 if humidity else 0
    actual = bell_volume_at_meter(reference_l, ref_p, ref_t, line_p, line_t, phi, phi)
    if flows:
        outcome.flow_l_h = sum((Fraction(f) for f in flows), Fraction(0)) / len(flows)
    outcome.raw = {
        "reference_counts": counts,
        "reference_l": _text(reference_l),
        "reference_temperature_c": [str(start.temperature_c), str(end.temperature_c)],
        "reference_pressure_pa": [start.pressure_pa, end.pressure_pa],
        "line_temperature_c": [str(line_start.temperature_c), str(line_end.temperature_c)],
        "line_pressure_pa": [line_start.pressure_pa, line_end.pressure_pa],
        "humidity_correction": humidity,
        "flow_l_h": _text(outcome.flow_l_h, 3),
    }
    for position in positions:
        if position in outcome.problems:
            continue
        try:
            indicated = register_litres(after[position]) - register_litres(before[position])
        except ValueError as exc:
            outcome.problems[position] = str(exc)
            continue
        outcome.results[position] = MeterRun(
            indicated_l=indicated,
            actual_l=actual,
            raw={
                **outcome.raw,
                "register_before": str(before[position].volume),
                "register_after": str(after[position].volume),
                "register_unit": after[position].unit,
            },
            register_problem=register_problem(before[position], after[position]),
        )
    return outcome


__all__ = [
    "GasBenchError",
    "GasRunOutcome",
    "MeterRun",
    "ensure_bell_volume",
    "read_registers",
    "register_litres",
    "standing_run",
]
