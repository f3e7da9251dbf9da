"""The ``[sim]`` section of a bench file: which simulated meters sit in which positions, how
each behaves, and which faults the simulated bench injects.

Every field of the meter behaviour model can be set for all positions (``[sim.meter_defaults]``)
and overridden per position or range (``[[sim.meters]] positions = "3,7-9"``). Validation errors
name the file and the field, like every other config error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from meterbench.config.bench import BenchConfig
from meterbench.config.errors import ConfigError
from meterbench.electrical import pf_to_angle
from meterbench.sim.section import (
    MeterSimBase,
    PositionsMixin,
    ReferenceSim,
    SimSectionBase,
    beyond_class,
)
from meterbench.sim.section import Strict as _Strict
from meterbench.sim.section import load_sim_section as _load

CLOCK_LIMIT_S = 0.5  # s/d: the clock daily error limit of JJG 596-2012 and IEC 62054-21


class ErrorTablePoint(_Strict):
    current_ib: float = Field(gt=0, description="load current as a multiple of Ib (or In)")
    pf: str | float = 1.0
    error_pct: float


class CurvePointSim(_Strict):
    """One point of a pulse or register error curve (``sim.error_curves``)."""

    current_ib: float = Field(ge=0, description="load current as a multiple of Ib (or In)")
    error_pct: float
    pf: str = Field(default="any", description='power factor ("0.5L", 1.0) or "any"')
    direction: Literal["P+", "P-", "both"] = "both"

    @field_validator("pf", mode="before")
    @classmethod
    def _pf(cls, value: Any) -> str:
        text = str(value)
        if text != "any":
            pf_to_angle(text)
        return text


class MeterSim(MeterSimBase):
    """Behaviour of one simulated meter. Unset fields take the defaults' values."""

    # metrology
    error_pct: float | None = None
    error_table: list[ErrorTablePoint] | None = None
    error_curve: list[tuple[float, float]] | None = None
    noise_pct: float | None = Field(default=None, ge=0)
    noise_interval_s: float | None = Field(default=None, gt=0)
    pulse_jitter_s: float | None = Field(default=None, ge=0)
    start_current_a: float | None = Field(default=None, ge=0)
    start_current_factor: float | None = Field(
        default=None, gt=0, description="starting threshold as a fraction of Ib (e.g. 0.004)"
    )
    creep_pulses_per_hour: float | None = Field(default=None, ge=0)
    clock_error_s_per_day: float | None = None
    register_bias_pct: float | None = None
    pulse_curve: list[CurvePointSim] | None = Field(
        default=None, description="pulse error by load, added to error_pct/table/curve"
    )
    register_curve: list[CurvePointSim] | None = Field(
        default=None, description="register error beyond the pulses', by load"
    )
    reverse_error_pct: float | None = Field(
        default=None, description="extra error of pulses and registers for reverse energy only"
    )
    energy_kwh: float | None = Field(default=None, ge=0, description="register reading at start")
    tariff_delay_s: float | None = Field(
        default=None, ge=0, description="switches tariff this long after its period table says"
    )
    # communication
    response_delay_s: float | None = Field(default=None, ge=0)
    response_delay_max_s: float | None = Field(
        default=None,
        ge=0,
        description="set: each reply delay drawn from response_delay_s..this, seeded",
    )
    error_delay_s: float | None = Field(
        default=None, ge=0, description="delay of refusals (slow errors)"
    )
    comm_fault: (
        Literal[
            "none",
            "silent",
            "slow",
            "corrupt",
            "wrong-checksum",
            "echo",
            "partial-echo",
            "garbage",
            "split",
            "merge",
        ]
        | None
    ) = None
    comm_fault_probability: float | None = Field(default=None, ge=0, le=1)
    silent_after_s: float | None = Field(
        default=None, ge=0, description="stops answering from then on"
    )

    @property
    def never_answers(self) -> bool:
        return self.comm_fault == "silent" or self.silent_after_s == 0

    def fault_notes(self, meter_class: str) -> list[str]:
        notes = super().fault_notes(meter_class)
        if self.error_pct is not None and beyond_class(self.error_pct, meter_class):
            notes.append(
                f"pulses {self.error_pct:+g} % off, beyond class {meter_class}: basic error "
                "and register (against the reference energy) should fail"
            )
        if self.creep_pulses_per_hour:
            notes.append(
                f"creeps ({self.creep_pulses_per_hour:g} pulses/h with no load): creep should fail"
            )
        if self.start_current_factor is not None or self.start_current_a is not None:
            threshold = (
                f"{self.start_current_factor:g} Ib"
                if self.start_current_factor is not None
                else f"{self.start_current_a:g} A"
            )
            notes.append(
                f"starts only from {threshold}: starting should fail where the regulation's "
                "starting current is lower"
            )
        if self.clock_error_s_per_day and abs(self.clock_error_s_per_day) > CLOCK_LIMIT_S:
            notes.append(
                f"clock {self.clock_error_s_per_day:+g} s/d, beyond ±{CLOCK_LIMIT_S:g} s/d: "
                "clock should fail"
            )
        if self.register_bias_pct:
            notes.append(
                f"register {self.register_bias_pct:+g} % off its test output (tampered): "
                "register should fail"
            )
        if self.silent_after_s and not self.never_answers:
            notes.append(
                f"stops answering after {self.silent_after_s:g} s: items that read it later "
                "give no result"
            )
        if self.comm_fault not in (None, "none", "silent"):
            how = (
                f"{self.comm_fault_probability:g} of replies"
                if self.comm_fault_probability is not None
                else "every reply"
            )
            notes.append(
                f"line fault '{self.comm_fault}' on {how}: retries should recover, "
                "verdicts unchanged"
            )
        return notes


class PositionSim(MeterSim, PositionsMixin):
    pass


class FaultEvent(_Strict):
    """A fault the simulated bench injects at a simulated time."""

    kind: Literal["controller_reset", "port_vanish", "link_noise", "bus_noise", "source_unstable"]
    at_s: float = Field(default=0.0, ge=0)
    duration_s: float = Field(default=0.0, ge=0)
    controller: str | None = None
    bus: str | None = None
    probability: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="corrupted: per byte (link_noise) or per reply (bus_noise)",
    )
    drop: float = Field(
        default=0.0, ge=0, le=1, description="lost: per byte (link_noise) or per reply (bus_noise)"
    )
    amount_pct: float = Field(default=0.0, ge=0, description="for source_unstable")


class TimeBaseSim(_Strict):
    error_ppm: float = 0.0


class SourceSim(_Strict):
    settle_s: float = Field(default=2.0, ge=0)
    noise_pct: float = Field(default=0.005, ge=0)


class SimSection(SimSectionBase[MeterSim]):
    reference: ReferenceSim = ReferenceSim()
    timebase: TimeBaseSim = TimeBaseSim()
    source: SourceSim = SourceSim()
    meter_defaults: MeterSim = MeterSim()
    meters: list[PositionSim] = []
    faults: list[FaultEvent] = []

    def event_notes(self) -> list[str]:
        notes = []
        for fault in self.faults:
            where = fault.controller or fault.bus or "the bench"
            notes.append(
                f"{fault.kind.replace('_', ' ')} on {where} at {fault.at_s:g} s"
                + (f" for {fault.duration_s:g} s" if fault.duration_s else "")
                + ": the run should recover, verdicts unchanged"
            )
        return notes

    def check(self, bench: BenchConfig, path: Path | str) -> None:
        """Faults name controllers and buses of this bench."""
        controllers = {c.id for c in bench.controllers}
        buses = {b.id for b in bench.buses}
        for index, fault in enumerate(self.faults):
            if fault.controller is not None and fault.controller not in controllers:
                raise ConfigError(
                    path,
                    f"sim.faults[{index}].controller",
                    f"no controller {fault.controller!r} on this bench",
                )
            if fault.bus is not None and fault.bus not in buses:
                raise ConfigError(path, f"sim.faults[{index}].bus", f"no bus {fault.bus!r}")


def load_sim_section(bench: BenchConfig, path: Path | str) -> SimSection:
    """Validate an electricity bench's ``[sim]`` section; ConfigError naming file and field."""
    return _load(SimSection, bench, path)
