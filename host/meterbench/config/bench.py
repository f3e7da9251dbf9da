"""Bench configuration: the hardware of one bench, its ports and the traceability of its standard.

A bench file says what is wired where (controllers, positions, meter buses, the source and
reference standard, the time base), not what to test (that is the plan). A simulated bench is
the same file with ``sim://`` endpoints and a ``[sim]`` section that describes the simulated
meters; without ``[sim]``, ``sim://`` endpoints are an error. Every problem is reported as a
ConfigError naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterbench.config.files import read_toml, validate_model

SIM_SCHEME = "sim://"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BenchInfo(_Strict):
    id: str = Field(min_length=1, description="bench (device) number printed on records")
    name: str = ""
    kind: str = Field(
        default="electricity", description="the meter kind; its package owns the rest"
    )
    wiring: Literal["1p", "3p4w", "3p3w"] = "1p"
    location: str = ""
    max_current_a: float = Field(default=120.0, gt=0)
    max_voltage_v: float = Field(default=480.0, gt=0)


class StandardInfo(_Strict):
    """The reference standard and its traceability, printed on every record and certificate."""

    name: str = "reference standard"
    model: str = ""
    serial: str = ""
    accuracy_class: str = Field(min_length=1)
    certificate: str = Field(min_length=1, description="certificate number of the standard")
    valid_until: dt.date
    constant_imp_per_kwh: float | None = Field(
        default=None, gt=0, description="nominal constant on the range used (electricity benches)"
    )
    ct_ratio: float = Field(default=1.0, gt=0, description="K_I of the standard's connection")
    vt_ratio: float = Field(default=1.0, gt=0, description="K_U of the standard's connection")


class TimeBaseInfo(_Strict):
    """External reference frequency the controllers count for the clock test."""

    name: str = "external time base"
    frequency_hz: float = Field(default=10e6, gt=0)
    certificate: str = ""


class ControllerInfo(_Strict):
    id: str = Field(min_length=1)
    url: str = Field(min_length=1)
    baudrate: int = Field(default=115200, gt=0)
    board: str = ""
    min_pulse_width_us: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="meter inputs: shorter pulses and bounce are ignored",
    )


class BusInfo(_Strict):
    """One physical RS-485 (or IR) bus to the meters."""

    id: str = Field(min_length=1)
    url: str = Field(min_length=1)
    baudrate: int = Field(default=2400, gt=0)
    parity: Literal["N", "E", "O"] = "E"
    bytesize: int = 8
    stopbits: float = 1
    response_delay_max_s: float = Field(default=0.5, gt=0)
    # The bus model: what the line and its adapter add to the wire time of the bytes. A
    # USB-serial adapter hands received bytes to the host when its latency timer expires
    # (FTDI's default: 16 ms); slow meters leave gaps between the bytes of a reply. A
    # simulated bench paces its lines with these; bus_sweep.py uses them for its bound.
    adapter_latency_s: float = Field(default=0.0, ge=0, le=1)
    inter_byte_gap_s: float = Field(default=0.0, ge=0, le=1)


def parse_numbers(text: str | int | list[int]) -> list[int]:
    """ "1-12", "1,3,5-7", 4 or [1, 2] -> sorted position numbers."""
    if isinstance(text, int):
        return [text]
    if isinstance(text, list):
        return [int(n) for n in text]
    numbers: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if match:
            first, last = int(match.group(1)), int(match.group(2))
            if last < first:
                raise ValueError(f"range {part!r} runs backwards")
            numbers.extend(range(first, last + 1))
        elif part.isdigit():
            numbers.append(int(part))
        else:
            raise ValueError(f"not a position number or range: {part!r}")
    return numbers


class PositionGroup(_Strict):
    """Positions wired alike: ``numbers = "1-12"`` on controller C1, channels 0..11 in order."""

    numbers: list[int]
    controller: str
    first_channel: int = Field(default=0, ge=0)
    bus: str | None = None
    second_pulse: bool = True
    relay: bool = False

    @field_validator("numbers", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> list[int]:
        return parse_numbers(value)


class Position(_Strict):
    number: int = Field(gt=0)
    controller: str
    channel: int = Field(ge=0)
    bus: str | None = None
    second_pulse: bool = True
    relay: bool = False


class CertificateScheme(_Strict):
    """How certificate and result-notice numbers are made: a format with {bench}, {year},
    {seq} (a counter per bench and year) and {kind} (C certificate, N notice)."""

    number_format: str = "{bench}-{year}-{kind}{seq:05d}"
    issuer: str = "meterbench verification laboratory"


class BenchConfig(_Strict):
    """The common bench: positions, controllers, buses, standard, time base, certificates.

    Every other top-level table belongs to the bench's kind (``[source]`` of an electricity
    bench, ``[water]`` of a water bench): the kind validates it (``kinds.MeterKind``) and
    ``section`` holds the result, so this model never asks which kind it is."""

    bench: BenchInfo
    standard: StandardInfo
    timebase: TimeBaseInfo = TimeBaseInfo()
    controllers: list[ControllerInfo] = Field(min_length=1)
    buses: list[BusInfo] = []
    position_groups: list[PositionGroup] = []
    positions_: list[Position] = Field(default=[], alias="positions")
    certificates: CertificateScheme = CertificateScheme()
    sim: dict[str, Any] | None = None
    lab: str | None = Field(
        default=None, description="lab profile file, relative to the bench file (certificates)"
    )

    # extra top-level tables are the kind's; it forbids what it does not know
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    def __getattr__(self, name: str) -> Any:
        # The kind's tables are not attributes of the common bench: point at where they are.
        if not name.startswith("_") and name in (self.__pydantic_extra__ or {}):
            raise AttributeError(
                f"the [{name}] table belongs to the bench's kind: read bench.section.{name}"
            )
        return super().__getattr__(name)  # type: ignore[misc]

    @cached_property
    def kind(self) -> Any:
        """The bench's MeterKind (from the registry in ``meterbench.kinds``)."""
        from meterbench.kinds import kind_named

        return kind_named(self.bench.kind)

    @cached_property
    def section(self) -> Any:
        """The kind's own tables, validated by the kind's section model. (Snapshots of runs
        recorded before kinds had sections carry the other kind's table as null: ignored.)"""
        tables = {k: v for k, v in (self.model_extra or {}).items() if v is not None}
        return self.kind.section_model.model_validate(tables)

    @property
    def positions(self) -> list[Position]:
        """Every position, groups expanded, sorted by number."""
        out = list(self.positions_)
        for group in self.position_groups:
            for index, number in enumerate(group.numbers):
                out.append(
                    Position(
                        number=number,
                        controller=group.controller,
                        channel=group.first_channel + index,
                        bus=group.bus,
                        second_pulse=group.second_pulse,
                        relay=group.relay,
                    )
                )
        return sorted(out, key=lambda p: p.number)

    @property
    def simulated(self) -> bool:
        return self.sim is not None

    def controller(self, controller_id: str) -> ControllerInfo:
        return next(c for c in self.controllers if c.id == controller_id)

    def bus(self, bus_id: str) -> BusInfo:
        return next(b for b in self.buses if b.id == bus_id)

    @model_validator(mode="after")
    def _consistent(self) -> BenchConfig:
        positions = self.positions
        if not positions:
            raise ValueError("positions: the bench has no positions")
        seen: dict[int, str] = {}
        channels: set[tuple[str, int]] = set()
        controllers = {c.id for c in self.controllers}
        buses = {b.id for b in self.buses}
        for p in positions:
            if p.number in seen:
                raise ValueError(f"positions: position {p.number} is defined twice")
            seen[p.number] = p.controller
            if p.controller not in controllers:
                raise ValueError(
                    f"positions: position {p.number} names controller "
                    f"{p.controller!r}, which is not in [[controllers]]"
                )
            if p.bus is not None and p.bus not in buses:
                raise ValueError(
                    f"positions: position {p.number} names bus {p.bus!r}, which is not in [[buses]]"
                )
            if (p.controller, p.channel) in channels:
                raise ValueError(
                    f"positions: channel {p.channel} of controller {p.controller} is used twice"
                )
            channels.add((p.controller, p.channel))
        self.kind.check_bench(self, self.section)  # ValidationError of its tables, as ours
        for kind, items in (("controllers", self.controllers), ("buses", self.buses)):
            ids = [item.id for item in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"{kind}: ids must be unique")
        if not self.simulated:
            for name, url in self.endpoints().items():
                if url.startswith(SIM_SCHEME):
                    raise ValueError(
                        f"{name}: url {url!r} is a simulated endpoint but the bench "
                        "has no [sim] section"
                    )
        return self

    def endpoints(self) -> dict[str, str]:
        """Every endpoint URL, by the config path that names it."""
        out = dict(self.kind.endpoints(self.section))
        out.update({f"controllers[{c.id}].url": c.url for c in self.controllers})
        out.update({f"buses[{b.id}].url": b.url for b in self.buses})
        return out

    def with_endpoints(self, urls: dict[str, str]) -> BenchConfig:
        """This bench with the endpoints named as in ``endpoints()`` moved to new URLs (a
        simulated bench hands out the paths of its ptys this way)."""
        data = self.model_dump(by_alias=True)
        for name, url in urls.items():
            _set_path(data, name, url)
        return BenchConfig.model_validate(data)


def _set_path(data: dict[str, Any], name: str, value: str) -> None:
    """Set ``controllers[C1].url`` or ``water.modbus.url`` in a dumped bench."""
    node: Any = data
    parts = name.split(".")
    for part in parts[:-1]:
        match = re.fullmatch(r"(\w+)\[(.+)\]", part)
        if match:
            node = next(i for i in node[match.group(1)] if str(i.get("id")) == match.group(2))
        else:
            node = node[part]
    node[parts[-1]] = value


def load_bench(path: str | os.PathLike[str]) -> BenchConfig:
    """Load and validate a bench file; raises ConfigError naming the file and field."""
    return validate_model(BenchConfig, read_toml(path), path)
