"""The water-meter error item on its own, on a manual clock with fake devices: a pump whose flow
follows the demand, a valve, a thermometer and a controller that gates the master meter's
pulses on each meter's pulses. A flying-start point sets the flow into its band, takes one
gated run per meter, and judges each meter's error against its zone's MPE."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from item_fakes import REPO, FakeStore, Msg  # noqa: E402

from meterbench.clock import ManualClock  # noqa: E402
from meterbench.config.bench import load_bench  # noqa: E402
from meterbench.config.meter_types import WaterMeterType, load_meter_type  # noqa: E402
from meterbench.config.plans import load_plan  # noqa: E402
from meterbench.kinds.water.config import water_of  # noqa: E402
from meterbench.kinds.water.session import WaterDevices  # noqa: E402
from meterbench.kinds.water.water_error import water_error  # noqa: E402
from meterbench.plan.expand import expand_plan  # noqa: E402
from meterbench.results import Outcome  # noqa: E402
from meterbench.runner.context import RunContext  # noqa: E402
from meterbench.runner.engine import bench_context, planned_steps  # noqa: E402
from meterbench.runner.meters import MeterEntry  # noqa: E402
from meterbench.runner.session import BenchSession  # noqa: E402
from meterproto.link import messages as m  # noqa: E402

BENCH = REPO / "bench_configs" / "sim-water-10.toml"
PLAN = REPO / "bench_configs" / "plans" / "jjg162-2019-water.toml"
PHOTO = REPO / "bench_configs" / "meter_types" / "water-dn15-q3-2.5-r160-photo.toml"
TICK_HZ = 1_000_000


class Hydraulics:
    """Flow = demand x the drive's flow at full speed, while the pump runs and the valve is open."""

    def __init__(self, flow_at_max: float) -> None:
        self.flow_at_max = flow_at_max
        self.demand = 0.0
        self.running = False
        self.valve_open = False

    @property
    def flow_l_h(self) -> float:
        return self.demand * self.flow_at_max if self.running and self.valve_open else 0.0


class FakeDrive:
    def __init__(self, water: Hydraulics) -> None:
        self.water = water

    async def start(self) -> None:
        self.water.running = True

    async def stop(self) -> None:
        self.water.running = False

    async def set_demand(self, demand: float) -> float:
        self.water.demand = demand
        return demand


class FakeValve:
    def __init__(self, water: Hydraulics) -> None:
        self.water = water

    @property
    def is_open(self) -> bool:
        return self.water.valve_open

    async def open(self) -> None:
        self.water.valve_open = True

    async def close(self) -> None:
        self.water.valve_open = False


class FakeThermometer:
    async def read_c(self) -> Decimal:
        return Decimal("20.0")


class WaterController:
    """Gated readings: on the master meter's count channel its own pulses are the gate; on a
    meter's channel the master meter's pulses are counted over N of the meter's pulses."""

    def __init__(self, hydraulics: Hydraulics, errors: dict[int, float], config: Any) -> None:
        self.hydraulics = hydraulics
        self.errors = errors  # meter error % by channel
        water = water_of(config)
        self.k = Fraction(str(water.reference.pulses_per_l))
        self.ref_error = 1 + Fraction(str(water.reference.error_pct)) / 100
        assert water.reference.count is not None  # the bench counts its master meter
        self.count_channel = water.reference.count.channel
        meter_type = load_meter_type(PHOTO)
        assert isinstance(meter_type, WaterMeterType)
        self.pulse_l = Fraction(str(meter_type.pulse_volume_l))
        self.results: asyncio.Queue[Msg] = asyncio.Queue()
        self.restarts = 0

    async def next_result(self) -> Msg:
        return await self.results.get()

    async def request(self, msg_type: int, position: int | None = None, **fields: Any) -> None:
        if msg_type != m.ERR_START or position is None:
            return
        flow = Fraction(self.hydraulics.flow_l_h)
        assert flow > 0, "a gate was started with no water flowing"
        pulses = fields["pulses"]
        if position == self.count_channel:
            actual, ref_count = pulses / self.k / self.ref_error, pulses
        else:
            indicated = pulses * self.pulse_l
            actual = indicated / (1 + Fraction(self.errors[position]) / 100)
            ref_count = round(actual * self.k * self.ref_error)
        ticks = round(actual / flow * 3600 * TICK_HZ)
        for index in range(fields["readings"]):
            self.results.put_nowait(
                Msg(
                    m.ERR_READING,
                    position=position,
                    index=index,
                    pulses=pulses,
                    ref_count=ref_count,
                    gate_ticks=ticks,
                    t_ms=0,
                    flags=0,
                )
            )


def test_a_flying_start_point_judges_every_meter_against_its_zone() -> None:
    config = load_bench(BENCH)
    water = water_of(config)
    meter_type = load_meter_type(PHOTO)
    errors = {1: 0.4, 2: -3.0}  # by position: within and beyond the upper zone's 2 %
    hydraulics = Hydraulics(water.flow.flow_at_max_l_h)
    controller = WaterController(hydraulics, {p - 1: e for p, e in errors.items()}, config)
    devices = WaterDevices(
        water,
        FakeDrive(hydraulics),  # type: ignore[arg-type]
        FakeThermometer(),  # type: ignore[arg-type]
        FakeValve(hydraulics),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # no Modbus line: the drive is faked
    )
    meters = [MeterEntry(p, PHOTO.stem, PHOTO, meter_type, f"W{p}") for p in errors]
    controllers: dict[str, Any] = {"C1": controller}
    session = BenchSession(
        config, controllers, {}, devices, {}, hello={"C1": {"tick_hz": str(TICK_HZ)}}
    )
    store = FakeStore()
    clock = ManualClock()
    ctx = RunContext("run", store, session, clock, {e.position: e for e in meters})  # type: ignore[arg-type]
    expansion = expand_plan(load_plan(PLAN), meter_type, bench=bench_context(config))
    steps = planned_steps({meters[0].type_id: expansion}, meters)
    q3 = next(s for s in steps if s.key == "water_error/Q3")

    async def main() -> None:
        try:
            await water_error(ctx, q3)
        finally:
            for router in ctx.routers.values():
                await router.close()

    asyncio.run(asyncio.wait_for(main(), 30))
    done = store.conclusions(q3.key)
    assert done[1, "mpe"].outcome is Outcome.PASS and done[1, "mpe"].rounded == Decimal("0.4")
    assert done[2, "mpe"].outcome is Outcome.FAIL and "upper zone" in done[2, "mpe"].reason
    assert done[1, "mpe"].details["start"] == "flying" and done[1, "mpe"].unit == "%"
    point = q3.by_type[meters[0].type_id]
    flow = float(Fraction(done[1, "mpe"].details["flow_l_h"]))
    assert float(point.band_low_l_h) <= flow <= float(point.band_high_l_h)
    assert clock.now() >= water.regulation.settle_s  # the flow settled on the bench clock
    readings = store.readings("run", q3.key)
    assert {r.position for r in readings} == {1, 2}
