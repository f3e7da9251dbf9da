"""Regulation profiles: every regulatory number as data, each with its confidence tag.

A profile file (``profiles/<id>.toml``) holds one rule set. Each value is a small table
``{ value = ..., tag = "V", source = "CLOU-QD" }`` and each table row carries its own tag, so the
evidence travels with the number into every plan expansion and record. Values tagged M (believed
correct, not yet checked against the official text) must say ``confidence = "unconfirmed"``; an
installation can override any value without touching code (``load_profile(..., overrides=)``).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, Union, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from meterbench.config.errors import ConfigError, FieldProblem
from meterbench.config.files import read_toml, validate_model
from meterbench.regulations.classes import normalise_class
from meterbench.regulations.expressions import parse_current
from meterbench.regulations.intervals import current_band, number_band
from meterbench.regulations.power_factor import canonical_pf

if TYPE_CHECKING:
    from meterbench.regulations.gas_profile import GasProfile
    from meterbench.regulations.heat_profile import HeatProfile

T = TypeVar("T")

TAGS = frozenset("SVMD")
PROFILE_PACKAGE = "meterbench.regulations"
PROFILE_DIR = "profiles"


def _check_current(text: str) -> str:
    parse_current(text)
    return text


def _check_current_band(text: str) -> str:
    current_band(text)
    return text


def _check_number_band(text: str) -> str:
    number_band(text)
    return text


ClassName = Annotated[str, BeforeValidator(normalise_class)]
PfText = Annotated[str, BeforeValidator(canonical_pf)]
CurrentText = Annotated[str, AfterValidator(_check_current)]
CurrentBandText = Annotated[str, AfterValidator(_check_current_band)]
NumberBandText = Annotated[str, AfterValidator(_check_number_band)]
PositiveDecimal = Annotated[Decimal, Field(gt=0)]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Connection = Literal["direct", "ct"]
Verification = Literal["initial", "subsequent", "routine"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Provenance(_Strict):
    """Where a value comes from. ``tag`` letters: S sourced, V vendor implementation,
    M unconfirmed, D project decision (``"S/V"`` combines them); ``source`` uses the keys of
    the verification reference."""

    tag: str
    source: str = ""
    confidence: Literal["unconfirmed"] | None = None
    note: str = ""
    _path: str = PrivateAttr(default="")

    @field_validator("tag")
    @classmethod
    def _known_tags(cls, tag: str) -> str:
        letters = [t.strip() for t in tag.split("/")]
        if not letters or any(t not in TAGS for t in letters):
            raise ValueError(f"tag {tag!r}: use S, V, M or D, combined with '/' (e.g. 'S/V')")
        return "/".join(letters)

    @model_validator(mode="after")
    def _m_is_unconfirmed(self) -> Provenance:
        if "M" in self.tag.split("/") and self.confidence != "unconfirmed":
            raise FieldProblem("confidence", 'an [M] value must carry confidence = "unconfirmed"')
        return self

    @property
    def path(self) -> str:
        """Dotted place in the profile, e.g. ``starting.time_coefficient``."""
        return self._path

    @property
    def unconfirmed(self) -> bool:
        return self.confidence == "unconfirmed"

    def cite(self) -> str:
        """``path [tag: source]``, marked when unconfirmed: the line an explanation prints."""
        text = (
            f"{self.path} [{self.tag}: {self.source}]"
            if self.source
            else f"{self.path} [{self.tag}]"
        )
        return text + " unconfirmed" if self.unconfirmed else text


class Tagged(Provenance, Generic[T]):
    """One profile value with its provenance."""

    value: T


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A looked-up or derived value and the profile entries it rests on."""

    value: T
    basis: tuple[Provenance, ...]

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        """Paths of the unconfirmed entries among the basis."""
        return tuple(p.path for p in self.basis if p.unconfirmed)

    def cites(self) -> list[str]:
        return [p.cite() for p in self.basis]


def sourced(entry: Tagged[T]) -> Sourced[T]:
    """A tagged profile value as a Sourced one."""
    return Sourced(entry.value, (entry,))


# --------------------------------------------------------------------------- common sections


class ProfileHeader(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    kind: Literal["electricity", "water", "heat", "gas"]
    title: str
    basis: str = Field(description="Verification basis string printed on records")
    version: int | str = 1
    notes: str = ""


class ClassRow(Provenance):
    cls: ClassName = Field(alias="class")


class RoundingRow(ClassRow):
    error: PositiveDecimal
    std_dev: PositiveDecimal | None = None


class RoundingSection(_Strict):
    method: Tagged[Literal["half_even"]]
    intervals: list[RoundingRow]


class BatchSection(_Strict):
    mean_not_above_zero: Tagged[bool]


class ClassesSection(_Strict):
    supported: Tagged[list[ClassName]]
    transformer_only: Tagged[list[ClassName]] | None = None


# --------------------------------------------------------------------------- electricity


class StartingCurrentRow(ClassRow):
    connection: Connection
    factor: PositiveDecimal


class StartingSection(_Strict):
    time_coefficient: Tagged[PositiveDecimal]
    voltage_factor: Tagged[PositiveDecimal]
    pf: Tagged[PfText]
    confirm_pulses: Tagged[PositiveInt]
    both_directions: Tagged[bool]
    current: list[StartingCurrentRow]


class CreepCoefficientRow(ClassRow):
    k: PositiveDecimal


class CreepSection(_Strict):
    voltage_factor: Tagged[PositiveDecimal]
    current_a: Tagged[NonNegativeDecimal]
    max_pulses: Tagged[NonNegativeInt]
    current_basis: Tagged[Literal["imax", "ist"]]
    coefficient: list[CreepCoefficientRow]


class MpeRow(Provenance):
    """One band of an MPE table: connection, power factors, current band, MPE by class."""

    connection: Connection
    pf: list[PfText]
    current: CurrentBandText
    mpe: dict[ClassName, PositiveDecimal]


class MpeDifferenceRow(ClassRow):
    """Limit on |single-element error - balanced error| at one point (IEC)."""

    current: CurrentText
    pf: PfText
    limit: PositiveDecimal


class MpeSection(_Strict):
    balanced: list[MpeRow]
    single_element: list[MpeRow] = []
    single_element_difference: list[MpeDifferenceRow] = []


class BorderlineSection(_Strict):
    enabled: Tagged[bool]
    low: Tagged[PositiveDecimal]
    high: Tagged[PositiveDecimal]
    extra_readings: Tagged[NonNegativeInt]

    @model_validator(mode="after")
    def _ordered(self) -> BorderlineSection:
        if self.low.value >= self.high.value:
            raise FieldProblem("high.value", "must be greater than low")
        return self


class PulsesSection(_Strict):
    resolution_ratio: Tagged[PositiveDecimal]
    min_reading_s: Tagged[NonNegativeDecimal]
    min_pulses: Tagged[PositiveInt]


class BasicErrorSection(_Strict):
    readings_per_point: Tagged[PositiveInt]
    judge_on: Tagged[Literal["rounded", "unrounded"]]
    borderline: BorderlineSection
    pulses: PulsesSection


class StdDevLimitRow(ClassRow):
    limit: PositiveDecimal


class StdDevPointRow(Provenance):
    current: CurrentText
    pf: PfText


class StdDevSection(_Strict):
    readings: Tagged[Annotated[int, Field(ge=2)]]
    verification: Tagged[list[Verification]]
    limits: list[StdDevLimitRow]
    points: list[StdDevPointRow]


class RegisterSection(_Strict):
    error_rounding: Tagged[PositiveDecimal]
    limit: Tagged[Literal["basic_error_mpe"]]
    resolution_ratio: Tagged[PositiveDecimal]
    reading_k: Tagged[PositiveDecimal]
    ahead_tolerance_digits: Tagged[NonNegativeInt]
    tariff_digits_per_extra_tariff: Tagged[NonNegativeInt]
    # Items whose load points the register test may take its energy from (a plan asks with
    # ``accumulate = true``): registers read before the first and after the last of them,
    # against the reference accumulator's energy over the span. None: the regulation wants
    # the register run on its own.
    accumulate_over: Tagged[list[str]] | None = None


class RegisterSpanSection(_Strict):
    """Whole-run register check: register advance over the run against the reference energy
    of each direction, within the basic-error MPE at a reference load plus the registers'
    reading quantisation; too little energy for the register's resolution is no result."""

    limit: Tagged[Literal["basic_error_mpe"]]
    reference_current: Tagged[str]
    reference_pf: Tagged[PfText]
    reading_digits: Tagged[PositiveDecimal]
    max_digit_share: Tagged[PositiveDecimal]
    error_rounding: Tagged[PositiveDecimal]


class ClockSection(_Strict):
    limit_s_per_day: Tagged[PositiveDecimal]
    readings: Tagged[PositiveInt]
    rounding_s_per_day: Tagged[PositiveDecimal]
    gate_pulses: Tagged[PositiveInt]
    nominal_period_s: Tagged[PositiveDecimal]
    timebase_ratio: Tagged[PositiveDecimal]
    # Items whose load points the clock test may run alongside: it needs only the voltage,
    # which every one of their setpoints applies, and counts the second pulse, an input they
    # do not use. Empty: the regulation wants the clock tested on its own.
    alongside: Tagged[list[str]] | None = None


class ElectricityProfile(_Strict):
    """A rule set for electricity meters (JJG 596-2012, IEC 62053-21/-22 ...)."""

    profile: ProfileHeader
    classes: ClassesSection
    starting: StartingSection
    creep: CreepSection
    mpe: MpeSection
    basic_error: BasicErrorSection
    rounding: RoundingSection
    std_dev: StdDevSection | None = None
    register_test: RegisterSection | None = Field(default=None, alias="register")
    clock: ClockSection | None = None
    register_span: RegisterSpanSection | None = None
    batch: BatchSection

    @model_validator(mode="after")
    def _complete_for_every_class(self) -> ElectricityProfile:
        ct_only = set(self.classes.transformer_only.value if self.classes.transformer_only else [])
        for cls in self.classes.supported.value:
            connections = ["ct"] if cls in ct_only else ["direct", "ct"]
            for connection in connections:
                if not any(
                    r.cls == cls and r.connection == connection for r in self.starting.current
                ):
                    raise FieldProblem(
                        "starting.current", f"no starting-current row for class {cls}, {connection}"
                    )
            if not any(r.cls == cls for r in self.creep.coefficient):
                raise FieldProblem("creep.coefficient", f"no creep coefficient for class {cls}")
            if not any(r.cls == cls for r in self.rounding.intervals):
                raise FieldProblem("rounding.intervals", f"no rounding interval for class {cls}")
        return self

    @property
    def id(self) -> str:
        return self.profile.id


# --------------------------------------------------------------------------- water


class FlowBandRow(Provenance):
    """Where the measured flow of a run must lie, as multiples of the nominal flow rate."""

    point: Literal["Q1", "Q2", "Q3", "Q4"]
    low: PositiveDecimal
    high: PositiveDecimal


class FlowSection(_Strict):
    q2_over_q1: Tagged[PositiveDecimal]
    q4_over_q3: Tagged[PositiveDecimal]
    r_series: Tagged[list[PositiveDecimal]]
    bands: list[FlowBandRow]


class WaterMpeRow(ClassRow):
    zone: Literal["upper", "lower"]
    temperature_c: NumberBandText | None = None
    mpe: PositiveDecimal


class WaterMpeSection(_Strict):
    rows: list[WaterMpeRow]


class RunsSection(_Strict):
    runs_per_point: Tagged[PositiveInt]


class VolumeSection(_Strict):
    reading_k: Tagged[PositiveDecimal]
    uncertainty_ratio: Tagged[PositiveDecimal]


class WaterRoundingRow(ClassRow):
    error: PositiveDecimal


class WaterRoundingSection(_Strict):
    method: Tagged[Literal["half_even"]]
    intervals: list[WaterRoundingRow]


class TemperatureClassRow(Provenance):
    """The water temperatures a meter of a temperature class (T30, T50, ...) is rated for."""

    name: str = Field(pattern=r"^T\d+$")
    temperature_c: NumberBandText


class TemperatureClassSection(_Strict):
    rows: list[TemperatureClassRow]


class WaterProfile(_Strict):
    """A rule set for water meters (JJG 162-2019)."""

    profile: ProfileHeader
    classes: ClassesSection
    flow: FlowSection
    mpe: WaterMpeSection
    runs: RunsSection
    rounding: WaterRoundingSection
    volume: VolumeSection
    batch: BatchSection
    temperature_classes: TemperatureClassSection | None = None

    @property
    def id(self) -> str:
        return self.profile.id


# Heat and gas models live in their own modules (which build on this one).
RegulationProfile = Union[ElectricityProfile, WaterProfile, "HeatProfile", "GasProfile"]  # noqa: UP007


# --------------------------------------------------------------------------- loading


def available_profiles() -> list[str]:
    """Ids of the profiles shipped with meterbench."""
    folder = resources.files(PROFILE_PACKAGE).joinpath(PROFILE_DIR)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def profile_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A shipped profile by id, or a profile file given by path."""
    text = os.fspath(name_or_path)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        return Path(text)
    candidate = resources.files(PROFILE_PACKAGE).joinpath(PROFILE_DIR).joinpath(f"{text}.toml")
    if not candidate.is_file():
        known = ", ".join(available_profiles())
        raise ConfigError(text, None, f"unknown regulation profile (available: {known})")
    return Path(str(candidate))


def load_profile(
    name_or_path: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    overrides_origin: str | os.PathLike[str] | None = None,
) -> RegulationProfile:
    """Load and validate a profile; ``overrides`` maps dotted paths (``basic_error.
    readings_per_point``, ``rounding.intervals[2].error``) to replacement values and is
    reported against ``overrides_origin`` (e.g. the plan file) when a path does not exist."""
    path = profile_path(name_or_path)
    data = read_toml(path)
    if overrides:
        data = apply_overrides(data, overrides, overrides_origin or path)
    kind = (data.get("profile") or {}).get("kind")
    profile = validate_model(_profile_model(kind), data, path)
    _assign_paths(profile, "")
    return cast("RegulationProfile", profile)


def _profile_model(kind: object) -> type[BaseModel]:
    """The model for a profile kind; heat and gas are imported here, not at the top, because
    their modules build on this one."""
    if kind == "water":
        return WaterProfile
    if kind == "heat":
        from meterbench.regulations.heat_profile import HeatProfile

        return HeatProfile
    if kind == "gas":
        from meterbench.regulations.gas_profile import GasProfile

        return GasProfile
    return ElectricityProfile


_STEP = re.compile(r"^(?P<name>[A-Za-z_][\w-]*)(?:\[(?P<index>\d+)\])?$")


def apply_overrides(
    data: dict[str, Any], overrides: Mapping[str, Any], origin: str | os.PathLike[str]
) -> dict[str, Any]:
    """A copy of the raw profile data with overridden values. A path ending at a tagged value
    replaces its ``value``; a path into a table row replaces that column. The entry keeps its
    tag and confidence and gains a note, so a record shows that the installation changed it."""
    result = copy.deepcopy(data)
    for key, value in overrides.items():
        field = f"profile_overrides.{key}"
        node: Any = result
        steps = key.split(".")
        parent: Any = None
        last: str | int = ""
        for step in steps:
            match = _STEP.match(step)
            if not match or not isinstance(node, dict) or match["name"] not in node:
                raise ConfigError(origin, field, "no such value in the regulation profile")
            parent, last, node = node, match["name"], node[match["name"]]
            if match["index"] is not None:
                index = int(match["index"])
                if not isinstance(node, list) or index >= len(node):
                    raise ConfigError(origin, field, "no such row in the regulation profile")
                parent, last, node = node, index, node[index]
        if isinstance(node, dict) and "value" in node:
            node["note"] = _override_note(node.get("note", ""), "value", node["value"], value)
            node["value"] = value
        elif isinstance(node, dict | list):
            raise ConfigError(origin, field, "names a table, not a value")
        else:
            if isinstance(parent, dict) and "tag" in parent:
                parent["note"] = _override_note(parent.get("note", ""), str(last), node, value)
            parent[last] = value
    return result


def _override_note(note: str, column: str, old: Any, new: Any) -> str:
    added = f"overridden by the installation: {column} was {old!r}, now {new!r}"
    return f"{note}; {added}" if note else added


def _assign_paths(model: BaseModel, prefix: str) -> None:
    for name, value in _children(model):
        path = f"{prefix}.{name}" if prefix else name
        _assign(value, path)


def _assign(value: Any, path: str) -> None:
    if isinstance(value, Provenance):
        value._path = path
    if isinstance(value, BaseModel):
        _assign_paths(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _assign(item, f"{path}[{index}]")


def _children(model: BaseModel) -> Iterator[tuple[str, Any]]:
    for name in type(model).model_fields:
        info = type(model).model_fields[name]
        yield info.alias or name, getattr(model, name)


def iter_entries(profile: BaseModel) -> Iterator[Provenance]:
    """Every tagged value and table row in a profile (for listing unconfirmed values)."""
    for _, value in _children(profile):
        yield from _walk(value)


def _walk(value: Any) -> Iterator[Provenance]:
    if isinstance(value, Provenance):
        yield value
    if isinstance(value, BaseModel):
        yield from iter_entries(value)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def unconfirmed_entries(profile: BaseModel) -> list[str]:
    """Paths of every value the profile marks unconfirmed."""
    return [entry.path for entry in iter_entries(profile) if entry.unconfirmed]
