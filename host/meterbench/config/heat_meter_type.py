"""Heat meter types (``kind = "heat"``): the nameplate a heat-meter verification depends on.

Why these fields: the MPE formulas need the class, qp and Δθmin; the flow points need qi and
qp (qs bounds the flow range); the temperature points need Δθmin/Δθmax inside θmin..θmax; the
reference heat needs the side the flow sensor sits on (its water density is taken there); the
sub-assembly method needs the sensor type (Pt100/Pt500/Pt1000) and the calculator's inputs; the
test quantities need the resolutions of the volume and heat indications.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from meterbench.config.errors import FieldProblem
from meterbench.config.meter_types import PositiveDecimal, _MeterType
from meterbench.regulations.classes import normalise_class

HEAT_UNITS_KWH = {
    "kWh": Decimal(1),
    "MWh": Decimal(1000),
    "MJ": Decimal(1) / Decimal("3.6"),
    "GJ": Decimal(1000) / Decimal("3.6"),
}
CJT188_TYPE = {"heating": 0x20, "cooling": 0x21}


class HeatMeterType(_MeterType):
    """A heat (or cooling) meter type. Flow rates in m³/h, temperatures in °C, differences
    in K; ``installation`` is the pipe the flow sensor sits in."""

    kind: Literal["heat"] = "heat"
    # A frozen model: narrowing the inherited field to this kind's classes is safe.
    meter_class: Annotated[Literal["1", "2", "3"], BeforeValidator(normalise_class)] = Field(  # pyright: ignore[reportIncompatibleVariableOverride]
        alias="class"
    )
    application: Literal["heating", "cooling"] = "heating"
    qp_m3h: PositiveDecimal
    qi_m3h: PositiveDecimal
    qs_m3h: PositiveDecimal | None = Field(default=None, description="None: 2 x qp")
    theta_min_c: Decimal
    theta_max_c: Decimal
    delta_theta_min_k: PositiveDecimal
    delta_theta_max_k: PositiveDecimal
    installation: Literal["supply", "return"] = "return"
    dn: Annotated[int, Field(gt=0)]
    sensor: Literal["Pt100", "Pt500", "Pt1000"] = "Pt1000"
    construction: Literal["complete", "combined", "hybrid"] = "complete"
    pressure_mpa: PositiveDecimal = Field(
        default=Decimal("0.6"), description="Water pressure for enthalpy and density"
    )
    volume_resolution_l: PositiveDecimal = Field(
        description="Resolution of the volume indication (test mode, or the pulse value)"
    )
    heat_resolution: PositiveDecimal = Field(description="Resolution of the heat indication")
    heat_unit: Literal["kWh", "MWh", "MJ", "GJ"] = "kWh"
    pulse_value_l: PositiveDecimal | None = None
    protocol: Literal["cjt188", "none"] = "none"

    @model_validator(mode="after")
    def _consistent(self) -> HeatMeterType:
        if self.qi_m3h >= self.qp_m3h:
            raise FieldProblem("qi_m3h", "must be smaller than qp_m3h")
        if self.qs_m3h is not None and self.qs_m3h < self.qp_m3h:
            raise FieldProblem("qs_m3h", "must not be smaller than qp_m3h")
        if self.theta_min_c >= self.theta_max_c:
            raise FieldProblem("theta_max_c", "must be greater than theta_min_c")
        if self.delta_theta_min_k >= self.delta_theta_max_k:
            raise FieldProblem("delta_theta_max_k", "must be greater than delta_theta_min_k")
        if self.delta_theta_max_k > self.theta_max_c - self.theta_min_c:
            raise FieldProblem("delta_theta_max_k", "cannot exceed theta_max_c - theta_min_c")
        return self

    @property
    def qs(self) -> Decimal:
        """qs as given, else twice qp (the usual ratio on the nameplate)."""
        return self.qs_m3h if self.qs_m3h is not None else 2 * self.qp_m3h

    @property
    def cjt188_type(self) -> int:
        """The CJ/T 188 meter type T this meter answers to (20H heating, 21H cooling)."""
        return CJT188_TYPE[self.application]

    @property
    def heat_resolution_kwh(self) -> Decimal:
        """The heat resolution in kWh, whatever unit the meter shows."""
        return self.heat_resolution * HEAT_UNITS_KWH[self.heat_unit]
