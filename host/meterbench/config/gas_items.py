"""Plan items for diaphragm gas meters: the error at flow points (bell prover or master
meter), the tightness test and the pressure loss at qmax. Flow points name the profile's bands
(``qmin``, ``0.2qmax``, ``qmax``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from meterbench.config.kind_items import KindItem, KindStrict, PositiveDecimal

GAS_ITEMS = ("gas_error", "gas_tightness", "gas_pressure_loss")


class GasFlowPoint(KindStrict):
    flow: str = Field(pattern=r"^[A-Za-z0-9.]+$")
    acceptance: PositiveDecimal | None = None


class GasErrorItem(KindItem):
    type: Literal["gas_error"]
    method: Literal["bell", "master"] = "bell"
    points: Annotated[list[GasFlowPoint], Field(min_length=1)]


class GasTightnessItem(KindItem):
    type: Literal["gas_tightness"]


class GasPressureLossItem(KindItem):
    type: Literal["gas_pressure_loss"]
