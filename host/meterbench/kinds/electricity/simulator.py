"""The simulated bench: one physics world, and every device a real bench has, each on its own
pseudo-terminal speaking its real wire protocol.

Controllers run the firmware logic (``sim.controller``), meters answer DL/T 645 on their buses
(``sim.line`` + ``sim.servers``) with registers and clocks driven by the physics, and the source
and reference standard answer SCPI (``sim.source``). ``start()`` returns the bench config with
every ``sim://`` endpoint replaced by the path of its pty, so drivers open a simulated bench
exactly as they open a real one. Faults from ``[sim.faults]`` fire at their simulated times.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from meterbench.config.meter_types import ElectricityMeterType
from meterbench.kinds.electricity.sim_config import FaultEvent, MeterSim, SimSection
from meterbench.sim.answer import Answer
from meterbench.sim.controller import SimulatedController
from meterbench.sim.endpoint import DeviceEndpoint
from meterbench.sim.error_curves import CurvePoint, ErrorCurve
from meterbench.sim.faults import Fault, FaultPlan, NoisePlan
from meterbench.sim.meter_dlt645 import FORWARD_ACTIVE, REVERSE_ACTIVE, Dlt645Meter
from meterbench.sim.meter_dlt698 import physical as physical_dlt698
from meterbench.sim.meter_tariffs import TariffSplitter
from meterbench.sim.physics import (
    ElectricityWorld,
    ErrorModel,
    ErrorPoint,
    MeterBehaviour,
    MeterPhysics,
    ReferenceStandard,
    TimeBase,
)
from meterbench.sim.pty import LineNoise
from meterbench.sim.simulated import SimulatedBenchBase
from meterbench.sim.source import LineStream, SimulatedSource, SourceFaults
from meterbench.waits import stop_task
from meterproto.dlt645.frame import Frame
from meterproto.dlt645.messages import MultiFunctionOutput


@runtime_checkable
class _FaultyDevice(Protocol):
    """A simulated meter on a bus: its reply faults can be swapped while it runs."""

    faults: FaultPlan


DEFAULT_START_FACTOR = 0.002  # a sound meter starts well below the regulation's Ist


def behaviour_for(sim: MeterSim, meter_type: ElectricityMeterType, seed: int) -> MeterBehaviour:
    """The physics of one simulated meter from its type and its [sim] settings."""
    base = float(meter_type.ib_a or meter_type.in_a or 1)
    start = sim.start_current_a
    if start is None:
        start = base * (sim.start_current_factor or DEFAULT_START_FACTOR)
    table = tuple(ErrorPoint(p.current_ib, p.pf, p.error_pct) for p in sim.error_table or ())
    model = ErrorModel(
        constant_pct=sim.error_pct or 0.0,
        table=table,
        curve=tuple(sim.error_curve or ()),
        noise_pct=sim.noise_pct or 0.0,
        noise_interval_s=sim.noise_interval_s or 5.0,
    )
    return MeterBehaviour(
        constant_imp_per_kwh=float(meter_type.constant_imp_per_kwh),
        ib_a=base,
        error=model,
        start_current_a=start,
        creep_pulses_per_hour=sim.creep_pulses_per_hour or 0.0,
        clock_error_s_per_day=sim.clock_error_s_per_day or 0.0,
        register_bias_pct=sim.register_bias_pct or 0.0,
        pulse_curve=_curve(sim.pulse_curve),
        register_curve=_curve(sim.register_curve),
        reverse_error_pct=sim.reverse_error_pct or 0.0,
        pulse_jitter_s=sim.pulse_jitter_s or 0.0,
        dead=bool(sim.dead),
        seed=seed,
    )


def _curve(points: Any) -> ErrorCurve:
    return ErrorCurve(
        tuple(CurvePoint(p.current_ib, p.error_pct, p.pf, p.direction) for p in points or ())
    )


class PhysicalMeter(Dlt645Meter):
    """A simulated DL/T 645 meter whose registers, instantaneous values and clock follow the
    physics: they are brought up to date before every answer."""

    physics: MeterPhysics | None = None
    world: ElectricityWorld | None = None
    sim_clock: Any = None
    silent_after_s: float | None = None

    splitters: dict[int, TariffSplitter] | None = None  # time-of-use: per register quantity
    # Told of every change of the multi-function output, which decides whether the meter's
    # clock second pulses reach its controller input (the controllers remember that).
    on_output_mode: Callable[[], None] | None = None
    _output_mode: int = MultiFunctionOutput.CLOCK_SECOND_PULSE

    @property
    def output_mode(self) -> int:
        return self._output_mode

    @output_mode.setter
    def output_mode(self, mode: int) -> None:  # pyright: ignore[reportIncompatibleVariableOverride]
        self._output_mode = mode
        if self.on_output_mode is not None:
            self.on_output_mode()

    def use_periods(self, periods: list[tuple[int, int]], delay_s: float = 0.0) -> None:
        """Register by a day time-period table (minute of day, tariff) from now on, switching
        ``delay_s`` late (a faulty meter)."""
        assert self.physics is not None
        physics = self.physics
        self.splitters = {
            quantity: TariffSplitter(periods, self.tariffs, energy, delay_s)
            for quantity, energy in (
                (FORWARD_ACTIVE, physics.register_kwh),
                (REVERSE_ACTIVE, physics.reverse_register_kwh),
            )
        }

    def sync(self) -> None:
        assert self.physics is not None and self.world is not None and self.sim_clock is not None
        t = self.sim_clock.now()
        if self.splitters is not None:
            self._sync_tariffs(t)
        else:
            self.set_energy(Decimal(str(round(self.physics.register_kwh(t), 6))))
            reverse = round(self.physics.reverse_register_kwh(t), 6)
            self.set_energy(Decimal(str(reverse)), quantity=REVERSE_ACTIVE)
        setpoint = self.world.setpoint
        phases = list(setpoint.phases) + [setpoint.phases[-1]] * (3 - len(setpoint.phases))
        on = setpoint.output_on
        self.set_instantaneous(
            voltage=[round(p.voltage_v if on else 0.0, 1) for p in phases[:3]],
            current=[round(p.current_a if on else 0.0, 3) for p in phases[:3]],
            power_factor=round(setpoint.power_factor, 3),
            frequency=round(setpoint.frequency_hz, 2),
        )

    def _sync_tariffs(self, t: float) -> None:
        """Every tariff register, and the total as the sum of the tariff registers as the
        meter shows them (so they combine exactly, as a meter that keeps no separate total)."""
        assert self.splitters is not None
        now = self.now()
        for quantity, splitter in self.splitters.items():
            by_tariff = splitter.sync(t, now)
            for tariff in range(1, self.tariffs + 1):
                self.set_energy(Decimal(str(round(by_tariff[tariff], 6))), tariff, quantity)
            shown = self.energy[quantity][1 : self.tariffs + 1]
            self.set_energy(sum(shown, Decimal(0)), 0, quantity)
            self.current_tariff = splitter.tariff_at(now)

    def respond(self, request: Frame) -> Answer | None:
        if self.silent_after_s is not None and self.sim_clock.now() >= self.silent_after_s:
            return None
        self.sync()
        return super().respond(request)


def _meter_clock(clock: Any, error_s_per_day: float) -> Any:
    """The meter's own time of day: true simulated time, running at its clock rate."""
    origin = clock.datetime().replace(tzinfo=None)
    start = clock.now()
    rate = 1 + error_s_per_day / 86400.0

    def now() -> dt.datetime:
        return origin + dt.timedelta(seconds=(clock.now() - start) * rate)

    return now


class _SourceEndpoint(DeviceEndpoint):
    """The SCPI source on its line."""

    def __init__(self, source: SimulatedSource, device: Any) -> None:
        super().__init__(device)
        self.stream = LineStream(source)

    def serve(self, data: bytes) -> None:
        reply = self.stream.feed(data) if data else None
        if reply:
            self.device.send(reply)


class SimulatedBench(SimulatedBenchBase):
    """Everything an electricity bench file's ``[sim]`` section describes, started on ptys."""

    section_model = SimSection
    workdir_prefix = "meterbench-sim-"

    def _build(self) -> None:
        self.section: SimSection
        self.output_mode_changes = 0  # counts changes of any meter's multi-function output
        self.meter_types: dict[int, ElectricityMeterType]
        self._load_meter_types()
        self._build_world()
        self._build_meters()
        self._build_devices()
        self._build_buses()
        self._fault_tasks: list[asyncio.Task[None]] = []
        self.fault_log: list[tuple[float, str]] = []

    # -- construction ---------------------------------------------------------------------------
    def _build_world(self) -> None:
        s = self.section
        physics: dict[int, MeterPhysics] = {}
        for number, meter_type in self.meter_types.items():
            seed = s.seed * 1000 + number
            physics[number] = MeterPhysics(behaviour_for(s.meter_for(number), meter_type, seed))
        constant = self.config.standard.constant_imp_per_kwh
        assert constant is not None  # the electricity kind's config check requires it
        reference = ReferenceStandard(constant, s.reference.error_pct)
        time_base = TimeBase(self.config.timebase.frequency_hz, s.timebase.error_ppm)
        self.world = ElectricityWorld(reference, physics, time_base)

    def _build_meters(self) -> None:
        s = self.section
        for number, meter_type in self.meter_types.items():
            if meter_type.protocol == "none":
                continue
            sim = s.meter_for(number)
            plan = FaultPlan()
            if sim.comm_fault and sim.comm_fault != "none":
                plan = FaultPlan(
                    Fault.parse(sim.comm_fault),
                    probability=sim.comm_fault_probability or 1.0,
                    seed=s.seed * 31 + number,
                )
            meter = (
                physical_dlt698(PhysicalMeter) if meter_type.protocol == "dlt698" else PhysicalMeter
            )(
                address=s.address_for(number),
                version=1997 if meter_type.protocol == "dlt645-1997" else 2007,
                tariffs=meter_type.tariffs,
                active_constant=int(meter_type.constant_imp_per_kwh),
                clock_source=_meter_clock(self.clock, sim.clock_error_s_per_day or 0.0),
                response_delay=sim.response_delay_s if sim.response_delay_s is not None else 0.03,
                response_delay_max=sim.response_delay_max_s,
                error_delay=sim.error_delay_s,
                delay_seed=s.seed * 37 + number,
                faults=plan,
            )
            meter.physics = self.world.meters[number]
            meter.physics.register_origin_kwh = sim.energy_kwh or 0.0
            meter.world = self.world
            meter.sim_clock = self.clock
            meter.silent_after_s = sim.silent_after_s
            meter.on_output_mode = self._output_mode_changed
            if meter_type.tariff_periods and meter_type.tariffs > 1:
                meter.use_periods(
                    [(p.minutes, p.tariff) for p in meter_type.tariff_periods],
                    sim.tariff_delay_s or 0.0,
                )
            self.meters[number] = meter

    def _output_mode_changed(self) -> None:
        self.output_mode_changes += 1

    def _second_pulse_enabled(self, position: int) -> bool:
        meter = self.meters.get(position)
        if meter is None:
            return self.meter_types[position].clock
        return (
            self.meter_types[position].clock
            and meter.output_mode == MultiFunctionOutput.CLOCK_SECOND_PULSE
        )

    def _build_devices(self) -> None:
        bench = self.config
        for controller in bench.controllers:
            channels = {
                p.channel: p.number for p in bench.positions if p.controller == controller.id
            }
            self.controllers[controller.id] = SimulatedController(
                controller.id,
                channels,
                self.world,
                self.clock,
                second_pulse_enabled=self._second_pulse_enabled,
                second_pulse_changes=lambda: self.output_mode_changes,
                state_dir=self.state_dir(controller.id),
                device=self.device(f"controller-{controller.id}"),
            )
        s = self.section
        constant = bench.standard.constant_imp_per_kwh
        assert constant is not None  # the electricity kind's config check requires it
        self.source = SimulatedSource(
            self.world,
            self.clock,
            reference_constant=constant,
            settle_s=s.source.settle_s,
            noise_pct=s.source.noise_pct,
            seed=s.seed,
            faults=SourceFaults(),
        )
        self._source_endpoint = _SourceEndpoint(self.source, self.device("source", 0.002))

    # -- life cycle -----------------------------------------------------------------------------
    async def _start_own(self) -> None:
        self.endpoints["source.url"] = self._source_endpoint.start()
        for fault in self.section.faults:
            self._fault_tasks.append(asyncio.get_running_loop().create_task(self._fault(fault)))

    async def stop(self) -> None:
        for task in self._fault_tasks:
            await stop_task(task)
        self._fault_tasks.clear()
        await super().stop()

    async def _stop_own(self) -> None:
        await self._source_endpoint.stop()

    # -- faults ---------------------------------------------------------------------------------
    async def _at(self, sim_seconds: float) -> None:
        await self.clock.sleep(sim_seconds - self.clock.now())

    async def _fault(self, fault: FaultEvent) -> None:
        await self._at(fault.at_s)
        self.fault_log.append((self.clock.now(), f"{fault.kind} begins"))
        if fault.kind == "controller_reset":
            for cid, controller in self.controllers.items():
                if fault.controller in (None, cid):
                    controller.reset()
            return
        if fault.kind == "source_unstable":
            self.source.faults = SourceFaults(
                fault.amount_pct or 1.0, self.clock.now(), self.clock.now() + fault.duration_s
            )
            return
        await self._start_fault(fault)
        await self._at(fault.at_s + fault.duration_s)
        await self._end_fault(fault)
        self.fault_log.append((self.clock.now(), f"{fault.kind} ends"))

    def _controller_devices(self, fault: FaultEvent) -> list[Any]:
        return [c.device for cid, c in self.controllers.items() if fault.controller in (None, cid)]

    async def _start_fault(self, fault: FaultEvent) -> None:
        if fault.kind == "port_vanish":
            if fault.bus is not None:
                await self.buses[fault.bus].vanish()
            for device in self._controller_devices(fault) if fault.bus is None else []:
                device.close()
        elif fault.kind == "link_noise":
            for device in self._controller_devices(fault):
                device.noise = LineNoise(
                    corrupt=fault.probability, drop=fault.drop, seed=self.section.seed
                )
        elif fault.kind == "bus_noise":
            for bid, server in self.buses.items():
                if fault.bus in (None, bid):
                    for meter in server.line.devices:
                        assert isinstance(meter, _FaultyDevice)  # only meters share a bus
                        meter.faults = NoisePlan(
                            probability=fault.probability, drop=fault.drop, seed=self.section.seed
                        )

    async def _end_fault(self, fault: FaultEvent) -> None:
        if fault.kind == "port_vanish":
            if fault.bus is not None:
                await self.buses[fault.bus].reappear()
            for device in self._controller_devices(fault) if fault.bus is None else []:
                device.open()
        elif fault.kind == "link_noise":
            for device in self._controller_devices(fault):
                device.noise = None
        elif fault.kind == "bus_noise":
            for bid, server in self.buses.items():
                if fault.bus in (None, bid):
                    for meter in server.line.devices:
                        assert isinstance(meter, _FaultyDevice)  # only meters share a bus
                        meter.faults = FaultPlan()
