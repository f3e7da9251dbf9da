"""Plan items for heat meters, by verification method.

Complete meter (总量检定): ``heat_complete`` pairs a flow band with a temperature-difference
band on a water bench with supply/return baths. Sub-assembly (分量检定): ``heat_flow`` tests the
flow sensor on the water bench, ``heat_calculator`` the calculator with simulated resistances
and volume pulses, ``heat_sensor_pair`` the pair of temperature sensors in baths. Point names
refer to the bands of the regulation profile (``qi``, ``0.1qp``, ``qp``; ``dtmin``, ``10-20K``,
``dtmax``), so a plan names points and the profile says where they lie.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from meterbench.config.kind_items import KindItem, KindStrict, PositiveDecimal

HEAT_ITEMS = ("heat_flow", "heat_calculator", "heat_sensor_pair", "heat_complete")


class HeatFlowPoint(KindStrict):
    flow: str = Field(pattern=r"^[A-Za-z0-9.]+$")
    acceptance: PositiveDecimal | None = None


class DeltaThetaPoint(KindStrict):
    delta_theta: str = Field(pattern=r"^[A-Za-z0-9.-]+$")
    acceptance: PositiveDecimal | None = None


class CompletePoint(KindStrict):
    flow: str = Field(pattern=r"^[A-Za-z0-9.]+$")
    delta_theta: str = Field(pattern=r"^[A-Za-z0-9.-]+$")
    acceptance: PositiveDecimal | None = None


class HeatFlowItem(KindItem):
    type: Literal["heat_flow"]
    points: Annotated[list[HeatFlowPoint], Field(min_length=1)]


class HeatCalculatorItem(KindItem):
    type: Literal["heat_calculator"]
    points: Annotated[list[DeltaThetaPoint], Field(min_length=1)]


class HeatSensorPairItem(KindItem):
    type: Literal["heat_sensor_pair"]
    points: Annotated[list[DeltaThetaPoint], Field(min_length=1)]


class HeatCompleteItem(KindItem):
    type: Literal["heat_complete"]
    points: list[CompletePoint] | None = Field(
        default=None, description="None: the profile's flow/Δθ pairs"
    )
