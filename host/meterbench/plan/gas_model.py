"""Expanded steps of a gas-meter plan: the error at flow points, tightness, pressure loss."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from meterbench.plan.model_common import LimitSet, Planned, Why, _Frozen, _Step


class GasPoint(_Frozen):
    """A flow point: band, zone, MPE, and the test volume in whole cyclic volumes."""

    key: str
    band_low_l_h: Decimal
    band_high_l_h: Decimal
    target_l_h: Decimal
    zone: str
    limits: LimitSet
    rounding_interval: Decimal
    runs: int
    resolution_l: Decimal
    cyclic_volume_l: Decimal
    volume_l: Decimal
    cycles: Decimal
    duration_s: Decimal
    humidity_correction: bool = False
    # class 1.0: when every error from qt to qmax has one sign, none may exceed this (%)
    same_sign_limit: Decimal | None = None
    upper_points: list[str] = []
    feasible: bool = True
    problems: list[str] = []
    why: Why


class GasErrorStep(_Step):
    type: Literal["gas_error"] = "gas_error"
    method: str
    qmin_m3h: Decimal
    qt_m3h: Decimal
    qmax_m3h: Decimal
    humidity_correction: bool
    points: list[GasPoint]

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        """One runner step per flow point, so each point is judged, resumed and counted in
        the batch statistics on its own."""
        return self._per_point([(p.key, p) for p in self.points])


class GasTightnessStep(_Step):
    type: Literal["gas_tightness"] = "gas_tightness"
    pressure_kpa: Decimal
    hold_s: int
    max_drop_pa: Decimal


class GasPressureLossStep(_Step):
    type: Literal["gas_pressure_loss"] = "gas_pressure_loss"
    flow_m3h: Decimal
    limit_pa: Decimal
    air_density_kg_m3: Decimal
