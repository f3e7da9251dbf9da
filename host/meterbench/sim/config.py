"""The ``[sim]`` section of a bench file: which simulated meters sit in which positions, how
each behaves, and which faults the simulated bench injects.

Every field of the meter behaviour model can be set for all positions (``[sim.meter_defaults]``)
and overridden per position or range (``[[sim.meters]] positions = "3,7-9"``). Validation errors
name the file and the field, like every other config error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meterbench.config.bench import BenchConfig, parse_numbers
from meterbench.config.errors import ConfigError
from meterbench.config.files import validate_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorTablePoint(_Strict):
    current_ib: float = Field(gt=0, description="load current as a multiple of Ib (or In)")
    pf: str | float = 1.0
    error_pct: float


class MeterSim(_Strict):
    """Behaviour of one simulated meter. Unset fields take the defaults' values."""

    type: str | None = Field(None, description="meter type file, relative to the bench file")
    address: str | None = None
    serial: str | None = None
    # metrology
    error_pct: float | None = None
    error_table: list[ErrorTablePoint] | None = None
    error_curve: list[tuple[float, float]] | None = None
    noise_pct: float | None = Field(None, ge=0)
    noise_interval_s: float | None = Field(None, gt=0)
    pulse_jitter_s: float | None = Field(None, ge=0)
    start_current_a: float | None = Field(None, ge=0)
    start_current_factor: float | None = Field(
        None, gt=0, description="starting threshold as a fraction of Ib (e.g. 0.004)"
    )
    creep_pulses_per_hour: float | None = Field(None, ge=0)
    clock_error_s_per_day: float | None = None
    register_bias_pct: float | None = None
    energy_kwh: float | None = Field(None, ge=0, description="register reading at start")
    dead: bool | None = None
    # communication
    response_delay_s: float | None = Field(None, ge=0)
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
    comm_fault_probability: float | None = Field(None, ge=0, le=1)
    silent_after_s: float | None = Field(None, ge=0, description="stops answering from then on")


class PositionSim(MeterSim):
    positions: list[int]

    @field_validator("positions", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> list[int]:
        return parse_numbers(value)


class FaultEvent(_Strict):
    """A fault the simulated bench injects at a simulated time."""

    kind: Literal["controller_reset", "port_vanish", "link_noise", "bus_noise", "source_unstable"]
    at_s: float = Field(0.0, ge=0)
    duration_s: float = Field(0.0, ge=0)
    controller: str | None = None
    bus: str | None = None
    probability: float = Field(
        0.0, ge=0, le=1, description="corrupted: per byte (link_noise) or per reply (bus_noise)"
    )
    drop: float = Field(
        0.0, ge=0, le=1, description="lost: per byte (link_noise) or per reply (bus_noise)"
    )
    amount_pct: float = Field(0.0, ge=0, description="for source_unstable")


class ReferenceSim(_Strict):
    error_pct: float = 0.0


class TimeBaseSim(_Strict):
    error_ppm: float = 0.0


class SourceSim(_Strict):
    settle_s: float = Field(2.0, ge=0)
    noise_pct: float = Field(0.005, ge=0)


class SimSection(_Strict):
    time_scale: float = Field(1.0, gt=0)
    seed: int = 1
    reference: ReferenceSim = ReferenceSim()
    timebase: TimeBaseSim = TimeBaseSim()
    source: SourceSim = SourceSim()
    address_base: int = Field(1, ge=0, description="position n answers at address base + n - 1")
    serial_prefix: str = "SIM"
    meter_defaults: MeterSim = MeterSim()
    meters: list[PositionSim] = []
    faults: list[FaultEvent] = []

    def meter_for(self, position: int) -> MeterSim:
        """The defaults with every override that names this position applied, in order."""
        merged = self.meter_defaults.model_dump(exclude_none=True)
        for override in self.meters:
            if position in override.positions:
                merged.update(override.model_dump(exclude_none=True, exclude={"positions"}))
        return MeterSim.model_validate(merged)

    def address_for(self, position: int) -> str:
        override = self.meter_for(position).address
        return override if override else f"{self.address_base + position - 1:012d}"

    def serial_for(self, position: int) -> str:
        override = self.meter_for(position).serial
        return override if override else f"{self.serial_prefix}{position:04d}"


def load_sim_section(bench: BenchConfig, path: Path | str) -> SimSection:
    """Validate the bench's ``[sim]`` section; ConfigError naming file and field."""
    if bench.sim is None:
        raise ConfigError(f"{path}: the bench has no [sim] section, so it cannot be simulated")
    section = validate_model(SimSection, bench.sim, path, prefix="sim")
    numbers = {p.number for p in bench.positions}
    for index, override in enumerate(section.meters):
        unknown = sorted(set(override.positions) - numbers)
        if unknown:
            raise ConfigError(
                f"{path}: field 'sim.meters[{index}].positions': positions "
                f"{unknown} are not on this bench"
            )
    controllers = {c.id for c in bench.controllers}
    buses = {b.id for b in bench.buses}
    for index, fault in enumerate(section.faults):
        if fault.controller is not None and fault.controller not in controllers:
            raise ConfigError(
                f"{path}: field 'sim.faults[{index}].controller': no controller "
                f"{fault.controller!r} on this bench"
            )
        if fault.bus is not None and fault.bus not in buses:
            raise ConfigError(f"{path}: field 'sim.faults[{index}].bus': no bus {fault.bus!r}")
    for position in sorted(numbers):
        if section.meter_for(position).type is None:
            raise ConfigError(
                f"{path}: field 'sim.meter_defaults.type': no meter type for "
                f"position {position} (set a default or a per-position type)"
            )
    return section
