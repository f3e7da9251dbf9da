"""The simulated gas bench: one gas world and every device a real gas bench has, each on its own
line (a pty, or in memory on virtual time) speaking its real protocol: the controllers (real
firmware logic, nothing wired to their inputs on a gas bench), the CJ/T 188 gas meters (30H) on
their buses, and the bell prover's controller and the line sensors on one Modbus RTU line.
``start()`` returns the bench config with every ``sim://`` endpoint replaced by its pty path
(or ``mem://`` URL)."""

from __future__ import annotations

from typing import Any

from meterbench.config.gas_meter_type import GasMeterType
from meterbench.kinds.gas.config import GasBench, gas_of
from meterbench.kinds.gas.sim_config import GasMeterSim, GasSimSection
from meterbench.kinds.gas.sim_devices import (
    SimulatedGasMeter,
    SimulatedLineSensors,
    SimulatedReference,
)
from meterbench.kinds.gas.world import Air, ControllerView, GasMeterBehaviour, GasWorld
from meterbench.sim.controller import SimulatedController
from meterbench.sim.modbus_devices import ModbusLineEndpoint, ModbusServer
from meterbench.sim.simulated import SimulatedBenchBase
from meterproto.cjt188 import messages as cmsg
from meterproto.cjt188.frame import TYPE_GAS


def behaviour_for(sim: GasMeterSim, meter_type: GasMeterType) -> GasMeterBehaviour:
    return GasMeterBehaviour(
        error_curve=tuple((float(f), float(e)) for f, e in sim.error_curve or ()),
        error_pct=sim.error_pct or 0.0,
        register_resolution_l=float(meter_type.register_resolution_l),
        leak_pa_per_min=sim.leak_pa_per_min or 0.0,
        dp_at_qmax_pa=120.0 if sim.dp_at_qmax_pa is None else sim.dp_at_qmax_pa,
        qmax_l_h=float(meter_type.qmax_m3h) * 1000,
    )


class SimulatedGasBench(SimulatedBenchBase):
    """Everything a gas bench file's ``[sim]`` section describes, started on ptys (or in
    memory on virtual time, ``virtual=True``)."""

    section_model = GasSimSection
    workdir_prefix = "meterbench-gas-"

    def _build(self) -> None:
        self.section: GasSimSection
        self.gas: GasBench = gas_of(self.config)
        self.meter_types: dict[int, GasMeterType]
        self._load_meter_types()
        self._build_world()
        self._build_meters()
        self._build_devices()
        self._build_buses()

    def scaled_slack(self, time_scale: float) -> float:
        """Little slack, as on a water bench: the host never sees the prover's count long
        after it was due."""
        return 1.0 + time_scale / 1000

    def _build_world(self) -> None:
        s, gas = self.section, self.gas
        self.world = GasWorld(
            method=gas.method,
            litres_per_count=gas.reference.litres_per_count,
            capacity_l=gas.reference.capacity_l,
            reference_air=Air(
                s.reference_air.temperature_c, s.atmosphere_pa + s.reference_air.gauge_pa
            ),
            line_air=Air(s.line_air.temperature_c, s.atmosphere_pa + s.line_air.gauge_pa),
            atmosphere_pa=s.atmosphere_pa,
            reference_error_pct=s.reference.error_pct,
            refill_l_h=s.refill_l_h,
            flow_error_pct=s.flow_error_pct,
            stuck=s.reference_stuck,
        )
        for number, meter_type in self.meter_types.items():
            sim = s.meter_for(number)
            self.world.add_meter(number, behaviour_for(sim, meter_type), sim.register_l or 0.0)

    def _build_meters(self) -> None:
        s = self.section
        for number, meter_type in self.meter_types.items():
            if meter_type.protocol != "cjt188":
                continue
            sim = s.meter_for(number)
            meter = SimulatedGasMeter(
                address=s.address_for(number),
                meter_type=TYPE_GAS,
                unit=cmsg.UNIT_LITRE,
                response_delay=sim.response_delay_s if sim.response_delay_s is not None else 0.03,
            )
            meter.world = self.world
            meter.position = number
            meter.sim_clock = self.clock
            meter.silent = bool(sim.silent)
            meter.valve_open = not sim.valve_closed
            self.meters[number] = meter

    def _build_devices(self) -> None:
        view: Any = ControllerView()
        for controller in self.config.controllers:
            channels = {
                p.channel: p.number for p in self.config.positions if p.controller == controller.id
            }
            self.controllers[controller.id] = SimulatedController(
                controller.id,
                channels,
                view,
                self.clock,
                second_pulse_enabled=lambda position: False,
                device=self.device(f"controller-{controller.id}"),
                state_dir=self.state_dir(controller.id),
            )
        self.reference = SimulatedReference(self.world, self.clock)
        self.sensors = SimulatedLineSensors(
            self.world, self.clock, [p.number for p in self.config.positions]
        )
        servers: dict[int, ModbusServer] = {
            self.gas.reference.unit: self.reference,
            self.gas.sensors.unit: self.sensors,
        }
        self.modbus = ModbusLineEndpoint(servers, self.device("modbus", 0.002))

    async def _start_own(self) -> None:
        self.endpoints["gas.modbus.url"] = self.modbus.start()

    async def _stop_own(self) -> None:
        await self.modbus.stop()


__all__ = ["SimulatedGasBench", "behaviour_for"]
