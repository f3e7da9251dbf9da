"""The ``[sim]`` section of a gas bench file: the air at the reference and in the meter line,
the reference's true error, and which simulated gas meter sits in which position with which
error curve and faults (defaults for all positions, overridden per position or range)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from meterbench.sim.section import MeterSimBase, PositionsMixin, ReferenceSim, SimSectionBase
from meterbench.sim.section import Strict as _Strict


class GasMeterSim(MeterSimBase):
    """Behaviour of one simulated gas meter; unset fields take the defaults' values."""

    address: str | None = Field(default=None, pattern=r"^\d{14}$")
    error_curve: list[tuple[float, float]] | None = Field(
        default=None, description="(flow L/h, error %) points, interpolated in log(flow)"
    )
    error_pct: float | None = None
    register_l: float | None = Field(default=None, ge=0, description="register reading at start")
    leak_pa_per_min: float | None = Field(default=None, ge=0, description="tightness fault")
    dp_at_qmax_pa: float | None = Field(default=None, ge=0, description="pressure loss at qmax")
    valve_closed: bool | None = Field(default=None, description="its status reports the valve shut")
    silent: bool | None = Field(default=None, description="never answers on its bus")
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


class GasPositionSim(GasMeterSim, PositionsMixin):
    pass


class AirSim(_Strict):
    temperature_c: float = Field(default=20.0, ge=0, le=60)
    gauge_pa: float = Field(default=1500.0, ge=0, description="above the atmosphere")


class GasSimSection(SimSectionBase[GasMeterSim]):
    address_digits: ClassVar[int] = 14

    atmosphere_pa: float = Field(default=101325.0, gt=50000)
    reference_air: AirSim = AirSim()
    line_air: AirSim = AirSim(gauge_pa=1200.0)
    reference: ReferenceSim = ReferenceSim()
    refill_l_h: float = Field(default=20000.0, gt=0)
    flow_error_pct: float = Field(
        default=0.0, gt=-50, lt=50, description="delivered flow against the setpoint"
    )
    reference_stuck: bool = Field(default=False, description="fault: the bell does not move")
    serial_prefix: str = "SIMG"
    meter_defaults: GasMeterSim = GasMeterSim()
    meters: list[GasPositionSim] = []


__all__ = ["GasMeterSim", "GasSimSection"]
