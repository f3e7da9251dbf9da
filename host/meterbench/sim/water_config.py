"""The ``[sim]`` section of a water bench file: the hydraulics, the reference, the read-outs and
which simulated water meter sits in which position with which error curve.

As for electricity benches, every meter field can be set for all positions
(``[sim.meter_defaults]``) and overridden per position or range (``[[sim.meters]]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meterbench.config.bench import BenchConfig, parse_numbers
from meterbench.config.errors import ConfigError
from meterbench.config.files import validate_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WaterMeterSim(_Strict):
    """Behaviour of one simulated water meter; unset fields take the defaults' values."""

    type: str | None = Field(None, description="meter type file, relative to the bench file")
    address: str | None = Field(None, pattern=r"^\d{14}$")
    serial: str | None = None
    error_curve: list[tuple[float, float]] | None = Field(
        None, description="(flow L/h, error %) points, interpolated in log(flow)"
    )
    error_pct: float | None = None
    start_flow_l_h: float | None = Field(None, ge=0)
    register_bias_pct: float | None = None
    register_l: float | None = Field(None, ge=0, description="register reading at start")
    dead: bool | None = None
    silent: bool | None = Field(None, description="never answers on its bus")
    response_delay_s: float | None = Field(None, ge=0)

    @field_validator("error_curve")
    @classmethod
    def _increasing(cls, value: list[tuple[float, float]] | None) -> Any:
        if value is not None:
            flows = [f for f, _ in value]
            if any(f <= 0 for f in flows) or flows != sorted(set(flows)):
                raise ValueError("flows must be positive and strictly increasing")
        return value


class WaterPositionSim(WaterMeterSim):
    positions: list[int]

    @field_validator("positions", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> list[int]:
        return parse_numbers(value)


class HydraulicsSim(_Strict):
    pump_max_flow_l_h: float = Field(3200.0, gt=0)
    pump_exponent: float = Field(1.15, gt=0)
    time_constant_s: float = Field(1.0, ge=0)
    temperature_c: float = Field(20.0, ge=0, le=40)
    drain_l_h: float = Field(36000.0, gt=0)


class ReferenceSim(_Strict):
    error_pct: float = 0.0


class ThermometerSim(_Strict):
    error_c: float = 0.0


class WaterSimSection(_Strict):
    time_scale: float = Field(1.0, gt=0)
    seed: int = 1
    hydraulics: HydraulicsSim = HydraulicsSim()
    reference: ReferenceSim = ReferenceSim()
    thermometer: ThermometerSim = ThermometerSim()
    address_base: int = Field(1, ge=0, description="position n answers at base + n - 1")
    serial_prefix: str = "SIMW"
    meter_defaults: WaterMeterSim = WaterMeterSim()
    meters: list[WaterPositionSim] = []

    def meter_for(self, position: int) -> WaterMeterSim:
        merged = self.meter_defaults.model_dump(exclude_none=True)
        for override in self.meters:
            if position in override.positions:
                merged.update(override.model_dump(exclude_none=True, exclude={"positions"}))
        return WaterMeterSim.model_validate(merged)

    def address_for(self, position: int) -> str:
        override = self.meter_for(position).address
        return override if override else f"{self.address_base + position - 1:014d}"

    def serial_for(self, position: int) -> str:
        override = self.meter_for(position).serial
        return override if override else f"{self.serial_prefix}{position:04d}"


def load_water_sim_section(bench: BenchConfig, path: Path | str) -> WaterSimSection:
    """Validate a water bench's ``[sim]``; ConfigError naming file and field."""
    if bench.sim is None:
        raise ConfigError(f"{path}: the bench has no [sim] section, so it cannot be simulated")
    section = validate_model(WaterSimSection, bench.sim, path, prefix="sim")
    numbers = {p.number for p in bench.positions}
    for index, override in enumerate(section.meters):
        unknown = sorted(set(override.positions) - numbers)
        if unknown:
            raise ConfigError(
                f"{path}: field 'sim.meters[{index}].positions': positions "
                f"{unknown} are not on this bench"
            )
    for position in sorted(numbers):
        if section.meter_for(position).type is None:
            raise ConfigError(
                f"{path}: field 'sim.meter_defaults.type': no meter type for "
                f"position {position} (set a default or a per-position type)"
            )
    return section


__all__ = ["WaterMeterSim", "WaterSimSection", "load_water_sim_section"]
