"""The ``[sim]`` section of a heat bench file: the water bench's hydraulics and reference, the
baths and reference thermometers, and which simulated heat meter sits in which position with
which errors: a flow-sensor error curve, offsets of its two temperature sensors, a calculator
error, and faults (a silent port, a garbled 901F field).

As for the other kinds, every meter field can be set for all positions
(``[sim.meter_defaults]``) and overridden per position or range (``[[sim.meters]]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from meterbench.config.bench import BenchConfig
from meterbench.kinds.water.sim_config import HydraulicsSim, ThermometerSim
from meterbench.sim.section import MeterSimBase, PositionsMixin, ReferenceSim, SimSectionBase
from meterbench.sim.section import Strict as _Strict
from meterbench.sim.section import load_sim_section as _load


class HeatMeterSim(MeterSimBase):
    """Behaviour of one simulated heat meter; unset fields take the defaults' values."""

    address: str | None = Field(default=None, pattern=r"^\d{14}$")
    error_curve: list[tuple[float, float]] | None = Field(
        default=None, description="flow sensor: (flow L/h, error %), interpolated in log(flow)"
    )
    supply_sensor_error_k: float | None = None
    return_sensor_error_k: float | None = None
    calculator_error_pct: float | None = None
    heat_wh: float | None = Field(default=None, ge=0, description="heat register at start")
    volume_l: float | None = Field(default=None, ge=0, description="volume register at start")
    silent: bool | None = Field(default=None, description="never answers on its bus")
    garbled: Literal["return_temperature", "real_time"] | None = Field(
        default=None, description="a 901F field sent as invalid BCD"
    )
    response_delay_s: float | None = Field(default=None, ge=0)

    @property
    def never_answers(self) -> bool:
        return bool(self.silent)

    @field_validator("error_curve")
    @classmethod
    def _increasing(cls, value: list[tuple[float, float]] | None) -> Any:
        if value is not None:
            flows = [f for f, _ in value]
            if any(f <= 0 for f in flows) or flows != sorted(set(flows)):
                raise ValueError("flows must be positive and strictly increasing")
        return value


class HeatPositionSim(HeatMeterSim, PositionsMixin):
    pass


class BathSim(_Strict):
    """A thermostat: first-order approach to its setpoint."""

    start_c: float = Field(default=20.0, ge=0, le=100)
    time_constant_s: float = Field(default=120.0, gt=0)


class ReferenceThermometerSim(_Strict):
    error_c: float = 0.0


class HeatSimSection(SimSectionBase[HeatMeterSim]):
    address_digits: ClassVar[int] = 14

    hydraulics: HydraulicsSim = HydraulicsSim()
    reference: ReferenceSim = ReferenceSim()
    thermometer: ThermometerSim = ThermometerSim()
    supply_bath: BathSim = BathSim()
    return_bath: BathSim = BathSim()
    supply_thermometer: ReferenceThermometerSim = ReferenceThermometerSim()
    return_thermometer: ReferenceThermometerSim = ReferenceThermometerSim()
    serial_prefix: str = "SIMH"
    meter_defaults: HeatMeterSim = HeatMeterSim()
    meters: list[HeatPositionSim] = []


def load_heat_sim_section(bench: BenchConfig, path: Path | str) -> HeatSimSection:
    """Validate a heat bench's ``[sim]``; ConfigError naming file and field."""
    return _load(HeatSimSection, bench, path)


__all__ = ["BathSim", "HeatMeterSim", "HeatSimSection", "load_heat_sim_section"]
