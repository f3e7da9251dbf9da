"""The simulated heat bench: the simulated water bench (controllers running the real firmware
logic, the master meter, the pump drive and transmitter on their Modbus line, the start valve)
plus, on a Modbus line of its own, the two baths, their reference thermometers and the
calculator tester, and CJ/T 188 heat meters on the meter buses whose registers integrate what
their flow sensor, sensor pair and calculator would count, each with its own errors.
``start()`` returns the bench config with every ``sim://`` endpoint replaced by a pty path
(or a ``mem://`` URL on virtual time)."""

from __future__ import annotations

from typing import cast

from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.kinds.heat.config import HeatBench, heat_of
from meterbench.kinds.heat.sim_config import HeatMeterSim, HeatSimSection
from meterbench.kinds.heat.sim_devices import (
    BathPhysics,
    HeatMeterErrors,
    HeatPhysics,
    SimulatedBath,
    SimulatedCalculatorTester,
    SimulatedHeatMeter,
    SimulatedReferenceThermometer,
)
from meterbench.kinds.water.simulator import REFERENCE_INPUT, SimulatedWaterBench
from meterbench.sim.modbus_devices import ModbusLineEndpoint, ModbusServer
from meterbench.sim.water import (
    Hydraulics,
    ReferencePulseOutput,
    WaterMeterBehaviour,
    WaterMeterModel,
    WaterWorld,
)


def flow_behaviour(sim: HeatMeterSim, meter_type: HeatMeterType, seed: int) -> WaterMeterBehaviour:
    pulse = meter_type.pulse_value_l
    return WaterMeterBehaviour(
        pulse_value_l=float(pulse) if pulse is not None else None,
        error_curve=tuple((float(f), float(e)) for f, e in sim.error_curve or ()),
        dead=bool(sim.dead),
        seed=seed,
    )


class SimulatedHeatBench(SimulatedWaterBench):
    """Everything a heat bench file's ``[sim]`` section describes, started on ptys (or in
    memory on virtual time, ``virtual=True``)."""

    section_model = HeatSimSection  # type: ignore[assignment]  # the heat section, same base
    workdir_prefix = "meterbench-heat-"

    def _build(self) -> None:
        self.heat: HeatBench = heat_of(self.config)
        self.hooks: list = []
        super()._build()

    def heat_types(self) -> dict[int, HeatMeterType]:
        """The meter type of every position (``_load_meter_types`` checked they are heat)."""
        return cast(dict[int, HeatMeterType], self.meter_types)

    # -- construction ---------------------------------------------------------------------------
    def _build_world(self) -> None:
        s = cast(HeatSimSection, self.section)
        behaviours = {
            number: flow_behaviour(s.meter_for(number), meter_type, s.seed * 1000 + number)
            for number, meter_type in self.heat_types().items()
        }
        h = s.hydraulics
        self.world = WaterWorld(
            Hydraulics(h.pump_max_flow_l_h, h.pump_exponent, h.time_constant_s, h.temperature_c),
            behaviours,
            reference_pulses_per_l=self.water.reference.pulses_per_l,
            reference_error_pct=s.reference.error_pct,
        )
        if self.water.reference.count is not None:
            self.world.meters[REFERENCE_INPUT] = ReferencePulseOutput(self.world.reference)
        self.supply_physics = BathPhysics(s.supply_bath.start_c, s.supply_bath.time_constant_s)
        self.return_physics = BathPhysics(s.return_bath.start_c, s.return_bath.time_constant_s)
        self.tester: SimulatedCalculatorTester | None = None
        if self.heat.calculator is not None:
            self.tester = SimulatedCalculatorTester(self.heat.calculator, self.clock, self.hooks)

    def _build_meters(self) -> None:
        s = cast(HeatSimSection, self.section)
        for number, meter_type in self.heat_types().items():
            if meter_type.protocol != "cjt188":
                continue
            sim = s.meter_for(number)
            physics = HeatPhysics(
                flow=cast(WaterMeterModel, self.world.meters[number]),
                world=self.world,
                supply_bath=self.supply_physics,
                return_bath=self.return_physics,
                tester=self.tester,
                sensor=meter_type.sensor,
                pulse_value_l=float(meter_type.pulse_value_l or 1),
                pressure_mpa=float(meter_type.pressure_mpa),
                installation=meter_type.installation,
                heating=meter_type.application == "heating",
                errors=HeatMeterErrors(
                    supply_sensor_error_k=sim.supply_sensor_error_k or 0.0,
                    return_sensor_error_k=sim.return_sensor_error_k or 0.0,
                    calculator_error_pct=sim.calculator_error_pct or 0.0,
                    garbled=sim.garbled,
                ),
                heat_wh=sim.heat_wh or 0.0,
                volume_l=sim.volume_l or 0.0,
            )
            meter = SimulatedHeatMeter(
                address=s.address_for(number),
                meter_type=meter_type.cjt188_type,
                clock_source=self.clock.datetime,
                response_delay=sim.response_delay_s if sim.response_delay_s is not None else 0.03,
            )
            meter.physics = physics
            meter.sim_clock = self.clock
            meter.silent = bool(sim.silent)
            self.hooks.append(physics.update)
            self.meters[number] = meter

    def _build_devices(self) -> None:
        super()._build_devices()
        s = cast(HeatSimSection, self.section)
        heat = self.heat
        servers: dict[int, ModbusServer] = {
            heat.supply_bath.unit: SimulatedBath(
                heat.supply_bath, self.supply_physics, self.clock, self.hooks
            ),
            heat.return_bath.unit: SimulatedBath(
                heat.return_bath, self.return_physics, self.clock, self.hooks
            ),
            heat.supply_thermometer.unit: SimulatedReferenceThermometer(
                heat.supply_thermometer,
                self.supply_physics,
                self.clock,
                s.supply_thermometer.error_c,
            ),
            heat.return_thermometer.unit: SimulatedReferenceThermometer(
                heat.return_thermometer,
                self.return_physics,
                self.clock,
                s.return_thermometer.error_c,
            ),
        }
        if heat.calculator is not None and self.tester is not None:
            servers[heat.calculator.unit] = self.tester
        self.heat_line = ModbusLineEndpoint(servers, self.device("heat-modbus", 0.002))

    # -- life cycle -----------------------------------------------------------------------------
    async def _start_own(self) -> None:
        await super()._start_own()
        self.endpoints["heat.modbus.url"] = self.heat_line.start()

    async def _stop_own(self) -> None:
        await super()._stop_own()
        await self.heat_line.stop()


__all__ = ["SimulatedHeatBench", "flow_behaviour"]
