"""A standing-start run: every meter and the reference read at rest before and after.

The start valve closes and the water comes to rest; every meter is read (its pulses counted
from now on, its CJ/T 188 register read) and so is the reference (the master meter's pulses
counted on its channel, or the balance read stable, the tank emptied first if the run would
not fit); the valve opens for the volume and closes; at rest again everything is read a
second time. Start-up and run-out belong to the run, as on any standing-start bench. A meter
with both a pulse output and a register has a second indication, which must agree with the
first within one register digit and one pulse. The flow of the run is the steady flow measured
at the unchanged drive setting just before it (the valve timing is the host's, the flow
measurement the controllers').
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from meterbench.devices.cjt188_client import VolumeReading
from meterbench.devices.scale import ScaleError
from meterbench.kinds.water.flow import FlowSetting, WaterBenchError, reference_volume_l
from meterbench.kinds.water.runs import (
    SECONDS_PER_HOUR,
    RunOutcome,
    RunResult,
    decimal_text,
    pulse_value_l,
    temperature_c,
)
from meterbench.kinds.water.session import WaterDevices
from meterbench.regulations.numbers import plain
from meterbench.regulations.water_density import weighed_volume_l
from meterbench.results import Severity
from meterbench.runner.channel import Channel
from meterbench.runner.context import RunContext
from meterproto.link import messages as m

WINDOW_MS = 24 * 3600 * 1000  # pulse counts are stopped by the host long before
LITRES = {"L": Fraction(1), "m3": Fraction(1000)}
RUN_MARGIN = 1.02  # the valve stays open a little longer than the volume needs


async def _stable_kg(ctx: RunContext, devices: WaterDevices) -> Decimal:
    assert devices.scale is not None and devices.config.scale is not None
    timeout = ctx.wall(devices.config.scale.stable_timeout_s) + 2.0
    last: Exception | None = None
    for _ in range(3):
        try:
            return await devices.scale.stable_kg(timeout)
        except ScaleError as exc:
            last = exc
    raise WaterBenchError(f"balance: {last}")


async def _make_room(ctx: RunContext, devices: WaterDevices, volume_l: Fraction) -> None:
    """Empty the weighing tank (closing its drain) unless the run's water fits as it is."""
    assert devices.scale is not None and devices.config.scale is not None
    info = devices.config.scale
    drain = devices.drain_valve
    try:
        weight, _ = await devices.scale.weight_kg()
        fits = info.capacity_kg - float(weight) >= float(volume_l) * 1.2 + 1.0
    except ScaleError:  # over its range
        weight, fits = None, False
    if drain is None:
        if not fits:
            raise WaterBenchError(f"the weighing tank is full ({weight} kg) and has no drain")
        return
    if fits and not drain.is_open:
        return
    await drain.open()
    try:
        for _ in range(720):
            await ctx.clock.sleep(5.0)
            try:
                weight, _ = await devices.scale.weight_kg()
            except ScaleError:
                continue
            if float(weight) <= info.drain_to_kg:
                break
        else:
            raise WaterBenchError(f"the weighing tank does not drain (still {weight} kg)")
    finally:
        await drain.close()


async def _registers(
    ctx: RunContext, devices: WaterDevices, positions: list[int], when: str, step_key: str
) -> dict[int, VolumeReading]:
    out: dict[int, VolumeReading] = {}
    for position in positions:
        client = ctx.session.meters.get(position)
        if client is None:
            continue
        try:
            out[position] = await client.read_volume()
        except Exception as exc:  # noqa: BLE001 - this meter's problem only
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"register read {when} the run: {exc}",
                position,
                step_key,
                trace=[e.to_dict() for e in client.bus.trace.last(12)],
            )
    return out


async def _window_count(channel: Channel) -> int | None:
    ended = await channel.stop_count()
    if ended is None or ended[1] & m.WF_OVERRUN:
        return None
    return ended[0]


def _litres(reading: VolumeReading) -> tuple[Fraction, Fraction]:
    """(register in litres, one digit in litres)."""
    factor = LITRES.get(reading.unit)
    if factor is None:
        raise ValueError(f"register unit {reading.unit!r} is not a volume")
    return Fraction(reading.volume) * factor, Fraction(1, 100) * factor


async def standing_run(
    ctx: RunContext,
    devices: WaterDevices,
    positions: list[int],
    volume_l: Fraction,
    setting: FlowSetting,
    step_key: str,
) -> RunOutcome:
    water = devices.config
    outcome = RunOutcome()
    await devices.start_valve.close()
    await ctx.clock.sleep(water.rest_s)
    gravimetric = water.method == "gravimetric"
    weights: list[Decimal] = []
    if gravimetric:
        await _make_room(ctx, devices, volume_l)
        weights.append(await _stable_kg(ctx, devices))
    counting = [p for p in positions if pulse_value_l(ctx, p) is not None]
    channels = {p: Channel.of_position(ctx, p) for p in counting}
    reference: Channel | None = None
    if not gravimetric:
        count = water.reference.count
        assert count is not None  # the bench config requires it for this mode
        reference = Channel(ctx, count.controller, count.channel, "master meter")
        await reference.start_count(WINDOW_MS)
    for channel in channels.values():
        await channel.start_count(WINDOW_MS)
    before = await _registers(ctx, devices, positions, "before", step_key)
    t_before = await temperature_c(devices)
    opened_at = ctx.clock.now()
    await devices.start_valve.open()
    await ctx.clock.sleep(float(volume_l) / setting.flow_l_h * SECONDS_PER_HOUR * RUN_MARGIN)
    await devices.start_valve.close()
    closed_at = ctx.clock.now()
    await ctx.clock.sleep(water.rest_s)
    t_after = await temperature_c(devices)
    outcome.temperature_c = (t_before + t_after) / 2
    after = await _registers(ctx, devices, positions, "after", step_key)
    counts = {p: await _window_count(c) for p, c in channels.items()}
    raw: dict[str, Any] = {
        "method": water.method,
        "start": "standing",
        "temperature_c": str(outcome.temperature_c),
        "valve_open_s": round(closed_at - opened_at, 3),
        "steady_flow_l_h": round(setting.flow_l_h, 4),
    }
    if reference is not None:
        ref_count = await _window_count(reference)
        if ref_count is None:
            raise WaterBenchError("the master meter's pulse count was lost")
        actual = reference_volume_l(water, ref_count)
        raw.update(
            reference_count=ref_count,
            reference_pulses_per_l=water.reference.pulses_per_l,
            reference_error_pct=water.reference.error_pct,
        )
    else:
        assert water.scale is not None
        weights.append(await _stable_kg(ctx, devices))
        actual = weighed_volume_l(
            weights[0],
            weights[1],
            outcome.temperature_c,
            Fraction(str(water.scale.air_density_kg_m3)),
            Fraction(str(water.scale.weights_density_kg_m3)),
        )
        raw.update(scale_before_kg=str(weights[0]), scale_after_kg=str(weights[1]))
    if actual <= 0:
        raise WaterBenchError("no water reached the reference during the run")
    raw["run_mean_flow_l_h"] = decimal_text(actual / Fraction(closed_at - opened_at) * 3600, 4)
    for position in positions:
        result = _standing_result(
            ctx, position, counts.get(position), before.get(position), after.get(position)
        )
        if isinstance(result, str):
            outcome.problems[position] = result
            continue
        indicated, own, problem = result
        outcome.results[position] = RunResult(
            indicated, actual, Fraction(setting.flow_l_h), {**raw, **own}, problem
        )
    return outcome


def _standing_result(
    ctx: RunContext,
    position: int,
    count: int | None,
    before: VolumeReading | None,
    after: VolumeReading | None,
) -> tuple[Fraction, dict[str, Any], str | None] | str:
    """(indicated litres, raw values, register problem) or why the meter has no result."""
    pulse = pulse_value_l(ctx, position)
    own: dict[str, Any] = {}
    by_pulses = by_register = digit = None
    if pulse is not None and count is not None:
        by_pulses = pulse * count
        own.update(meter_pulses=count, pulse_value_l=str(plain(pulse)))
    if before is not None and after is not None:
        try:
            start, digit = _litres(before)
            end, _ = _litres(after)
        except ValueError as exc:
            return str(exc)
        by_register = end - start
        own.update(
            register_before=str(before.volume),
            register_after=str(after.volume),
            register_unit=before.unit,
        )
    if by_pulses is None and by_register is None:
        if pulse is not None:
            return "the meter's pulses could not be counted"
        return "the meter's register could not be read"
    problem = None
    if by_pulses is not None and by_register is not None and digit is not None:
        own["register_l"] = decimal_text(by_register)
        tolerance = digit + (pulse or 0)
        if abs(by_register - by_pulses) > tolerance:
            problem = (
                f"register advanced {decimal_text(by_register, 3)} L, pulse output "
                f"{decimal_text(by_pulses, 3)} L: they disagree beyond one digit and one pulse"
            )
    indicated = by_pulses if by_pulses is not None else by_register
    assert indicated is not None
    return indicated, own, problem


__all__ = ["standing_run"]
