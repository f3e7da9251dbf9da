"""Expanded steps of a heat-meter plan: the flow sensor, the calculator, the sensor pair and
the complete meter, each point with its band, its MPE components and the ``why`` behind them."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from meterbench.plan.model_common import LimitSet, Planned, Why, _Frozen, _Step


class ComponentMpe(_Frozen):
    """Ef, Et, Ec (%) at one flow and Δθ, and their sum E = Ef + Et + Ec."""

    delta_theta_point: str
    delta_theta_k: Decimal
    ef: Decimal
    et: Decimal
    ec: Decimal
    e: Decimal


class EfFormula(_Frozen):
    """Ef = min(a + b·qp/q, cap) %: the runner judges at the flow each run really had."""

    a: Decimal
    b: Decimal
    cap: Decimal
    qp_m3h: Decimal

    def at(self, q_l_h: Decimal) -> Decimal:
        """Ef (%) at a flow in L/h, exact to 6 decimals."""
        q_m3h = q_l_h / 1000
        return min(self.a + self.b * self.qp_m3h / q_m3h, self.cap).quantize(Decimal("1e-6"))


class HeatFlowPoint(_Frozen):
    """A flow-sensor point: the flow band, the water temperature, Ef as the limit, and the
    complete-meter MPE at the Δθ the profile pairs with this flow."""

    key: str
    band_low_l_h: Decimal
    band_high_l_h: Decimal
    target_l_h: Decimal
    water_temperature_c: Decimal
    water_band_c: str
    limits: LimitSet
    ef_formula: EfFormula | None = None
    combined: ComponentMpe | None = None
    rounding_interval: Decimal
    runs: int
    resolution_l: Decimal
    volume_l: Decimal
    duration_s: Decimal
    feasible: bool = True
    problems: list[str] = []
    why: Why


class HeatFlowStep(_Step):
    type: Literal["heat_flow"] = "heat_flow"
    qi_m3h: Decimal
    qp_m3h: Decimal
    qs_m3h: Decimal
    installation: str
    points: list[HeatFlowPoint]

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        return self._per_point([(p.key, p) for p in self.points])


class DeltaThetaPoint(_Frozen):
    """A temperature-difference point of the calculator or sensor-pair test."""

    key: str
    band_low_k: Decimal
    band_high_k: Decimal
    delta_theta_k: Decimal
    supply_c: Decimal
    return_c: Decimal
    limits: LimitSet
    rounding_interval: Decimal
    runs: int = 1
    supply_ohm: Decimal
    return_ohm: Decimal
    heat_coefficient_kj_m3_k: Decimal | None = None
    volume_l: Decimal | None = None
    heat_kwh: Decimal | None = None
    why: Why


class HeatCalculatorStep(_Step):
    """Simulated sensor resistances and volume pulses into the calculator."""

    type: Literal["heat_calculator"] = "heat_calculator"
    sensor: str
    pressure_mpa: Decimal
    installation: str
    points: list[DeltaThetaPoint]

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        return self._per_point([(p.key, p) for p in self.points])


class HeatSensorPairStep(_Step):
    """The sensor pair in two baths; the resistances are the nominal ones at the bath
    temperatures."""

    type: Literal["heat_sensor_pair"] = "heat_sensor_pair"
    sensor: str
    points: list[DeltaThetaPoint]

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        return self._per_point([(p.key, p) for p in self.points])


class HeatCompletePoint(_Frozen):
    """A complete-meter point: flow band x Δθ band, E = Ef + Et + Ec as the limit."""

    key: str
    flow: str
    delta_theta: str
    target_l_h: Decimal
    band_low_l_h: Decimal
    band_high_l_h: Decimal
    delta_theta_k: Decimal
    supply_c: Decimal
    return_c: Decimal
    components: ComponentMpe
    limits: LimitSet
    rounding_interval: Decimal
    runs: int
    volume_l: Decimal
    heat_kwh: Decimal
    duration_s: Decimal
    feasible: bool = True
    problems: list[str] = []
    why: Why


class HeatCompleteStep(_Step):
    type: Literal["heat_complete"] = "heat_complete"
    pressure_mpa: Decimal
    installation: str
    points: list[HeatCompletePoint]

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        return self._per_point([(p.key, p) for p in self.points])
