"""Test plans (``bench_configs/plans/*.toml``): which items to run, at which points, as data.

A plan names its regulation profile and verification kind, lists items in the order they run,
and may add a customer's acceptance limits (as a fraction of the MPE, kept apart from it) and
installation overrides of profile values. Load points carry optional filters (connection,
classes, wirings) so one plan serves direct and transformer-operated meters alike.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from meterbench.config.errors import ConfigError, FieldProblem
from meterbench.config.files import read_toml, validate_model
from meterbench.config.gas_items import (
    GAS_ITEMS,
    GasErrorItem,
    GasPressureLossItem,
    GasTightnessItem,
)
from meterbench.config.heat_items import (
    HEAT_ITEMS,
    HeatCalculatorItem,
    HeatCompleteItem,
    HeatFlowItem,
    HeatSensorPairItem,
)
from meterbench.config.meter_types import ElectricityMeterType, MeterType
from meterbench.regulations.classes import normalise_class
from meterbench.regulations.expressions import parse_current
from meterbench.regulations.power_factor import canonical_pf
from meterbench.regulations.profile import RegulationProfile, load_profile

ELECTRICITY_ITEMS = (
    "visual",
    "ac_voltage",
    "creep",
    "starting",
    "basic_error",
    "std_dev",
    "register",
    "clock",
    "communication",
    "time_setting",
    "register_span",
    "unannounced",
    "tariff_switch",
)
WATER_ITEMS = ("visual", "tightness", "water_error", "communication")
MANUAL_ITEMS = ("visual", "ac_voltage", "tightness")
KIND_ITEMS = {
    "electricity": ELECTRICITY_ITEMS,
    "water": WATER_ITEMS,
    "heat": (*HEAT_ITEMS, "communication"),
    "gas": (*GAS_ITEMS, "communication"),
}
IDENTIFIER = r"^[a-z][a-z0-9_]*$"


def _check_current(text: str) -> str:
    parse_current(text)
    return text


ClassName = Annotated[str, BeforeValidator(normalise_class)]
PfText = Annotated[str, BeforeValidator(canonical_pf)]
CurrentText = Annotated[str, AfterValidator(_check_current)]
PositiveDecimal = Annotated[Decimal, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PlanHeader(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    regulation: str = Field(description="Regulation profile id or path")
    verification: Literal["initial", "subsequent", "routine"]
    kind: Literal["electricity", "water", "heat", "gas"]
    points_confidence: Literal["unconfirmed"] | None = Field(
        default=None, description="Set when the point list itself is not confirmed"
    )
    description: str = ""


class LotRule(_Strict):
    """Lot statistics (mean error not above zero): which points count, how meters weigh,
    and what a failed lot means for its certificates."""

    items: list[Annotated[str, Field(pattern=IDENTIFIER)]] = Field(
        default=["basic_error", "water_error"],
        description="Item ids whose points count towards the lot verdict",
    )
    points: list[str] | None = Field(
        default=None, description="Point keys that count (e.g. 'P+/all/Ib/1.0'); None: all"
    )
    weighting: Literal["meter", "run"] = Field(
        default="meter",
        description="meter: every accepted meter weighs the same; run: the mean of run means",
    )
    consequence: Literal["flag", "withhold"] = Field(
        default="flag", description="flag the lot only, or withhold its certificates"
    )


class Acceptance(_Strict):
    """A customer's (utility's) acceptance limit, tighter than the MPE: never replaces it."""

    fraction_of_mpe: Annotated[Decimal, Field(gt=0, le=1)]
    source: str = ""


class LoadPoint(_Strict):
    """One electricity load point: direction, element, current expression, PF; the filters say
    which meters it applies to (None = all)."""

    current: CurrentText
    pf: PfText = "1.0"
    element: Literal["all", "A", "B", "C", "each"] = "all"
    direction: Literal["P+", "P-"] = "P+"
    connection: Literal["direct", "ct"] | None = None
    classes: list[ClassName] | None = None
    wirings: list[Literal["1p", "3p4w", "3p3w"]] | None = None
    acceptance: PositiveDecimal | None = Field(
        default=None, description="Absolute acceptance limit (%) for this point"
    )
    label: str = ""

    def applies_to(self, meter: ElectricityMeterType) -> str | None:
        """None when the point applies to ``meter``, else the reason it does not."""
        if self.connection is not None and self.connection != meter.connection:
            return f"only for {self.connection}-connected meters"
        if self.classes is not None and meter.meter_class not in self.classes:
            return f"only for classes {', '.join(self.classes)}"
        if self.wirings is not None and meter.wiring not in self.wirings:
            return f"only for wirings {', '.join(self.wirings)}"
        if self.element != "all" and meter.wiring == "1p":
            return "single-element points apply to polyphase meters only"
        if self.element == "B" and meter.wiring == "3p3w":
            return "a three-wire meter has no B element"
        if self.direction == "P-" and not meter.bidirectional:
            return "reverse-direction points apply to bidirectional meters only"
        return None


class FlowPoint(_Strict):
    """One water flow point; ``temperature_c`` is the nominal water temperature (MPE zone)."""

    flow: Literal["Q1", "Q2", "Q3", "Q4"]
    temperature_c: Decimal = Decimal(20)
    acceptance: PositiveDecimal | None = None


class _Item(_Strict):
    id: str = Field(default="", pattern=r"^$|^[a-z][a-z0-9_]*$")
    title: str = ""

    @property
    def item_id(self) -> str:
        """The id records use: the given one, else the item type."""
        return self.id or self.type  # type: ignore[attr-defined]


class ManualItem(_Item):
    """An item a person carries out and records with ``meterbench record``: visual inspection
    (外观检查), the AC voltage test (交流电压试验), water tightness (密封性)."""

    type: Literal["visual", "ac_voltage", "tightness"]
    mandatory: bool = Field(
        default=True, description="A certificate is not issued while this item is missing"
    )
    instructions: str = ""


class CreepItem(_Item):
    type: Literal["creep"]
    duration_multiplier: PositiveDecimal = Field(
        default=Decimal(1), description="Type-test labs often double the minimum time"
    )


class StartingItem(_Item):
    type: Literal["starting"]
    confirm_pulses: PositiveInt | None = Field(default=None, description="None: profile value")


class BasicErrorItem(_Item):
    type: Literal["basic_error"]
    points: Annotated[list[LoadPoint], Field(min_length=1)]


class StdDevItem(_Item):
    type: Literal["std_dev"]
    points: list[LoadPoint] | None = Field(default=None, description="None: profile points")


class RegisterItem(_Item):
    type: Literal["register"]
    current: CurrentText = "Imax"
    pf: PfText = "1.0"
    energy_kwh: PositiveDecimal | None = Field(
        default=None, description="Test energy; None derives it from the register resolution"
    )
    accumulate: bool = Field(
        default=False,
        description="take the energy of the forward error points the regulation profile allows "
        "(register.accumulate_over) and top up only what they do not deliver, instead of one "
        "separate run",
    )


class RegisterSpanItem(_Item):
    """Whole-run register check: every meter's registers read first and last in the run,
    their advance judged per direction against the reference energy of the whole run. Its
    place in the plan does not matter: the first reading opens the run, the last closes it."""

    type: Literal["register_span"]


class UnannouncedItem(_Item):
    """Error points the meter cannot anticipate: current, PF (and direction) drawn at run time
    inside the range, judged against the MPE of the drawn load like any basic-error point."""

    type: Literal["unannounced"]
    points: Annotated[int, Field(ge=1, le=50)] = 6
    current_low: CurrentText = "0.1Ib"
    current_high: CurrentText = "Imax"
    pfs: Annotated[list[PfText], Field(min_length=1)] = ["1.0", "0.5L", "0.8C"]
    reverse: bool = Field(default=False, description="bidirectional meters draw P- loads as well")
    seed: int | None = Field(
        default=None,
        description="None: drawn from the run id, so no one knows the loads before the run; "
        "set only to repeat a run's draws (tests, disputes)",
    )


class TariffSwitchItem(_Item):
    """Tariff switching near a period change (时段投切): the meter's clock is set shortly before a
    boundary of its day time-period table, and which tariff register advances under load is
    read over its protocol before and after the boundary."""

    type: Literal["tariff_switch"]
    current: CurrentText = "Imax"
    pf: PfText = "1.0"
    tolerance_s: PositiveDecimal = Field(
        default=Decimal(60), description="how late or early the meter may switch"
    )
    window_digits: PositiveInt = Field(
        default=5, description="register digits each observation window should advance by"
    )


class ClockItem(_Item):
    type: Literal["clock"]
    gate_pulses: PositiveInt | None = Field(default=None, description="None: profile value")
    overlap: bool = Field(
        default=False,
        description="run alongside the load points the regulation profile allows "
        "(clock.alongside), on meters whose second pulse has its own output",
    )


class CommunicationItem(_Item):
    type: Literal["communication"]
    checks: list[Annotated[str, Field(pattern=IDENTIFIER)]] = [
        "read_address",
        "read_energy",
        "read_datetime",
    ]


class TimeSettingItem(_Item):
    type: Literal["time_setting"]
    max_deviation_s: PositiveDecimal | None = Field(
        default=None, description="Largest |meter time - bench time| after setting; None: record"
    )


class WaterErrorItem(_Item):
    type: Literal["water_error"]
    points: Annotated[list[FlowPoint], Field(min_length=1)]


PlanItem = Annotated[
    ManualItem
    | CreepItem
    | StartingItem
    | BasicErrorItem
    | StdDevItem
    | RegisterItem
    | ClockItem
    | CommunicationItem
    | TimeSettingItem
    | RegisterSpanItem
    | UnannouncedItem
    | TariffSwitchItem
    | WaterErrorItem
    | HeatFlowItem
    | HeatCalculatorItem
    | HeatSensorPairItem
    | HeatCompleteItem
    | GasErrorItem
    | GasTightnessItem
    | GasPressureLossItem,
    Field(discriminator="type"),
]


class Plan(_Strict):
    """A whole plan file."""

    plan: PlanHeader
    acceptance: Acceptance | None = None
    lot: LotRule | None = None
    profile_overrides: dict[str, Any] = {}
    items: Annotated[list[PlanItem], Field(min_length=1)]
    _path: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        allowed = KIND_ITEMS[self.plan.kind]
        seen: set[str] = set()
        for index, item in enumerate(self.items):
            if item.type not in allowed:
                raise FieldProblem(
                    f"items[{index}].type",
                    f"{item.type!r} is not an item for {self.plan.kind} meters "
                    f"(use {', '.join(allowed)})",
                )
            if item.item_id in seen:
                raise FieldProblem(f"items[{index}].id", f"{item.item_id!r} is used twice")
            seen.add(item.item_id)
        return self

    @property
    def source_path(self) -> str | None:
        return self._path

    @property
    def id(self) -> str:
        return self.plan.id


def load_plan(path: str | os.PathLike[str], check_profile: bool = True) -> Plan:
    """Load and validate a plan; with ``check_profile`` also load its regulation profile (with
    the plan's overrides) and check that the profile defines every item the plan lists."""
    data = read_toml(path)
    tags = tuple(dict.fromkeys(ELECTRICITY_ITEMS + WATER_ITEMS + HEAT_ITEMS + GAS_ITEMS))
    plan = validate_model(Plan, data, path, union_tags=tags)
    plan._path = os.fspath(path)
    if check_profile:
        plan_profile(plan)
    return plan


def plan_profile(plan: Plan) -> RegulationProfile:
    """The plan's regulation profile with its overrides applied, checked against the items.
    Problems are reported against the plan file."""
    origin = plan.source_path
    try:
        profile = load_profile(plan.plan.regulation, plan.profile_overrides, origin)
    except ConfigError as exc:
        if exc.path == plan.plan.regulation:  # unknown profile name
            raise ConfigError(origin, "plan.regulation", exc.message) from None
        raise
    if profile.profile.kind != plan.plan.kind:
        raise ConfigError(
            origin,
            "plan.kind",
            f"is {plan.plan.kind!r} but profile {profile.id} is for {profile.profile.kind} meters",
        )
    needs = {
        "std_dev": "std_dev",
        "clock": "clock",
        "register": "register_test",
        "register_span": "register_span",
    }
    for index, item in enumerate(plan.items):
        section = needs.get(item.type)
        if section and getattr(profile, section) is None:
            raise ConfigError(
                origin,
                f"items[{index}].type",
                f"profile {profile.id} defines no rules for the {item.type!r} item",
            )
    return profile


def meter_matches_plan(plan: Plan, meter: MeterType) -> None:
    """Raise ConfigError (against the meter-type file) when the meter kind does not fit."""
    if meter.kind != plan.plan.kind:
        raise ConfigError(
            meter.source_path,
            "kind",
            f"is {meter.kind!r} but plan {plan.id} is for {plan.plan.kind} meters",
        )
