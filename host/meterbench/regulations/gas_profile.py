"""The regulation-profile model for diaphragm gas meters (JJG 577, OIML R 137, EN 1359).

Why its own module: gas rules are shaped by qmin/qt/qmax zones, the meter's cyclic volume,
the tightness and pressure-loss items and the bell prover's gas-law correction, none of which
the electricity or water models have. Every number carries its provenance as in ``profile.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from meterbench.config.errors import FieldProblem
from meterbench.regulations.profile import (
    BatchSection,
    ClassesSection,
    ClassRow,
    NonNegativeDecimal,
    PositiveDecimal,
    PositiveInt,
    ProfileHeader,
    Provenance,
    RunsSection,
    Tagged,
    VolumeSection,
    WaterRoundingSection,
    _Strict,
)

GasZone = Literal["upper", "lower"]


class GasFlowBandRow(Provenance):
    """Where the measured flow of a run at a point must lie, as multiples of qmax or qmin."""

    point: str = Field(pattern=r"^[A-Za-z0-9.]+$")
    base: Literal["qmin", "qmax"]
    low: PositiveDecimal
    high: PositiveDecimal

    @model_validator(mode="after")
    def _ordered(self) -> GasFlowBandRow:
        if self.low > self.high:
            raise FieldProblem("high", "must not be below low")
        return self


class DesignationRow(Provenance):
    """A G designation and its flow rates in m³/h (qmin is the largest allowed value)."""

    designation: str = Field(pattern=r"^G\d+(?:\.\d+)?$")
    qmax: PositiveDecimal
    qmin: PositiveDecimal


class GasFlowSection(_Strict):
    qt_over_qmax: Tagged[PositiveDecimal]
    bands: list[GasFlowBandRow]
    designations: list[DesignationRow] = []


class GasMpeRow(ClassRow):
    """MPE (%) for a class in a zone: lower qmin <= q < qt, upper qt <= q <= qmax."""

    zone: GasZone
    mpe: PositiveDecimal


class SameSignRow(ClassRow):
    """When every error from qt to qmax has the same sign, none may exceed ``limit`` %."""

    limit: PositiveDecimal


class GasMpeSection(_Strict):
    rows: list[GasMpeRow]
    same_sign: list[SameSignRow] = []


class CyclesSection(_Strict):
    """The test volume is a whole number of cyclic volumes, at least ``min_cycles`` of them."""

    min_cycles: Tagged[PositiveInt]
    whole_cycles: Tagged[bool]


class BellSection(_Strict):
    """How the bell prover's volume is carried to the meter's conditions."""

    humidity_correction: Tagged[bool]


class TightnessSection(_Strict):
    pressure_factor: Tagged[PositiveDecimal]
    hold_s: Tagged[PositiveInt]
    max_drop_pa: Tagged[NonNegativeDecimal]


class PressureLossRow(Provenance):
    """Largest pressure loss (Pa) at qmax, for meters with qmax up to ``qmax_up_to`` m³/h."""

    qmax_up_to: PositiveDecimal
    limit_pa: PositiveDecimal


class PressureLossSection(_Strict):
    rows: list[PressureLossRow]
    air_density_kg_m3: Tagged[PositiveDecimal]


class GasProfile(_Strict):
    """A rule set for diaphragm gas meters."""

    profile: ProfileHeader
    classes: ClassesSection
    flow: GasFlowSection
    mpe: GasMpeSection
    runs: RunsSection
    rounding: WaterRoundingSection
    volume: VolumeSection
    cycles: CyclesSection
    bell: BellSection
    tightness: TightnessSection
    pressure_loss: PressureLossSection
    batch: BatchSection

    @model_validator(mode="after")
    def _complete(self) -> GasProfile:
        for cls in self.classes.supported.value:
            for zone in ("lower", "upper"):
                if not any(r.cls == cls and r.zone == zone for r in self.mpe.rows):
                    raise FieldProblem("mpe.rows", f"no MPE for class {cls}, {zone} zone")
            if not any(r.cls == cls for r in self.rounding.intervals):
                raise FieldProblem("rounding.intervals", f"no rounding interval for class {cls}")
        return self

    @property
    def id(self) -> str:
        return self.profile.id
