"""A flying-start run with the master meter: gates on meter pulses while the water flows.

The flow is already steady when the run starts. Each controller gates the master meter's
pulses (its reference input) on N pulses of each meter, N·δV >= the point's volume, so every
meter gets its own actual volume and gate time, free of any start-up or run-out effect, and
the flow of the run is that volume over the gate's time.
"""

from __future__ import annotations

import asyncio
import math
from fractions import Fraction

from meterbench.kinds.water.flow import FlowSetting, reference_volume_l
from meterbench.kinds.water.runs import (
    SECONDS_PER_HOUR,
    RunOutcome,
    RunResult,
    pulse_value_l,
    temperature_c,
)
from meterbench.kinds.water.session import WaterDevices
from meterbench.regulations.numbers import plain
from meterbench.runner.channel import Channel
from meterbench.runner.context import RunContext
from meterproto.link import messages as m

MAX_GATE = 0xFFFF  # pulses per gated reading (link field width)


def gate_plan(volume_l: Fraction, pulse_l: Fraction) -> tuple[int, int]:
    """(pulses per reading, readings): at least ``volume_l`` in readings of at most 65535
    pulses, back to back (their reference counts add up exactly)."""
    total = max(1, math.ceil(volume_l / pulse_l))
    readings = math.ceil(total / MAX_GATE)
    return math.ceil(total / readings), readings


async def flying_run(
    ctx: RunContext,
    devices: WaterDevices,
    positions: list[int],
    volume_l: Fraction,
    setting: FlowSetting,
    step_key: str,
) -> RunOutcome:
    """Every meter's gate, all at once; ``step_key`` is for the log."""
    water = devices.config
    outcome = RunOutcome()
    before = await temperature_c(devices)
    plans: dict[int, tuple[int, int]] = {}
    for position in positions:
        pulse = pulse_value_l(ctx, position)
        assert pulse is not None  # the executor only gates meters with a pulse output
        plans[position] = gate_plan(volume_l, pulse)
        channel = Channel.of_position(ctx, position)
        channel.drain()
        pulses, readings = plans[position]
        await channel.request(m.ERR_START, pulses=pulses, readings=readings, skip=0)
    expected_s = float(volume_l) / max(setting.flow_l_h, 1e-9) * SECONDS_PER_HOUR

    async def collect(position: int) -> None:
        channel = Channel.of_position(ctx, position)
        pulses, readings = plans[position]
        ref_count = ticks = got = 0
        try:
            while got < readings:
                try:
                    msg = await channel.result(expected_s * 3 + 60.0)
                except TimeoutError:
                    outcome.problems[position] = "no gate closed: the meter gave too few pulses"
                    return
                if msg.msg_type != m.ERR_READING:
                    continue
                if msg["flags"] & m.RF_OVERRUN:
                    outcome.problems[position] = "the controller lost meter pulses"
                    return
                ref_count += msg["ref_count"]
                ticks += msg["gate_ticks"]
                got += 1
        finally:
            await channel.stop()
        pulse = pulse_value_l(ctx, position)
        assert pulse is not None
        actual = reference_volume_l(water, ref_count)
        seconds = Fraction(ticks, channel.tick_hz)
        if actual <= 0 or seconds <= 0:
            outcome.problems[position] = "no master-meter pulses during the gate"
            return
        indicated = pulse * pulses * readings
        outcome.results[position] = RunResult(
            indicated,
            actual,
            actual / seconds * SECONDS_PER_HOUR,
            {
                "method": "master_meter",
                "start": "flying",
                "meter_pulses": pulses * readings,
                "pulse_value_l": str(plain(pulse)),
                "reference_count": ref_count,
                "reference_pulses_per_l": water.reference.pulses_per_l,
                "reference_error_pct": water.reference.error_pct,
                "gate_ticks": ticks,
                "tick_hz": channel.tick_hz,
            },
        )

    await asyncio.gather(*(collect(p) for p in positions))
    after = await temperature_c(devices)
    outcome.temperature_c = (before + after) / 2
    for result in outcome.results.values():
        result.raw["temperature_c"] = str(outcome.temperature_c)
    return outcome


__all__ = ["flying_run", "gate_plan"]
