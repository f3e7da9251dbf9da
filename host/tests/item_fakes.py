"""Small fakes of an electricity bench for the item unit tests: a source that integrates energy
on a manual clock, a controller that answers the measurement functions from each meter's
configured behaviour, DL/T 645 meter clients, and an in-memory store. No simulator: each fake
implements only the interface the items use, so a test says exactly what the bench did."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from meterbench.clock import ManualClock
from meterbench.config.bench import load_bench
from meterbench.config.meter_types import ElectricityMeterType, load_meter_type
from meterbench.config.plans import load_plan
from meterbench.devices.electricity_meter import EnergyRegister, PulseOutput
from meterbench.electrical import Setpoint
from meterbench.kinds.electricity.devices import ElectricityDevices
from meterbench.plan.expand import expand_plan
from meterbench.regulations.pulses import expected_reference_pulses
from meterbench.runner.context import RunContext
from meterbench.runner.engine import bench_context, planned_steps
from meterbench.runner.items import PlannedStep
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import BenchSession
from meterproto.link import messages as m

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BENCH = HERE / "benches" / "runner-1p-8.toml"
METER_TYPE = REPO / "bench_configs" / "meter_types" / "1p-class2-5-60a.toml"
REFERENCE_CONSTANT = 2.0e6
TIMEBASE_HZ = 10e6


@dataclass
class Behaviour:
    """What one fake meter does."""

    error_pct: float = 0.0
    creep_pulses: int = 0
    start_after_s: float | None = 5.0  # first pulse at the starting current, None: never
    clock_error_s_per_day: float = 0.0
    register_ahead_pct: float = 0.0
    tariff_lag_pct: float = 0.0  # tariff 1 (the one in effect) slower than the total register
    answers: bool = True


class FakeSource:
    """Sets what it is told at once and integrates the energy it delivers on the clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.setpoint = Setpoint.off()
        self.applied: list[Setpoint] = []
        self.total_kwh = Fraction(0)
        self._since = clock.now()
        self._counting_from: Fraction | None = None

    def _advance(self) -> None:
        now = self.clock.now()
        power = self.setpoint.active_power_w if self.setpoint.output_on else 0.0
        self.total_kwh += Fraction(power) * Fraction(now - self._since) / Fraction(3_600_000)
        self._since = now

    async def apply(self, setpoint: Setpoint) -> None:
        self._advance()
        self.setpoint = setpoint
        self.applied.append(setpoint)

    async def wait_stable(self, timeout_s: float) -> None:
        return None

    async def is_stable(self) -> bool:
        return True

    async def start_energy(self) -> None:
        self._advance()
        self._counting_from = self.total_kwh

    async def stop_energy(self) -> Decimal:
        self._advance()
        assert self._counting_from is not None
        done = self.total_kwh - self._counting_from
        return Decimal(done.numerator) / Decimal(done.denominator)

    async def output_off(self) -> None:
        await self.apply(Setpoint.off())


class Msg:
    """A controller result as the items read it: ``msg_type`` and ``msg[field]``."""

    def __init__(self, msg_type: int, **fields: Any) -> None:
        self.msg_type = msg_type
        self.fields = fields

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


class FakeController:
    """Answers ERR_START, WINDOW_START, PERIOD_START and STOP per channel from the meters'
    behaviour; results go on one queue, as a real controller streams them."""

    def __init__(self, source: FakeSource, meters: dict[int, Behaviour], constant: float) -> None:
        self.source = source
        self.meters = meters  # by channel
        self.constant = constant
        self.results: asyncio.Queue[Msg] = asyncio.Queue()
        self.restarts = 0
        self.boot_id = 1
        self.requests: list[tuple[int, int | None]] = []
        self._open_windows: dict[int, Fraction] = {}

    async def check_boot(self) -> bool:
        return False

    async def next_result(self) -> Msg:
        return await self.results.get()

    def _put(self, msg_type: int, channel: int, **fields: Any) -> None:
        self.results.put_nowait(Msg(msg_type, position=channel, **fields))

    async def request(self, msg_type: int, position: int | None = None, **fields: Any) -> None:
        self.requests.append((msg_type, position))
        assert position is not None
        meter = self.meters[position]
        setpoint = self.source.setpoint
        if msg_type == m.ERR_START:
            pulses = fields["pulses"]
            m0 = expected_reference_pulses(REFERENCE_CONSTANT, pulses, self.constant)
            ref = round(m0 / (1 + Fraction(meter.error_pct) / 100))
            for index in range(fields["readings"] or 40):
                self._put(
                    m.ERR_READING,
                    position,
                    index=index,
                    pulses=pulses,
                    ref_count=ref,
                    gate_ticks=1000,
                    t_ms=0,
                    flags=0,
                )
        elif msg_type == m.WINDOW_START:
            if fields["duration_ms"] > 86_400_000:  # counted until the host stops it
                self.source._advance()
                self._open_windows[position] = self.source.total_kwh
                return
            current = setpoint.phases[0].current_a if setpoint.output_on else 0.0
            if current == 0:
                times = [1_000_000 * (i + 1) for i in range(meter.creep_pulses)]
            elif meter.start_after_s is None:
                times = []
            else:
                times = [int(meter.start_after_s * 1e6) * (i + 1) for i in range(3)]
            for n, t_us in enumerate(times, start=1):
                self._put(m.WINDOW_PULSE, position, input=0, n=n, t_us=t_us)
            self._put(m.WINDOW_END, position, input=0, count=len(times), duration_us=0, flags=0)
        elif msg_type == m.PERIOD_START:
            period = 1 / (1 + Fraction(meter.clock_error_s_per_day) / 86400)
            cycles = fields["cycles"]
            count = round(cycles * Fraction(TIMEBASE_HZ) * period)
            for index in range(fields["readings"]):
                self._put(
                    m.PERIOD_READING,
                    position,
                    index=index,
                    cycles=cycles,
                    timebase_count=count,
                    gate_ticks=0,
                    t_ms=0,
                    flags=0,
                )
        elif msg_type == m.STOP and position in self._open_windows:
            self.source._advance()
            energy = self.source.total_kwh - self._open_windows.pop(position)
            pulses = round(energy * Fraction(self.constant) * (1 + Fraction(meter.error_pct) / 100))
            self._put(m.WINDOW_END, position, input=0, count=pulses, duration_us=0, flags=0)


class FakeMeterClient:
    """A DL/T 645 client of one meter whose register follows the source's energy."""

    def __init__(
        self, address: str, behaviour: Behaviour, source: FakeSource, clock: ManualClock
    ) -> None:
        self.address = address
        self.behaviour = behaviour
        self.source = source
        self.clock = clock
        self.offset = dt.timedelta(seconds=30)  # wrong until set
        self.output_mode: Any = None
        self.bus = SimpleNamespace(trace=SimpleNamespace(last=lambda n: []))

    def _check(self) -> None:
        if not self.behaviour.answers:
            raise TimeoutError(f"meter {self.address}: no reply")

    def _now(self) -> dt.datetime:
        return self.clock.datetime().astimezone().replace(tzinfo=None) + self.offset

    protocol = "dlt645-2007"

    async def read_address(self) -> str:
        self._check()
        return self.address

    async def read_energy(
        self, register: EnergyRegister = EnergyRegister.ACTIVE_IMPORT, tariff: int = 0
    ) -> Decimal:
        self._check()
        self.source._advance()
        gain = 1 + Fraction(self.behaviour.error_pct + self.behaviour.register_ahead_pct) / 100
        kwh = Fraction(100) + self.source.total_kwh * gain
        if tariff > 1:  # all energy goes into tariff 1, the one in effect
            return Decimal("0.00")
        if tariff == 1:
            kwh -= self.source.total_kwh * gain * Fraction(self.behaviour.tariff_lag_pct) / 100
        return Decimal(round(float(kwh), 2)).quantize(Decimal("0.01"))

    async def read_clock(self) -> dt.datetime:
        self._check()
        self.source._advance()
        return self._now().replace(microsecond=0)

    async def set_clock(self, when: dt.datetime | None = None) -> None:
        self._check()
        self.offset = dt.timedelta(0)

    async def set_pulse_output(self, mode: PulseOutput) -> None:
        self._check()
        self.output_mode = mode


@dataclass
class FakeStore:
    records: list[Any] = field(default_factory=list)

    def append(self, *records: Any) -> int:
        self.records.extend(records)
        return len(records)

    def readings(
        self, run_id: str, step_key: str | None = None, position: int | None = None
    ) -> list[Any]:
        return [
            r
            for r in self.records
            if type(r).__name__ == "Reading"
            and (step_key is None or r.step_key == step_key)
            and (position is None or r.position == position)
        ]

    def next_reading_index(self, run_id: str, position: int, step_key: str) -> int:
        return len(self.readings(run_id, step_key, position))

    def conclusions(self, step_key: str) -> dict[tuple[int, str], Any]:
        return {
            (c.position, c.limit_kind.value): c
            for c in self.records
            if type(c).__name__ == "Conclusion" and c.step_key == step_key
        }


class FakeBench:
    """The runner test bench's 8 positions, faked; ``behaviours`` by position number."""

    def __init__(
        self, behaviours: dict[int, Behaviour], plan: Path, type_path: Path = METER_TYPE
    ) -> None:
        self.clock = ManualClock()
        self.config = load_bench(BENCH)
        meter_type = load_meter_type(type_path)
        assert isinstance(meter_type, ElectricityMeterType)
        self.source = FakeSource(self.clock)
        positions = self.config.positions
        by_channel = {p.channel: behaviours.get(p.number, Behaviour()) for p in positions}
        constant = float(meter_type.constant_imp_per_kwh)
        self.controller = FakeController(self.source, by_channel, constant)
        self.meters = [
            MeterEntry(p.number, type_path.stem, type_path, meter_type, f"M{p.number}")
            for p in positions
            if p.number in behaviours
        ]
        clients = {
            e.position: FakeMeterClient(
                f"{e.position:012d}", behaviours[e.position], self.source, self.clock
            )
            for e in self.meters
        }
        devices = ElectricityDevices(self.source, REFERENCE_CONSTANT, 30.0)  # type: ignore[arg-type]
        self.session = BenchSession(
            self.config,
            {"C1": self.controller},  # type: ignore[dict-item]
            {},
            devices,
            clients,
            hello={"C1": {"tick_hz": "1000000"}},
        )
        self.store = FakeStore()
        self.ctx = RunContext(
            "run",
            self.store,  # type: ignore[arg-type]
            self.session,
            self.clock,
            {e.position: e for e in self.meters},
        )
        expansion = expand_plan(load_plan(plan), meter_type, bench=bench_context(self.config))
        self.steps = planned_steps({self.meters[0].type_id: expansion}, self.meters)

    def step(self, item: str) -> PlannedStep:
        return next(s for s in self.steps if s.item == item)

    def run(self, executor: Any, step: PlannedStep) -> dict[tuple[int, str], Any]:
        async def main() -> None:
            try:
                await executor(self.ctx, step)
            finally:
                for router in self.ctx.routers.values():
                    await router.close()

        asyncio.run(asyncio.wait_for(main(), 30))
        return self.store.conclusions(step.key)
