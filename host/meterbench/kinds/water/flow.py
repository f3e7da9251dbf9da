"""Setting the flow of a water bench and checking that it is steady before a run.

The flow is measured with the controllers, never with a meter under test: a gated reading
counts the master meter's pulses over a gate and the gate's length in timer ticks, so
Q = V_ref / t. The gate is the master meter's own pulses on its count channel when the bench
has one (then the gate's pulses are the volume and only the tick count matters), else the
pulses of the meters in the line (then enough reference pulses per reading make the
resolution). The regulator moves the drive's demand until the flow sits well inside the
point's band, then asks for consecutive readings that agree within the stability limit.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from dataclasses import dataclass
from fractions import Fraction

from meterbench.config.meter_types import WaterMeterType
from meterbench.devices.flow import FlowDriver
from meterbench.devices.source import SourceError
from meterbench.devices.valves import Valve
from meterbench.kinds.water.config import WaterBench
from meterbench.runner.channel import Channel
from meterbench.runner.context import RunContext
from meterproto.link import messages as m

SECONDS_PER_HOUR = 3600
MIN_REFERENCE_GATE = 20  # master pulses per gate when gating on the master meter itself


class WaterBenchError(SourceError):
    """A water-bench device failed (drive, transmitter, balance, tank): a bench fault, like an
    unstable source, so the run stops and can be resumed once it is fixed."""


class FlowError(WaterBenchError):
    """The bench cannot set or hold the flow a point needs."""


def reference_volume_l(water: WaterBench, count: int) -> Fraction:
    """Litres the master meter's pulses stand for, corrected by its certified error."""
    ref = water.reference
    k = Fraction(str(ref.pulses_per_l))
    return Fraction(count) / k / (1 + Fraction(str(ref.error_pct)) / 100)


@dataclass
class _Source:
    channel: Channel
    litres_per_gate_pulse: Fraction
    gate_is_reference: bool = False


class FlowProbe:
    """Gated flow readings on one or more channels at once; the median across them."""

    def __init__(self, ctx: RunContext, water: WaterBench, sources: list[_Source]) -> None:
        self.ctx = ctx
        self.water = water
        self.sources = sources

    @classmethod
    def for_positions(cls, ctx: RunContext, water: WaterBench, positions: list[int]) -> FlowProbe:
        count = water.reference.count
        if count is not None:
            per_pulse = reference_volume_l(water, 1)
            channel = Channel(ctx, count.controller, count.channel, "master meter")
            return cls(ctx, water, [_Source(channel, per_pulse, gate_is_reference=True)])
        sources = []
        for position in positions:
            meter = ctx.meter_type(position)
            if isinstance(meter, WaterMeterType) and meter.pulse_volume_l:
                channel = Channel.of_position(ctx, position)
                sources.append(_Source(channel, Fraction(str(meter.pulse_volume_l))))
        return cls(ctx, water, sources)

    def _gate_pulses(self, source: _Source, expected_l_h: float) -> int:
        regulation = self.water.regulation
        litres = expected_l_h / SECONDS_PER_HOUR * regulation.reading_s
        by_time = math.ceil(litres / float(source.litres_per_gate_pulse))
        if self.water.reference.count is not None:
            return min(0xFFFF, max(MIN_REFERENCE_GATE, by_time))
        per_reference = float(source.litres_per_gate_pulse) * self.water.reference.pulses_per_l
        by_resolution = math.ceil(regulation.min_reference_pulses / per_reference)
        return min(0xFFFF, max(2, by_time, by_resolution))

    async def measure(self, expected_l_h: float, readings: int) -> list[float]:
        """``readings`` back-to-back flow readings in L/h (fewer if the flow stops)."""
        if not self.sources:
            raise FlowError(
                "no channel can measure the flow (no master-meter count channel "
                "and no meter with a pulse output)"
            )
        gates = {id(s): self._gate_pulses(s, expected_l_h) for s in self.sources}
        longest = max(gates[id(s)] * float(s.litres_per_gate_pulse) for s in self.sources)
        per_reading_s = longest / max(expected_l_h, 1e-9) * SECONDS_PER_HOUR
        budget = per_reading_s * (readings + 1) * 3 + 60.0
        for source in self.sources:
            source.channel.drain()
            await source.channel.request(
                m.ERR_START, pulses=gates[id(source)], readings=readings, skip=0
            )
        try:
            found = await asyncio.gather(
                *(self._collect(s, readings, budget) for s in self.sources)
            )
        finally:
            for source in self.sources:
                await source.channel.stop()
        out = []
        for index in range(readings):
            values = [flows[index] for flows in found if len(flows) > index]
            if not values:
                break
            out.append(statistics.median(values))
        return out

    async def _collect(self, source: _Source, readings: int, budget: float) -> list[float]:
        flows: list[float] = []
        while len(flows) < readings:
            try:
                msg = await source.channel.result(budget)
            except TimeoutError:
                return flows
            if msg.msg_type != m.ERR_READING or msg["flags"] & m.RF_OVERRUN:
                continue
            seconds = msg["gate_ticks"] / source.channel.tick_hz
            if seconds <= 0:
                continue
            if source.gate_is_reference:
                # The gate is the master meter's own pulses: its volume is exactly the gate's
                # pulses, whereas the counted copy may catch a boundary pulse or not (±1).
                litres = source.litres_per_gate_pulse * msg["pulses"]
            else:
                litres = reference_volume_l(self.water, msg["ref_count"])
            flows.append(float(litres) / seconds * SECONDS_PER_HOUR)
        return flows


@dataclass(frozen=True)
class FlowSetting:
    """A steady flow: its mean and the readings that showed it steady."""

    flow_l_h: float
    readings: tuple[float, ...]
    demand: float
    spread_pct: float


class FlowRegulator:
    """Closed-loop flow setting through the drive's demand, remembering what each demand gave
    so later points start close."""

    def __init__(self, ctx: RunContext, water: WaterBench, drive: FlowDriver, valve: Valve) -> None:
        self.ctx = ctx
        self.water = water
        self.drive = drive
        self.valve = valve
        self.running = False
        self.history: list[tuple[float, float]] = []  # (demand, flow L/h)

    def _guess(self, target: float) -> float:
        known = [(d, q) for d, q in self.history if q > 0 and d > 0]
        if not known:
            return target / self.water.flow.flow_at_max_l_h
        d, q = min(known, key=lambda dq: abs(math.log(dq[1] / target)))
        return d * (target / q) ** (1 / self._exponent(d, q))

    def _exponent(self, d: float, q: float) -> float:
        """How flow grows with demand near (d, q), from another remembered point (else 1)."""
        others = [(d2, q2) for d2, q2 in self.history if q2 > 0 and d2 > 0 and d2 != d]
        if not others:
            return 1.0
        d2, q2 = min(others, key=lambda dq: abs(math.log(dq[0] / d)))
        n = math.log(q2 / q) / math.log(d2 / d)
        return n if 0.3 <= n <= 3 else 1.0

    async def set_flow(
        self, probe: FlowProbe, target: float, low: float, high: float
    ) -> FlowSetting:
        """Bring the flow into the middle of [low, high] L/h and check it is steady."""
        regulation = self.water.regulation
        margin = regulation.band_margin * (high - low)
        window = (low + margin, high - margin)
        if not self.running:
            await self.drive.start()
            self.running = True
        if not self.valve.is_open:
            await self.valve.open()
        demand = self._guess(target)
        flow = 0.0
        for _ in range(regulation.max_adjustments):
            demand = await self.drive.set_demand(demand)
            await self.ctx.clock.sleep(regulation.settle_s)
            flows = await probe.measure(target, 1)
            if not flows:
                raise FlowError(f"no flow at {demand:.4f} of full drive (valve or pump fault?)")
            flow = flows[0]
            self.history.append((demand, flow))
            if window[0] <= flow <= window[1]:
                readings = await probe.measure(flow, regulation.stable_readings)
                setting = self._steady(readings, demand, low, high)
                if setting is not None:
                    return setting
                continue  # not steady yet: same demand, settle again
            if demand >= 1.0 and flow < window[0]:
                raise FlowError(f"the pump gives at most {flow:.1f} L/h; the point needs {low:g}")
            demand = min(1.0, max(1e-5, self._guess(target)))
        raise FlowError(
            f"the flow did not settle in {low:g}..{high:g} L/h after "
            f"{regulation.max_adjustments} adjustments (last {flow:.3f} L/h)"
        )

    def _steady(
        self, readings: list[float], demand: float, low: float, high: float
    ) -> FlowSetting | None:
        if len(readings) < self.water.regulation.stable_readings:
            return None
        mean = statistics.fmean(readings)
        spread = (max(readings) - min(readings)) / mean * 100 if mean > 0 else math.inf
        if spread > self.water.regulation.stability_pct or not low <= mean <= high:
            self.ctx.observer.event("warning", f"flow not steady yet ({spread:.2f} % spread)")
            return None
        return FlowSetting(mean, tuple(readings), demand, spread)


__all__ = [
    "FlowError",
    "FlowProbe",
    "FlowRegulator",
    "FlowSetting",
    "WaterBenchError",
    "reference_volume_l",
]
