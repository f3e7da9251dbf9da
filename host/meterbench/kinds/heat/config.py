"""The ``[heat]`` section of a heat-meter bench, beside the ``[water]`` section of the water
bench its flow part is.

A heat-meter bench is a water bench (reference volume from the master meter, flow set by the
pump drive, meters in series with volume pulses) plus what heat needs: a supply and a return
temperature bath (thermostats on a Modbus line: setpoint written, bath temperature read), a
reference thermometer in each bath (the temperatures the reference heat is computed from), and
for the sub-assembly method a calculator tester that feeds every calculator simulated platinum
resistances and volume pulses. ``check_heat`` holds the rules that need the rest of the bench.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, model_validator

from meterbench.kinds.water.config import ModbusLine, WaterSection, _Strict, check_water

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig

RegisterNo = Annotated[int, Field(ge=0, le=0xFFFF)]
Unit = Annotated[int, Field(ge=1, le=247)]


class Bath(_Strict):
    """A thermostat bath: setpoint in a holding register, its own bath temperature in an input
    register, both signed in units of ``scale_c``."""

    unit: Unit
    setpoint_register: RegisterNo = 0
    temperature_register: RegisterNo = 0
    scale_c: float = Field(default=0.01, gt=0)


class ReferenceThermometer(_Strict):
    """A reference thermometer read-out (a platinum resistance thermometer's bridge): the
    temperature as a signed 32-bit input-register pair (high word first) in units of
    ``scale_c``, corrected by its certificate's ``correction_c``."""

    unit: Unit
    address: RegisterNo = 0
    scale_c: float = Field(default=0.001, gt=0)
    correction_c: float = 0.0


class BathStability(_Strict):
    """When the baths count as settled: consecutive reference readings ``interval_s`` apart,
    all within ``band_c`` of the setpoint and of each other."""

    interval_s: float = Field(default=30.0, gt=0)
    readings: int = Field(default=3, ge=2)
    band_c: float = Field(default=0.1, gt=0)
    max_wait_s: float = Field(default=3600.0, gt=0)


class CalculatorTester(_Strict):
    """Simulated sensors and volume pulses for every calculator at once (one output pair and
    one pulse output per position). Register map (holding): 0-1 supply resistance, 2-3 return
    resistance (unsigned 32-bit, high word first, in mΩ), 4-5 pulses to send, 6 pulse
    frequency (Hz), 7 command (0 disconnect, 1 connect the calculators, 2 start the pulses);
    input registers 0-1: pulses still to send."""

    unit: Unit
    max_pulse_hz: float = Field(default=10.0, gt=0)
    pulse_hz: float = Field(default=5.0, gt=0)
    resistance_resolution_ohm: float = Field(default=0.001, gt=0)

    @model_validator(mode="after")
    def _rate(self) -> CalculatorTester:
        if self.pulse_hz > self.max_pulse_hz:
            raise ValueError("heat.calculator.pulse_hz: above max_pulse_hz")
        return self


class HeatBench(_Strict):
    modbus: ModbusLine
    supply_bath: Bath
    return_bath: Bath
    supply_thermometer: ReferenceThermometer
    return_thermometer: ReferenceThermometer
    stability: BathStability = BathStability()
    calculator: CalculatorTester | None = None
    pair_readings: int = Field(default=3, ge=1, description="meter reads per sensor-pair point")

    def units(self) -> dict[str, int]:
        out = {
            "heat.supply_bath.unit": self.supply_bath.unit,
            "heat.return_bath.unit": self.return_bath.unit,
            "heat.supply_thermometer.unit": self.supply_thermometer.unit,
            "heat.return_thermometer.unit": self.return_thermometer.unit,
        }
        if self.calculator is not None:
            out["heat.calculator.unit"] = self.calculator.unit
        return out

    @model_validator(mode="after")
    def _distinct_units(self) -> HeatBench:
        seen: dict[int, str] = {}
        for name, unit in self.units().items():
            if unit in seen:
                raise ValueError(f"{name}: unit {unit} is already {seen[unit]}'s")
            seen[unit] = name
        return self


class HeatSection(WaterSection):
    """What a heat-meter bench has beyond the common bench: its water bench and its heat
    devices."""

    heat: HeatBench


def check_heat(bench: BenchConfig, section: HeatSection) -> None:
    """The water bench's rules; the heat line apart from the water line (the baths answer
    slowly and must not hold up the pump drive)."""
    check_water(bench, section)
    if section.heat.modbus.url == section.water.modbus.url:
        raise ValueError("heat.modbus.url: the baths need a line of their own, not water.modbus")


def heat_of(bench: BenchConfig) -> HeatBench:
    section: HeatSection = bench.section
    return section.heat


__all__ = [
    "Bath",
    "BathStability",
    "CalculatorTester",
    "HeatBench",
    "HeatSection",
    "ReferenceThermometer",
    "check_heat",
    "heat_of",
]
