"""Gas meter types (``kind = "gas"``): the nameplate a diaphragm gas-meter verification
depends on.

Why these fields: the zones need qmin and qmax (qt follows from the profile), the test volume
needs the cyclic volume and the register resolution (or a pulse value), the tightness test the
maximum working pressure; the G designation, when given, is checked against the flow rates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from meterbench.config.errors import FieldProblem
from meterbench.config.meter_types import PositiveDecimal, _MeterType
from meterbench.regulations.classes import normalise_class

CJT188_GAS_TYPE = 0x30


class GasMeterType(_MeterType):
    """A diaphragm gas meter type. Flow rates in m³/h, volumes in litres, pressure in kPa."""

    kind: Literal["gas"] = "gas"
    # A frozen model: narrowing the inherited field to this kind's classes is safe.
    meter_class: Annotated[Literal["1.5", "1"], BeforeValidator(normalise_class)] = Field(  # pyright: ignore[reportIncompatibleVariableOverride]
        alias="class"
    )
    designation: str = Field(default="", pattern=r"^$|^G\d+(?:\.\d+)?$")
    qmax_m3h: PositiveDecimal
    qmin_m3h: PositiveDecimal
    cyclic_volume_l: PositiveDecimal
    register_resolution_l: PositiveDecimal
    pulse_value_l: PositiveDecimal | None = None
    pmax_kpa: PositiveDecimal
    temperature_compensated: bool = False
    protocol: Literal["cjt188", "none"] = "none"

    @model_validator(mode="after")
    def _consistent(self) -> GasMeterType:
        if self.qmin_m3h >= self.qmax_m3h:
            raise FieldProblem("qmin_m3h", "must be smaller than qmax_m3h")
        if self.cyclic_volume_l < self.register_resolution_l:
            raise FieldProblem(
                "cyclic_volume_l", "is smaller than register_resolution_l: check the units (L)"
            )
        return self

    @property
    def resolution_l(self) -> Decimal:
        """The finer of the pulse value and the register resolution: what a run is read with."""
        if self.pulse_value_l is not None:
            return min(self.pulse_value_l, self.register_resolution_l)
        return self.register_resolution_l

    @property
    def cjt188_type(self) -> int:
        return CJT188_GAS_TYPE
