"""The ``[gas]`` section of a gas bench: its reference, the air line's sensors and the Modbus
line they answer on.

A gas bench passes one air flow through every meter in series. The reference is a bell prover
(钟罩: a bell lowered by its motor into a water seal, its travel read by an encoder) or a master
meter; either is one Modbus unit that sets the flow, counts the reference volume and reports the
air's temperature and absolute pressure at the reference. A second unit reports the meter
line's temperature and absolute pressure (to carry the reference volume to the meters'
conditions) and, per position, the static gauge pressure (tightness) and the differential
pressure across the meter (pressure loss). ``check_gas`` holds the rules that need the rest of
the bench.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GasModbusLine(_Strict):
    """The RS-485 line of the reference and the line sensors."""

    url: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "E"
    bytesize: int = 8
    stopbits: float = 1


class GasReference(_Strict):
    """The bell prover (or master meter) controller on the Modbus line."""

    unit: int = Field(default=1, ge=1, le=247)
    litres_per_count: float = Field(
        gt=0, description="volume of one encoder count (bell) or one pulse (master meter)"
    )
    capacity_l: float | None = Field(
        default=None, gt=0, description="usable bell volume; refilled when a run needs more"
    )
    error_pct: float = Field(
        default=0.0, description="its error from its certificate; volumes corrected"
    )


class GasSensors(_Strict):
    """The line-sensor unit: meter-line temperature and pressure, per-position pressures."""

    unit: int = Field(default=2, ge=1, le=247)


class GasTiming(_Strict):
    settle_s: float = Field(default=20.0, ge=0, description="after a flow change, before a run")
    poll_s: float = Field(default=1.0, gt=0, description="between reads of the reference count")
    rest_s: float = Field(default=5.0, ge=0, description="after the flow stops, before reading")
    pressurise_timeout_s: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, description="tries of a run outside its band")


class GasBench(_Strict):
    method: Literal["bell", "master_meter"] = "bell"
    min_flow_l_h: float = Field(gt=0)
    max_flow_l_h: float = Field(gt=0)
    max_pressure_kpa: float = Field(default=50.0, gt=0, description="largest tightness pressure")
    modbus: GasModbusLine
    reference: GasReference
    sensors: GasSensors = GasSensors()
    timing: GasTiming = GasTiming()

    @model_validator(mode="after")
    def _consistent(self) -> GasBench:
        if self.max_flow_l_h <= self.min_flow_l_h:
            raise ValueError("gas.max_flow_l_h: must be greater than min_flow_l_h")
        if self.method == "bell" and self.reference.capacity_l is None:
            raise ValueError("gas.reference.capacity_l: a bell prover needs its usable volume")
        if self.reference.unit == self.sensors.unit:
            raise ValueError("gas.sensors.unit: the reference already answers at this unit")
        return self

    def endpoints(self) -> dict[str, str]:
        return {"gas.modbus.url": self.modbus.url}

    def reference_resolution_l(self) -> float:
        return self.reference.litres_per_count


class GasSection(_Strict):
    """What a gas bench has beyond the common bench."""

    gas: GasBench


def check_gas(bench: BenchConfig, section: GasSection) -> None:
    """Every position reads its meter's register over a bus: a gas bench has no photo heads."""
    for position in bench.positions:
        if position.bus is None:
            raise ValueError(
                f"positions: position {position.number} has no bus; a gas bench reads every "
                "meter's register over CJ/T 188"
            )


def gas_of(bench: BenchConfig) -> GasBench:
    section: GasSection = bench.section
    return section.gas


__all__ = [
    "GasBench",
    "GasModbusLine",
    "GasReference",
    "GasSection",
    "GasSensors",
    "GasTiming",
    "check_gas",
    "gas_of",
]
