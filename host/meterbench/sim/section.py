"""What every kind's ``[sim]`` section has: time scale, seed, and the simulated meters, set for
all positions (``[sim.meter_defaults]``) and overridden per position or range
(``[[sim.meters]] positions = "3,7-9"``), with their addresses and serial numbers.

A kind's section subclasses ``SimSection`` with its own meter model (``MeterSimBase``) and its
own devices; ``load_sim_section`` validates it against the bench, naming file and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meterbench.config.bench import BenchConfig, parse_numbers
from meterbench.config.errors import ConfigError
from meterbench.config.files import validate_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeterSimBase(Strict):
    """What every simulated meter has; unset fields take the defaults' values."""

    type: str | None = Field(
        default=None, description="meter type file, relative to the bench file"
    )
    address: str | None = None
    serial: str | None = None
    dead: bool | None = Field(default=None, description="gives no pulses at all")

    @property
    def never_answers(self) -> bool:
        """Configured never to answer on its bus (a check of its port must fail)."""
        return False

    def fault_notes(self, meter_class: str) -> list[str]:
        """The faults this meter carries and what the run should make of them, one phrase
        each, so an operator reading a simulated run knows which failures are intended."""
        notes = []
        if self.dead:
            notes.append("gives no pulses: every accuracy item should fail")
        if self.never_answers:
            notes.append(
                "never answers on its bus: communication should fail; the items that read it "
                "(register, time setting) give no result"
            )
        return notes


class PositionsMixin(BaseModel):
    positions: list[int]

    @field_validator("positions", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> list[int]:
        return parse_numbers(value)


def class_index(meter_class: str) -> float | None:
    """The number of an accuracy class ("0.5S" -> 0.5): the error, in percent, a meter of the
    class may have at its base load; None for a class without a number."""
    digits = meter_class.rstrip("SsABCD ")
    try:
        return float(digits)
    except ValueError:
        return None


def beyond_class(error_pct: float, meter_class: str) -> bool:
    index = class_index(meter_class)
    return index is not None and abs(error_pct) > index


class ReferenceSim(Strict):
    """The simulated reference (standard or master meter): its true error."""

    error_pct: float = 0.0


M = TypeVar("M", bound=MeterSimBase)


class SimSectionBase(Strict, Generic[M]):
    """The part of ``[sim]`` every kind shares. Subclasses declare ``meter_defaults`` and
    ``meters`` with their meter model and set ``address_digits`` and ``serial_prefix``."""

    address_digits: ClassVar[int] = 12

    time_scale: float = Field(default=1.0, gt=0)
    seed: int = 1
    address_base: int = Field(
        default=1, ge=0, description="position n answers at address base + n - 1"
    )
    serial_prefix: str = "SIM"
    pace_buses: bool = Field(
        default=False,
        description="meter buses at wire speed with the bench's bus model (adapter latency, "
        "inter-byte gaps) instead of at once",
    )
    meter_defaults: Any
    meters: list[Any] = []

    def meter_for(self, position: int) -> M:
        """The defaults with every override that names this position applied, in order."""
        merged = self.meter_defaults.model_dump(exclude_none=True)
        for override in self.meters:
            if position in override.positions:
                merged.update(override.model_dump(exclude_none=True, exclude={"positions"}))
        return type(self.meter_defaults).model_validate(merged)

    def address_for(self, position: int) -> str:
        override = self.meter_for(position).address
        if override:
            return override
        return f"{self.address_base + position - 1:0{self.address_digits}d}"

    def serial_for(self, position: int) -> str:
        override = self.meter_for(position).serial
        return override if override else f"{self.serial_prefix}{position:04d}"

    def check(self, bench: BenchConfig, path: Path | str) -> None:
        """Rules between this section and the rest of the bench (ConfigError)."""

    def event_notes(self) -> list[str]:
        """Bench-wide faults injected at set times (none in the base), one phrase each."""
        return []


S = TypeVar("S", bound=SimSectionBase[Any])


def load_sim_section(model: type[S], bench: BenchConfig, path: Path | str) -> S:
    """The bench's ``[sim]`` validated as ``model``; ConfigError naming file and field."""
    if bench.sim is None:
        raise ConfigError(path, None, "the bench has no [sim] section, so it cannot be simulated")
    section = validate_model(model, bench.sim, path, prefix="sim")
    numbers = {p.number for p in bench.positions}
    for index, override in enumerate(section.meters):
        unknown = sorted(set(override.positions) - numbers)
        if unknown:
            raise ConfigError(
                path,
                f"sim.meters[{index}].positions",
                f"positions {unknown} are not on this bench",
            )
    section.check(bench, path)
    for position in sorted(numbers):
        if section.meter_for(position).type is None:
            raise ConfigError(
                path,
                "sim.meter_defaults.type",
                f"no meter type for position {position} (set a default or a per-position type)",
            )
    return section


__all__ = [
    "MeterSimBase",
    "beyond_class",
    "class_index",
    "PositionsMixin",
    "ReferenceSim",
    "SimSectionBase",
    "Strict",
    "load_sim_section",
]
