"""The ``[sim]`` section of a water bench file: the hydraulics, the reference, the read-outs and
which simulated water meter sits in which position with which error curve.

As for electricity benches, every meter field can be set for all positions
(``[sim.meter_defaults]``) and overridden per position or range (``[[sim.meters]]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from meterbench.config.bench import BenchConfig
from meterbench.sim.section import (
    MeterSimBase,
    PositionsMixin,
    ReferenceSim,
    SimSectionBase,
    beyond_class,
)
from meterbench.sim.section import Strict as _Strict
from meterbench.sim.section import load_sim_section as _load


class WaterMeterSim(MeterSimBase):
    """Behaviour of one simulated water meter; unset fields take the defaults' values."""

    address: str | None = Field(default=None, pattern=r"^\d{14}$")
    error_curve: list[tuple[float, float]] | None = Field(
        default=None, description="(flow L/h, error %) points, interpolated in log(flow)"
    )
    error_pct: float | None = None
    start_flow_l_h: float | None = Field(default=None, ge=0)
    register_bias_pct: float | None = None
    register_l: float | None = Field(default=None, ge=0, description="register reading at start")
    silent: bool | None = Field(default=None, description="never answers on its bus")
    response_delay_s: float | None = Field(default=None, ge=0)

    @property
    def never_answers(self) -> bool:
        return bool(self.silent)

    def fault_notes(self, meter_class: str) -> list[str]:
        notes = super().fault_notes(meter_class)
        if self.error_pct is not None and beyond_class(self.error_pct, meter_class):
            notes.append(
                f"reads {self.error_pct:+g} % off, beyond class {meter_class}: the error "
                "points should fail"
            )
        if self.register_bias_pct:
            notes.append(
                f"register {self.register_bias_pct:+g} % off its pulses: reading the "
                "register should fail"
            )
        return notes

    @field_validator("error_curve")
    @classmethod
    def _increasing(cls, value: list[tuple[float, float]] | None) -> Any:
        if value is not None:
            flows = [f for f, _ in value]
            if any(f <= 0 for f in flows) or flows != sorted(set(flows)):
                raise ValueError("flows must be positive and strictly increasing")
        return value


class WaterPositionSim(WaterMeterSim, PositionsMixin):
    pass


class HydraulicsSim(_Strict):
    pump_max_flow_l_h: float = Field(default=3200.0, gt=0)
    pump_exponent: float = Field(default=1.15, gt=0)
    time_constant_s: float = Field(default=1.0, ge=0)
    temperature_c: float = Field(default=20.0, ge=0, le=40)
    drain_l_h: float = Field(default=36000.0, gt=0)


class ThermometerSim(_Strict):
    error_c: float = 0.0


class WaterSimSection(SimSectionBase[WaterMeterSim]):
    address_digits: ClassVar[int] = 14

    hydraulics: HydraulicsSim = HydraulicsSim()
    reference: ReferenceSim = ReferenceSim()
    thermometer: ThermometerSim = ThermometerSim()
    serial_prefix: str = "SIMW"
    meter_defaults: WaterMeterSim = WaterMeterSim()
    meters: list[WaterPositionSim] = []


def load_water_sim_section(bench: BenchConfig, path: Path | str) -> WaterSimSection:
    """Validate a water bench's ``[sim]``; ConfigError naming file and field."""
    return _load(WaterSimSection, bench, path)


__all__ = ["WaterMeterSim", "WaterSimSection", "load_water_sim_section"]
