"""Meter types (``bench_configs/meter_types/*.toml``): the nameplate a verification depends on.

Two kinds: ``electricity`` (class, constant, Un, Ib or In, Imax, connection, wiring, protocol,
clock, tariffs) and ``water`` (class, Q3, R per orientation, DN, scale interval, pulse value).
Cross-field rules (Imax above the base current, Ib for direct and In for CT meters, the rating
string agreeing with the numbers) fail at load time with the file and the field named.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from meterbench.config.errors import ConfigError, FieldProblem
from meterbench.config.files import read_toml, validate_model
from meterbench.regulations.classes import normalise_class
from meterbench.regulations.expressions import Rating
from meterbench.regulations.numbers import plain

if TYPE_CHECKING:
    from meterbench.config.gas_meter_type import GasMeterType
    from meterbench.config.heat_meter_type import HeatMeterType

ClassName = Annotated[str, BeforeValidator(normalise_class)]
PositiveDecimal = Annotated[Decimal, Field(gt=0)]
Connection = Literal["direct", "ct"]
Wiring = Literal["1p", "3p4w", "3p3w"]
Orientation = Literal["H", "V"]

_RATING = re.compile(
    r"^\s*(?:(?P<phases>\d+)\s*[x×*]\s*)?"
    r"(?:(?P<imin>\d+(?:\.\d+)?)\s*-\s*)?(?P<base>\d+(?:\.\d+)?)\s*"
    r"\(\s*(?P<imax>\d+(?:\.\d+)?)\s*\)\s*A?\s*$",
    re.IGNORECASE,
)
_VOLTAGE = re.compile(
    r"^\s*(?:(?P<phases>\d+)\s*[x×*]\s*)?(?P<first>\d+(?:\.\d+)?)(?:\s*/\s*(?P<second>\d+(?:\.\d+)?))?"
    r"\s*V?\s*$",
    re.IGNORECASE,
)


class _MeterType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(default="", pattern=r"^$|^[A-Za-z0-9][A-Za-z0-9._-]*$")
    manufacturer: str = ""
    model: str = ""
    name: str = ""
    meter_class: ClassName = Field(alias="class")
    regulation: str = Field(default="", description="Profile id this type is usually verified by")
    batch_statistics: bool | None = Field(
        default=None, description="Batch mean <= 0 rule; None follows the profile"
    )
    notes: str = ""
    _path: str | None = PrivateAttr(default=None)

    @property
    def source_path(self) -> str | None:
        """File the type was loaded from (None when built in code)."""
        return self._path


class TariffPeriod(BaseModel):
    """One entry of the meter's day time-period table (日时段表): from ``start`` (local time
    of day, HH:MM) the meter registers into ``tariff`` until the next entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    tariff: Annotated[int, Field(ge=1)]

    @property
    def minutes(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)


class ElectricityMeterType(_MeterType):
    """An electricity meter type. ``un_v`` is the phase voltage (1p, 3p4w) or the line voltage
    (3p3w); ``ib_a`` is given for direct meters, ``in_a`` for transformer-operated ones."""

    kind: Literal["electricity"] = "electricity"
    connection: Connection
    wiring: Wiring
    un_v: PositiveDecimal
    ib_a: PositiveDecimal | None = None
    in_a: PositiveDecimal | None = None
    imax_a: PositiveDecimal
    itr_a: PositiveDecimal | None = None
    imin_a: PositiveDecimal | None = None
    constant_imp_per_kwh: PositiveDecimal
    constant_imp_per_kvarh: PositiveDecimal | None = None
    frequency_hz: PositiveDecimal = Decimal(50)
    protocol: Literal["dlt645-2007", "dlt645-1997", "dlt698", "none"] = "none"
    baud_rates: list[Annotated[int, Field(gt=0)]] | None = Field(
        default=None,
        description="Rates the meter may be switched to (17H); None: any the protocol allows",
    )
    clock: bool = False
    second_pulse_output: Literal["own", "energy"] = Field(
        default="own",
        description="own: the second pulse has its own (multi-function) output; energy: it "
        "replaces the energy pulses on their output, so the clock test runs on its own",
    )
    tariffs: Annotated[int, Field(ge=1)] = 1
    tariff_names: list[str] = []
    tariff_periods: list[TariffPeriod] = Field(
        default=[],
        description="The day time-period table the meter is programmed with, for the "
        "tariff-switching item (empty: not tested)",
    )
    bidirectional: bool = False
    register_resolution_kwh: PositiveDecimal = Decimal("0.01")
    rating: str = Field(default="", description="Nameplate current string, e.g. '5(60)A'")
    voltage_rating: str = Field(default="", description="Nameplate voltage, e.g. '3x57.7/100V'")

    @model_validator(mode="before")
    @classmethod
    def _electricity_protocols(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("protocol") == "cjt188":
            raise FieldProblem("protocol", "cjt188 is a water/gas/heat meter protocol")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ElectricityMeterType:
        if self.connection == "direct":
            if self.in_a is not None:
                raise FieldProblem("in_a", "direct-connected meters give ib_a, not in_a")
            if self.ib_a is None:
                raise FieldProblem("ib_a", "required for connection = 'direct'")
        else:
            if self.ib_a is not None:
                raise FieldProblem("ib_a", "transformer-operated meters give in_a, not ib_a")
            if self.in_a is None:
                raise FieldProblem("in_a", "required for connection = 'ct'")
        base_name = "ib_a" if self.connection == "direct" else "in_a"
        if self.imax_a <= self.base_current_a:
            raise FieldProblem("imax_a", f"must be greater than {base_name}")
        if self.itr_a is not None and self.itr_a >= self.imax_a:
            raise FieldProblem("itr_a", "must be smaller than imax_a")
        if self.imin_a is not None and self.itr_a is not None and self.imin_a >= self.itr_a:
            raise FieldProblem("imin_a", "must be smaller than itr_a")
        if self.tariff_names and len(self.tariff_names) != self.tariffs:
            raise FieldProblem(
                "tariff_names",
                f"names {len(self.tariff_names)} tariffs but tariffs = {self.tariffs}",
            )
        self._check_periods()
        if self.rating:
            self._check_rating()
        if self.voltage_rating:
            self._check_voltage()
        return self

    def _check_periods(self) -> None:
        starts = [p.minutes for p in self.tariff_periods]
        if len(set(starts)) != len(starts):
            raise FieldProblem("tariff_periods", "two periods start at the same time")
        for index, period in enumerate(self.tariff_periods):
            if period.tariff > self.tariffs:
                raise FieldProblem(
                    f"tariff_periods[{index}].tariff",
                    f"tariff {period.tariff} but the meter has {self.tariffs}",
                )

    def tariff_at(self, minutes: int) -> int | None:
        """The tariff of the period table at a time of day (minutes since midnight)."""
        periods = sorted(self.tariff_periods, key=lambda p: p.minutes)
        if not periods:
            return None
        current = periods[-1].tariff  # the last period runs over midnight
        for period in periods:
            if period.minutes <= minutes:
                current = period.tariff
        return current

    def _check_rating(self) -> None:
        match = _RATING.match(self.rating)
        if not match:
            raise FieldProblem("rating", "write it like '5(60)A', '3x1.5(6)A' or '0.25-5(60)A'")
        if match["phases"] and self.wiring == "1p":
            raise FieldProblem("rating", "a '3x' rating needs a three-phase wiring")
        if Decimal(match["imax"]) != self.imax_a:
            raise FieldProblem(
                "rating", f"says Imax = {match['imax']} A but imax_a = {self.imax_a}"
            )
        if match["imin"]:  # IR46 style Imin-Itr(Imax)
            if self.itr_a is not None and Decimal(match["base"]) != self.itr_a:
                raise FieldProblem(
                    "rating", f"says Itr = {match['base']} A but itr_a = {self.itr_a}"
                )
            if self.imin_a is not None and Decimal(match["imin"]) != self.imin_a:
                raise FieldProblem(
                    "rating", f"says Imin = {match['imin']} A but imin_a = {self.imin_a}"
                )
        elif Decimal(match["base"]) != self.base_current_a:
            name = "ib_a" if self.connection == "direct" else "in_a"
            raise FieldProblem(
                "rating", f"says {match['base']} A but {name} = {plain(self.base_current_a)}"
            )

    def _check_voltage(self) -> None:
        match = _VOLTAGE.match(self.voltage_rating)
        if not match:
            raise FieldProblem("voltage_rating", "write it like '220V', '3x57.7/100V', '3x100V'")
        three_phase = match["phases"] is not None
        if three_phase != (self.wiring != "1p"):
            raise FieldProblem(
                "voltage_rating", f"does not fit wiring {self.wiring!r} ('3x...' means three-phase)"
            )
        values = [Decimal(v) for v in (match["first"], match["second"]) if v]
        if self.wiring == "3p3w":
            expected, which = values[-1], "the line voltage"
        else:
            expected, which = values[0], "the phase voltage"
        if self.un_v != expected:
            raise FieldProblem(
                "un_v", f"must be {which} of voltage_rating {self.voltage_rating!r} ({expected} V)"
            )

    @property
    def base_current_a(self) -> Decimal:
        """Ib (direct) or In (transformer-operated)."""
        value = self.ib_a if self.connection == "direct" else self.in_a
        assert value is not None  # guaranteed by validation
        return value

    @property
    def base_current_name(self) -> str:
        return "Ib" if self.connection == "direct" else "In"

    def current_rating(self) -> Rating:
        """The currents load-point expressions resolve against."""
        return Rating.of(self.base_current_a, self.imax_a, self.itr_a, self.imin_a)


class WaterMeterType(_MeterType):
    """A water meter type. ``r`` is one ratio or one per mounting orientation
    (``r = { H = 160, V = 80 }``); ``orientation`` says how the meter sits on the bench."""

    kind: Literal["water"] = "water"
    # A frozen model: narrowing the inherited field to the water classes is safe.
    meter_class: Annotated[Literal["1", "2"], BeforeValidator(normalise_class)] = Field(  # pyright: ignore[reportIncompatibleVariableOverride]
        alias="class"
    )
    q3_m3h: PositiveDecimal
    r: PositiveDecimal | dict[Orientation, PositiveDecimal]
    orientation: Orientation = "H"
    dn: Annotated[int, Field(gt=0)]
    scale_interval_l: PositiveDecimal
    pulse_value_l: PositiveDecimal | None = None
    constant_imp_per_l: PositiveDecimal | None = None
    protocol: Literal["cjt188", "none"] = "none"
    temperature_class: str = Field(default="", pattern=r"^$|^T\d+$")

    @model_validator(mode="after")
    def _consistent(self) -> WaterMeterType:
        if isinstance(self.r, dict) and self.orientation not in self.r:
            raise FieldProblem("r", f"gives no ratio for orientation {self.orientation!r}")
        pulse, constant = self.pulse_value_l, self.constant_imp_per_l
        if pulse is not None and constant is not None and pulse * constant != 1:
            raise FieldProblem(
                "constant_imp_per_l", "must be 1 / pulse_value_l (give only one of them)"
            )
        return self

    @property
    def ratio(self) -> Decimal:
        """R for the orientation the meter is tested in."""
        return self.r[self.orientation] if isinstance(self.r, dict) else self.r

    @property
    def pulse_volume_l(self) -> Decimal | None:
        """Volume per output pulse, from either way of writing it."""
        if self.pulse_value_l is not None:
            return self.pulse_value_l
        if self.constant_imp_per_l is not None:
            return 1 / self.constant_imp_per_l
        return None


# Heat and gas types live in their own modules (which build on this one).
MeterType = Union[ElectricityMeterType, WaterMeterType, "HeatMeterType", "GasMeterType"]  # noqa: UP007


def load_meter_type(path: str | os.PathLike[str]) -> MeterType:
    """Load and validate one meter-type file; its id defaults to the file name."""
    data = read_toml(path)
    kind = data.get("kind")
    if kind is None:
        kind = "water" if "q3_m3h" in data else "electricity"
    model = _meter_type_model(kind)
    if model is None:
        raise ConfigError(
            path, "kind", f"must be 'electricity', 'water', 'heat' or 'gas' (got {kind!r})"
        )
    if not data.get("id"):
        data = {**data, "id": Path(path).stem}
    meter = validate_model(model, data, path)
    meter._path = os.fspath(path)
    return cast("MeterType", meter)


def _meter_type_model(kind: object) -> type[_MeterType] | None:
    """The model for a meter kind; heat and gas are imported here because their modules build
    on this one."""
    if kind == "water":
        return WaterMeterType
    if kind == "electricity":
        return ElectricityMeterType
    if kind == "heat":
        from meterbench.config.heat_meter_type import HeatMeterType

        return HeatMeterType
    if kind == "gas":
        from meterbench.config.gas_meter_type import GasMeterType

        return GasMeterType
    return None


def load_meter_types(folder: str | os.PathLike[str]) -> dict[str, MeterType]:
    """Every ``*.toml`` meter type in a folder, by id; duplicate ids are an error."""
    types: dict[str, MeterType] = {}
    for file in sorted(Path(folder).glob("*.toml")):
        meter = load_meter_type(file)
        if meter.id in types:
            raise ConfigError(file, "id", f"{meter.id!r} is already used by another meter type")
        types[meter.id] = meter
    return types
