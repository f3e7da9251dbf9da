"""The meter-kind seam: a kind the engine has never heard of, registered from inside this test,
runs through the unchanged engine (open_bench, open_session, the steps, safe-off, the store).

The toy kind is a "lamp bench": a bench with one lamp (its own device, in its own ``[lamp]``
table) and a simulated controller; its one item switches the lamp on, counts what the
controller reports for every position and judges it with the shared measurement object. Its
simulator starts a real simulated controller on a pty, as every kind's simulator does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from meterbench.bench_open import open_bench
from meterbench.config.bench import BenchConfig, load_bench
from meterbench.config.errors import ConfigError
from meterbench.config.files import validate_model
from meterbench.config.meter_types import load_meter_type
from meterbench.config.plans import load_plan
from meterbench.kinds import KINDS, kind_named, register, unregister
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_plan
from meterbench.results import Outcome, ResultsStore, RunStatus
from meterbench.runner.context import RunContext
from meterbench.runner.engine import Prepared, Runner, RunOptions, planned_steps
from meterbench.runner.items import PlannedStep
from meterbench.runner.items.measurement import Measurement, conclude
from meterbench.runner.meters import MeterEntry
from meterbench.runner.session import OpenOptions
from meterbench.sim.clock import ScaledClock
from meterbench.sim.controller import SimulatedController
from meterbench.sim.physics import ElectricityWorld, ReferenceStandard
from meterproto.link import messages as m

REPO = Path(__file__).resolve().parents[2]
METER_TYPE = REPO / "bench_configs" / "meter_types" / "1p-class2-5-60a.toml"
PLAN = REPO / "bench_configs" / "plans" / "jjg596-2012-initial.toml"


class Lamp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    watts: float = 60.0


class LampSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    lamp: Lamp


class LampDevices:
    """The lamp bench's own device: it records what the engine asked of it."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.on = False

    async def switch_on(self) -> None:
        self.on = True
        self.log.append("on")

    async def safe_off(self) -> None:
        self.on = False
        self.log.append("safe_off")

    async def close(self) -> None:
        self.log.append("close")


class LampSimulator:
    """A simulated controller on a pty, nothing else; the sim:// controller URL is its."""

    def __init__(self, config: BenchConfig, path: Path, time_scale: float | None) -> None:
        self.config = config
        self.clock = ScaledClock(time_scale or 100.0)
        self.meter_types: dict[int, Any] = {}
        self.section = None
        world = ElectricityWorld(ReferenceStandard(1e6), {})
        (controller,) = config.controllers
        channels = {p.channel: p.number for p in config.positions}
        self.controller = SimulatedController(
            controller.id, channels, world, self.clock, second_pulse_enabled=lambda p: False
        )

    async def start(self) -> BenchConfig:
        url = self.controller.start()
        return self.config.with_endpoints(
            {f"controllers[{self.config.controllers[0].id}].url": url}
        )

    async def stop(self) -> None:
        await self.controller.stop()

    def address_for(self, position: int) -> str | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {}


async def lamp_test(ctx: RunContext, step: PlannedStep) -> None:
    """Switch the lamp on, ask every position's controller for its status, judge the lamp."""
    lamp = ctx.session.devices
    assert isinstance(lamp, LampDevices)
    await lamp.switch_on()
    for position in step.positions:
        controller_id, _channel = ctx.channel(position)
        status = await ctx.session.controllers[controller_id].request(m.STATUS_GET)
        measured = Measurement.within(
            Decimal(ctx.session.config.section.lamp.watts),
            lower=Decimal(0),
            upper=Decimal(100),
            unit="W",
            details={"status": str(status.msg_type)},
        )
        conclude(ctx, position, step.key, measured)


class LampKind:
    name = "lamp"
    article = "a"
    section_model = LampSection
    meter_type_model = BaseModel  # any meter type will do for a lamp
    stop_hint = "the lamp"

    def __init__(self) -> None:
        self.log: list[str] = []

    def check_bench(self, bench: BenchConfig, section: LampSection) -> None:
        if section.lamp.watts > 100:
            raise ValueError("lamp.watts: a lamp bench takes lamps up to 100 W")

    def endpoints(self, section: LampSection) -> dict[str, str]:
        return {}

    def reference_text(self, bench: Mapping[str, Any]) -> tuple[str, str]:
        return f"{bench['lamp']['watts']} W", ""

    def plan_context(self, bench: BenchConfig) -> BenchContext:
        return BenchContext()

    @property
    def executors(self) -> Mapping[str, Any]:
        return {"communication": lamp_test}

    async def open_devices(
        self, config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
    ) -> tuple[LampDevices, dict[str, Any]]:
        return LampDevices(self.log), {"lamp": f"{config.section.lamp.watts:g} W"}

    def meter_client(self, entry: MeterEntry, bus: Any, options: OpenOptions) -> Any:
        return None

    def simulator(self, config: BenchConfig, path: Path, time_scale: float | None) -> Any:
        return LampSimulator(config, path, time_scale)

    async def selftest(self, devices: Any, meters: Any, options: Any) -> list[Any]:
        return []


BENCH = {
    "bench": {"id": "LAMP-2", "kind": "lamp"},
    "standard": {
        "accuracy_class": "1",
        "certificate": "LAMP-CAL-1",
        "valid_until": "2030-01-01",
    },
    "lamp": {"watts": 40},
    "controllers": [{"id": "C1", "url": "sim://controller/C1"}],
    "position_groups": [{"numbers": "1-2", "controller": "C1"}],
    "sim": {},
}


@pytest.fixture
def lamp_kind() -> Any:
    kind = LampKind()
    register(kind)
    yield kind
    unregister("lamp")


def test_a_bench_of_an_unregistered_kind_is_refused_naming_the_field() -> None:
    assert "lamp" not in KINDS
    with pytest.raises(ValueError, match="unknown meter kind 'lamp'"):
        BenchConfig.model_validate(BENCH)
    with pytest.raises(ConfigError, match="field 'bench.kind': unknown meter kind 'lamp'"):
        validate_model(BenchConfig, BENCH, "lamp.toml")


def test_a_run_recorded_before_the_seam_still_resumes_from_its_snapshot() -> None:
    """Snapshots used to carry every kind's table, the other kind's as null."""
    snapshot = load_bench(REPO / "bench_configs" / "sim-1p-24.toml").model_dump(by_alias=True)
    old = BenchConfig.model_validate({**snapshot, "water": None})
    assert old.section.source.url == "sim://source"


def test_the_kind_validates_its_own_table(lamp_kind: LampKind) -> None:
    bench = BenchConfig.model_validate(BENCH)
    assert bench.kind is kind_named("lamp")
    assert bench.section.lamp.watts == 40
    with pytest.raises(AttributeError, match="read bench.section.lamp"):
        _ = bench.lamp
    with pytest.raises(ValueError, match="lamp.watts"):
        BenchConfig.model_validate({**BENCH, "lamp": {"watts": 150}})
    with pytest.raises(ValueError, match="lamp_colour"):
        BenchConfig.model_validate({**BENCH, "lamp_colour": "red"})


def test_a_toy_kind_runs_through_the_unchanged_engine(lamp_kind: LampKind, tmp_path: Path) -> None:
    bench = BenchConfig.model_validate(BENCH)
    meter_type = load_meter_type(METER_TYPE)
    full = expand_plan(load_plan(PLAN), meter_type)
    steps = [s for s in full.steps if s.type == "communication"]
    expansion = full.model_copy(update={"steps": steps, "batch_statistics": False})
    meters = [MeterEntry(n, METER_TYPE.stem, METER_TYPE, meter_type, f"LAMP{n}") for n in (1, 2)]
    expansions = {meters[0].type_id: expansion}
    assert [s.item for s in planned_steps(expansions, meters)] == ["communication"]
    prepared = Prepared(bench, tmp_path / "lamp.toml", meters, expansions, "lamp", "none")
    options = RunOptions(tmp_path / "lamp.toml", PLAN, tmp_path / "meters.csv", tmp_path / "db")
    store = ResultsStore.open(tmp_path / "results.db")
    try:
        run_id = asyncio.run(asyncio.wait_for(Runner(store).run_prepared(prepared, options), 120))
        assert store.status(run_id) == RunStatus.COMPLETED
        conclusions = store.conclusions(run_id)
        assert [(c.position, c.outcome, c.unit) for c in conclusions] == [
            (1, Outcome.PASS, "W"),
            (2, Outcome.PASS, "W"),
        ]
        assert store.snapshots(run_id)["firmware_versions"]["lamp"] == "40 W"
    finally:
        store.close()
    assert lamp_kind.log == ["on", "safe_off", "close"]


def test_open_bench_starts_the_kinds_simulator(lamp_kind: LampKind, tmp_path: Path) -> None:
    bench = BenchConfig.model_validate(BENCH)

    async def main() -> str:
        async with open_bench(bench, tmp_path / "lamp.toml") as opened:
            assert opened.simulated and opened.clock is opened.simulator.clock  # type: ignore[union-attr]
            return opened.config.controllers[0].url

    url = asyncio.run(main())
    assert not url.startswith("sim://")
