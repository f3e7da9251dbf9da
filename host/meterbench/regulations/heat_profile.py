"""The regulation-profile model for heat meters (JJG 225, EN 1434, OIML R 75, MID MI-004).

Why its own module: the heat rules have their own shape (component MPE formulas with a cap,
flow bands relative to qi/qp, temperature-difference bands relative to Δθmin/Δθmax), and keeping
them apart from the electricity and water models lets each kind grow without touching the
others. Every number carries its provenance exactly as in ``profile.py``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from meterbench.config.errors import FieldProblem
from meterbench.regulations.numbers import to_fraction
from meterbench.regulations.profile import (
    BatchSection,
    ClassesSection,
    ClassRow,
    NonNegativeDecimal,
    PositiveDecimal,
    ProfileHeader,
    Provenance,
    RunsSection,
    Tagged,
    VolumeSection,
    WaterRoundingSection,
    _Strict,
)

HeatBase = Literal["qi", "qp", "qs"]
Application = Literal["heating", "cooling"]

_DT_EXPR = re.compile(
    r"^\s*(?:(?P<factor>\d+(?:\.\d+)?)\s*\*?\s*)?(?P<name>dtmin|dtmax)?"
    r"\s*(?:(?P<sign>[+-])\s*(?P<offset>\d+(?:\.\d+)?))?\s*$"
)


def delta_theta_value(text: str, dt_min_k: Fraction, dt_max_k: Fraction) -> Fraction:
    """A temperature difference written in a profile: ``10`` (K), ``dtmin``, ``1.2dtmin``,
    ``dtmax-5``. Raises ValueError for anything else."""
    match = _DT_EXPR.match(text) if isinstance(text, str) else None
    if not match or not (match["factor"] or match["name"]):
        raise ValueError(
            f"{text!r} is not a temperature difference like '10', '1.2dtmin' or 'dtmax-5'"
        )
    if match["name"] is None:
        if match["sign"]:
            raise ValueError(f"{text!r}: an offset needs dtmin or dtmax")
        return to_fraction(match["factor"])
    base = dt_min_k if match["name"] == "dtmin" else dt_max_k
    value = base * (to_fraction(match["factor"]) if match["factor"] else 1)
    if match["sign"]:
        offset = to_fraction(match["offset"])
        value = value + offset if match["sign"] == "+" else value - offset
    return value


def _check_dt(text: str) -> str:
    delta_theta_value(text, Fraction(3), Fraction(50))
    return text


DeltaThetaText = Annotated[str, AfterValidator(_check_dt)]


class NameplateSection(_Strict):
    """Limits on the nameplate values the profile accepts."""

    delta_theta_min_k: Tagged[list[PositiveDecimal]]
    qp_over_qi_min: Tagged[PositiveDecimal]
    delta_theta_max_over_min_min: Tagged[PositiveDecimal]


class FlowSensorMpeRow(ClassRow):
    """Ef = ±(a + b·qp/q) %, never more than ±cap %."""

    a: PositiveDecimal
    b: NonNegativeDecimal
    cap: PositiveDecimal


class DeltaThetaMpeRow(Provenance):
    """±(a + b·Δθmin/Δθ) %: the temperature-sensor pair (Et) and the calculator (Ec)."""

    a: PositiveDecimal
    b: NonNegativeDecimal


class HeatMpeSection(_Strict):
    flow_sensor: list[FlowSensorMpeRow]
    temperature_pair: DeltaThetaMpeRow
    calculator: DeltaThetaMpeRow


class HeatFlowBandRow(Provenance):
    """A flow point as a band of multiples of qi, qp or qs (``0.1qp`` is 0.1..0.11 x qp)."""

    point: str = Field(pattern=r"^[A-Za-z0-9.]+$")
    base: HeatBase
    low: PositiveDecimal
    high: PositiveDecimal

    @model_validator(mode="after")
    def _ordered(self) -> HeatFlowBandRow:
        if self.low > self.high:
            raise FieldProblem("high", "must not be below low")
        return self


class WaterTemperatureRow(Provenance):
    """Water temperature for the flow-sensor test, by application."""

    application: Application
    nominal_c: Annotated[NonNegativeDecimal, Field()]
    low_c: NonNegativeDecimal
    high_c: NonNegativeDecimal


class HeatFlowSection(_Strict):
    bands: list[HeatFlowBandRow]
    water_temperature: list[WaterTemperatureRow]


class DeltaThetaBandRow(Provenance):
    """A temperature-difference point as a band between two expressions (``dtmax-5``)."""

    point: str = Field(pattern=r"^[A-Za-z0-9.-]+$")
    low: DeltaThetaText
    high: DeltaThetaText


class DeltaThetaSection(_Strict):
    bands: list[DeltaThetaBandRow]
    return_temperature_c: Tagged[PositiveDecimal]


class CompletePairRow(Provenance):
    """One point of the complete-meter test: a flow band paired with a Δθ band."""

    flow: str
    delta_theta: str


class CompleteSection(_Strict):
    pairs: list[CompletePairRow]


class EquipmentSection(_Strict):
    uncertainty_ratio: Tagged[PositiveDecimal]


class HeatProfile(_Strict):
    """A rule set for heat meters."""

    profile: ProfileHeader
    classes: ClassesSection
    nameplate: NameplateSection
    mpe: HeatMpeSection
    flow: HeatFlowSection
    delta_theta: DeltaThetaSection
    complete: CompleteSection
    equipment: EquipmentSection
    runs: RunsSection
    rounding: WaterRoundingSection
    volume: VolumeSection
    batch: BatchSection

    @model_validator(mode="after")
    def _complete(self) -> HeatProfile:
        for cls in self.classes.supported.value:
            if not any(r.cls == cls for r in self.mpe.flow_sensor):
                raise FieldProblem("mpe.flow_sensor", f"no flow-sensor MPE for class {cls}")
            if not any(r.cls == cls for r in self.rounding.intervals):
                raise FieldProblem("rounding.intervals", f"no rounding interval for class {cls}")
        flows = {b.point for b in self.flow.bands}
        dts = {b.point for b in self.delta_theta.bands}
        for index, pair in enumerate(self.complete.pairs):
            if pair.flow not in flows:
                raise FieldProblem(f"complete.pairs[{index}].flow", f"no flow band {pair.flow!r}")
            if pair.delta_theta not in dts:
                raise FieldProblem(
                    f"complete.pairs[{index}].delta_theta", f"no Δθ band {pair.delta_theta!r}"
                )
        return self

    @property
    def id(self) -> str:
        return self.profile.id
