"""The simulated water bench: one water physics world and every device a real water bench has,
each on its own line (a pty, or in memory on virtual time) speaking its real protocol.

Controllers run the real firmware logic (``sim.controller``): meter pulses and the master
meter's pulses come from the physics, and the valves the firmware switches on its outputs act
on the physics. Electronic meters answer CJ/T 188 on their bus with registers driven by their
indication; the pump drive and the temperature transmitter answer Modbus RTU on one line; the
balance answers MT-SICS. ``start()`` returns the bench config with every ``sim://`` endpoint
replaced by its pty path (or ``mem://`` URL), so the runner opens it exactly as it opens a
real bench.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from meterbench.config.meter_types import WaterMeterType
from meterbench.kinds.water.config import WaterBench, water_of
from meterbench.kinds.water.sim_config import WaterMeterSim, WaterSimSection
from meterbench.sim.answer import Answer
from meterbench.sim.controller import SimulatedController
from meterbench.sim.meter_cjt188 import Cjt188WaterMeter
from meterbench.sim.modbus_devices import (
    ModbusLineEndpoint,
    ModbusServer,
    SimulatedDrive,
    SimulatedThermometer,
)
from meterbench.sim.scale import ScaleEndpoint, SimulatedScale
from meterbench.sim.simulated import SimulatedBenchBase
from meterbench.sim.water import (
    Hydraulics,
    ReferencePulseOutput,
    WaterMeterBehaviour,
    WaterMeterModel,
    WaterWorld,
)
from meterproto.cjt188 import messages as cmsg
from meterproto.cjt188.frame import Frame

REFERENCE_INPUT = -1  # the key of the master meter's pulse output among the world's outputs
NO_INPUT = -2  # a channel that only drives valves


def behaviour_for(sim: WaterMeterSim, meter_type: WaterMeterType, seed: int) -> WaterMeterBehaviour:
    pulse = meter_type.pulse_volume_l
    return WaterMeterBehaviour(
        pulse_value_l=float(pulse) if pulse is not None else None,
        error_curve=tuple((float(f), float(e)) for f, e in sim.error_curve or ()),
        error_pct=sim.error_pct or 0.0,
        start_flow_l_h=sim.start_flow_l_h or 0.0,
        register_bias_pct=sim.register_bias_pct or 0.0,
        dead=bool(sim.dead),
        seed=seed,
    )


class PhysicalWaterMeter(Cjt188WaterMeter):
    """A CJ/T 188 meter whose register (in litres, as in verification mode) follows its
    indication in the physics; brought up to date before every answer."""

    physics: WaterMeterModel | None = None
    sim_clock: Any = None
    silent: bool = False

    def respond(self, request: Frame) -> Answer | None:
        if self.silent:
            return None
        assert self.physics is not None and self.sim_clock is not None
        self.set_volume(Decimal(str(round(self.physics.register_l(self.sim_clock.now()), 6))))
        return super().respond(request)


class WaterController(SimulatedController):
    """A simulated controller whose outputs are the bench's valves: whatever the firmware
    switches takes effect in the water physics at that moment.

    A tick first brings the physics up to the present and only then hands the firmware what
    the host sent: a request (start a gate, open a valve) takes effect at the time it arrived,
    never at some earlier moment of a long catch-up, when the flow the host has just set up
    did not yet exist."""

    def __init__(self, *args: Any, valves: list[tuple[int, int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.valves = valves
        self._states = {name: False for _, _, name in valves}

    def step(self) -> None:
        data = self.device.read()
        self._catch_up(self.clock.now())
        if data:
            self.server.feed(data)
        self.server.service(self._uptime.now())
        out = self.server.take_output()
        if out:
            self.device.send(out)
        else:
            self.device.flush()
        if getattr(self.server, "reset_mode", None) is not None:
            self.reset()
        self._valves()

    def _valves(self) -> None:
        world = cast(WaterWorld, self.world)
        for channel, output, name in self.valves:
            pin = self.hal.output(channel, output)
            opened = bool(pin is not None and pin.value())
            if opened != self._states[name]:
                self._states[name] = opened
                world.set_valve(self._last_t, name, opened)


class SimulatedWaterBench(SimulatedBenchBase):
    """Everything a water bench file's ``[sim]`` section describes, started on ptys (or in
    memory on virtual time, ``virtual=True``)."""

    section_model = WaterSimSection
    workdir_prefix = "meterbench-water-"

    def _build(self) -> None:
        self.section: WaterSimSection
        self.water: WaterBench = water_of(self.config)
        self.meter_types: dict[int, WaterMeterType]
        self._load_meter_types()
        self._build_world()
        self._build_meters()
        self._build_devices()
        self._build_buses()

    def scaled_slack(self, time_scale: float) -> float:
        """Little slack: a controller busy injecting pulses holds the clock back, so the host
        never sees results long after they were due while water keeps flowing."""
        return 1.0 + time_scale / 1000

    # -- construction ---------------------------------------------------------------------------
    def _build_world(self) -> None:
        s = self.section
        behaviours: dict[int, WaterMeterBehaviour] = {}
        for number, meter_type in self.meter_types.items():
            behaviours[number] = behaviour_for(
                s.meter_for(number), meter_type, s.seed * 1000 + number
            )
        h = s.hydraulics
        self.world = WaterWorld(
            Hydraulics(h.pump_max_flow_l_h, h.pump_exponent, h.time_constant_s, h.temperature_c),
            behaviours,
            reference_pulses_per_l=self.water.reference.pulses_per_l,
            reference_error_pct=s.reference.error_pct,
        )
        if self.water.reference.count is not None:
            self.world.meters[REFERENCE_INPUT] = ReferencePulseOutput(self.world.reference)
        for number, model in self.world.meters.items():
            if isinstance(model, WaterMeterModel):
                model.register_origin_l = s.meter_for(number).register_l or 0.0

    def _build_meters(self) -> None:
        s = self.section
        for number, meter_type in self.meter_types.items():
            if meter_type.protocol != "cjt188":
                continue
            sim = s.meter_for(number)
            meter = PhysicalWaterMeter(
                address=s.address_for(number),
                unit=cmsg.UNIT_LITRE,
                response_delay=sim.response_delay_s if sim.response_delay_s is not None else 0.03,
            )
            meter.physics = cast(WaterMeterModel, self.world.meters[number])
            meter.sim_clock = self.clock
            meter.silent = bool(sim.silent)
            self.meters[number] = meter

    def _channels(self, controller_id: str) -> tuple[dict[int, int], list[tuple[int, int, str]]]:
        """Firmware channel -> what feeds its input; and the valves on its outputs."""
        water = self.water
        channels = {
            p.channel: p.number for p in self.config.positions if p.controller == controller_id
        }
        count = water.reference.count
        if count is not None and count.controller == controller_id:
            channels[count.channel] = REFERENCE_INPUT
        drain = water.scale.drain if water.scale is not None else None
        valves = []
        for name, ref in (("start", water.start_valve), ("drain", drain)):
            if ref is not None and ref.controller == controller_id:
                channels.setdefault(ref.channel, NO_INPUT)
                valves.append((ref.channel, ref.output, name))
        return channels, valves

    def _build_devices(self) -> None:
        bench, water = self.config, self.water
        for controller in bench.controllers:
            channels, valves = self._channels(controller.id)
            self.controllers[controller.id] = WaterController(
                controller.id,
                channels,
                self.world,  # type: ignore[arg-type]  # the water world has the same shape
                self.clock,
                second_pulse_enabled=lambda position: False,
                device=self.device(f"controller-{controller.id}"),
                state_dir=self.state_dir(controller.id),
                valves=valves,
            )
        self.drive = SimulatedDrive(water.flow, self.world, self.clock)
        self.thermometer = SimulatedThermometer(
            water.temperature, self.world, self.clock, self.section.thermometer.error_c
        )
        servers: dict[int, ModbusServer] = {
            water.flow.unit: self.drive,
            water.temperature.unit: self.thermometer,
        }
        self.modbus = ModbusLineEndpoint(servers, self.device("modbus", 0.002))
        self.scale: SimulatedScale | None = None
        self._scale_endpoint: ScaleEndpoint | None = None
        if water.scale is not None:
            self.scale = SimulatedScale(water.scale, self.world, self.clock)
            self._scale_endpoint = ScaleEndpoint(self.scale, self.device("scale", 0.002))

    # -- life cycle -----------------------------------------------------------------------------
    async def _start_own(self) -> None:
        self.endpoints["water.modbus.url"] = self.modbus.start()
        if self._scale_endpoint is not None:
            self.endpoints["water.scale.url"] = self._scale_endpoint.start()

    async def _stop_own(self) -> None:
        await self.modbus.stop()
        if self._scale_endpoint is not None:
            await self._scale_endpoint.stop()


__all__ = ["PhysicalWaterMeter", "SimulatedWaterBench", "WaterController", "behaviour_for"]
