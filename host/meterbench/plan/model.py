"""The concrete, serialisable expansion of plan x meter type x profile (x bench).

Every number a runner needs is here (currents, PF, voltages, durations, pulses per reading,
readings, limits, rounding intervals) together with ``why``: the formula, its inputs and the
profile entries it rests on, so an operator can check any value without reading code. Decimals
serialise as strings in JSON (exact); ``PlanExpansion.model_dump(mode="json")`` is the
``meterbench plan show --json`` output.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from meterbench.plan.gas_model import GasErrorStep, GasPressureLossStep, GasTightnessStep
from meterbench.plan.heat_model import (
    HeatCalculatorStep,
    HeatCompleteStep,
    HeatFlowStep,
    HeatSensorPairStep,
)
from meterbench.plan.model_common import Duration, LimitSet, Planned, Why, _Frozen, _Step

SCHEMA = "meterbench/plan-expansion/1"


class ReadingRule(_Frozen):
    """Readings per point: ``base`` first; ``extra`` more when |mean| is within
    [low, high] x MPE and the rule is enabled; never more than ``max``."""

    base: int
    borderline_enabled: bool
    borderline_low: Decimal
    borderline_high: Decimal
    extra: int
    max: int
    judge_on: Literal["rounded", "unrounded"]


class PulsePlan(_Frozen):
    """Meter pulses per reading and the two bounds that set it."""

    pulses_per_reading: int
    for_resolution: int | None
    for_time: int
    min_pulses: int
    reference_constant: Decimal | None
    expected_reference_pulses: Decimal | None
    resolution_pct: Decimal | None
    reading_time_s: Decimal


class ErrorPoint(_Frozen):
    """One load point of the basic-error (or std-dev) item, for one element and direction."""

    key: str
    direction: str
    element: str
    current_expr: str
    current_a: Decimal
    pf: str
    voltage_v: Decimal
    power_w: Decimal
    limits: LimitSet
    rounding_interval: Decimal
    readings: ReadingRule
    pulses: PulsePlan
    time: Duration
    feasible: bool = True
    problems: list[str] = []
    why: Why


class ManualStep(_Step):
    """An item a person carries out and records (``meterbench record``); the runner does not
    execute it. ``mandatory``: no certificate while it is missing."""

    type: Literal["manual"] = "manual"
    item: Literal["visual", "ac_voltage", "tightness"]
    mandatory: bool = True
    instructions: str = ""


class CreepStep(_Step):
    type: Literal["creep"] = "creep"
    voltage_v: Decimal
    voltage_factor: Decimal
    current_a: Decimal
    duration_min: Decimal
    duration_s: int
    max_pulses: int
    feasible: bool = True
    problems: list[str] = []


class StartingStep(_Step):
    type: Literal["starting"] = "starting"
    directions: list[str]
    current_a: Decimal
    current_factor: Decimal
    pf: str
    voltage_v: Decimal
    t0_min: Decimal
    t0_s: Decimal
    required_pulses: int
    window_s: Decimal
    feasible: bool = True
    problems: list[str] = []


class BasicErrorStep(_Step):
    type: Literal["basic_error"] = "basic_error"
    points: list[ErrorPoint]
    skipped_points: list[str] = []

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        return self._per_point([(p.key, p) for p in self.points])


class StdDevPoint(_Frozen):
    point: ErrorPoint
    readings: int
    limit: Decimal
    std_dev_interval: Decimal


class StdDevStep(_Step):
    type: Literal["std_dev"] = "std_dev"
    points: list[StdDevPoint]

    def planned(self) -> list[Planned]:
        return self._per_point([(sd.point.key, sd) for sd in self.points])


class RegisterStep(_Step):
    type: Literal["register"] = "register"
    current_expr: str
    current_a: Decimal
    pf: str
    voltage_v: Decimal
    power_w: Decimal
    energy_kwh: Decimal
    duration_s: Decimal
    register_resolution_kwh: Decimal
    limits: LimitSet
    error_rounding: Decimal
    ahead_tolerance_kwh: Decimal
    tariffs: int
    tariff_tolerance_digits_per_extra_tariff: int
    # items whose forward load points deliver this test's energy (empty: its own run only);
    # what they do not deliver is topped up at this step's load
    accumulate_over: list[str] = []
    feasible: bool = True
    problems: list[str] = []


class RegisterSpanStep(_Step):
    """One end of the whole-run register check: ``start`` reads the registers before
    anything else and starts the reference accumulator, ``end`` reads them after everything
    and judges the advance of each direction against that direction's reference energy."""

    type: Literal["register_span"] = "register_span"
    part: Literal["start", "end"]
    directions: list[str]
    voltage_v: Decimal
    register_resolution_kwh: Decimal
    reference_load: str
    limits: LimitSet
    reading_digits: Decimal
    max_digit_share: Decimal
    error_rounding: Decimal

    def planned(self) -> list[Planned]:
        return [Planned(f"{self.id}/{self.part}", self.part, f"{self.title}: {self.part}", self)]


class UnannouncedStep(_Step):
    """One unannounced error point: its load is drawn when the run reaches it (from ``seed``
    and the point's index, or from the run id when the plan sets no seed), inside the range,
    then measured and judged exactly as a planned basic-error point."""

    type: Literal["unannounced"] = "unannounced"
    index: int
    current_low: str
    current_high: str
    current_low_a: Decimal
    current_high_a: Decimal
    pfs: list[str]
    directions: list[str]
    seed: int | None = None
    plan_id: str
    regulation: str
    verification: str
    profile_overrides: dict[str, Any] = {}

    def planned(self) -> list[Planned]:
        key = f"{self.id}/{self.index}"
        return [Planned(key, str(self.index), f"{self.title}: {self.index}", self)]


class TariffSwitchStep(_Step):
    """The tariff-switching item for one meter type: the boundary tested and the tariffs its
    period table names on either side, the load and the observation windows (seconds)."""

    type: Literal["tariff_switch"] = "tariff_switch"
    boundary: str
    tariff_before: int
    tariff_after: int
    tariff_names: list[str] = []
    tariffs: int
    current_a: Decimal
    pf: str
    voltage_v: Decimal
    power_w: Decimal
    window_s: Decimal
    tolerance_s: Decimal


class ClockStep(_Step):
    type: Literal["clock"] = "clock"
    voltage_v: Decimal
    readings: int
    gate_pulses: int
    gate_s: Decimal
    total_s: Decimal
    limit_s_per_day: Decimal
    rounding_s_per_day: Decimal
    timebase_max_ppm: Decimal
    # items whose load points this test runs alongside (empty: on its own, in plan order)
    alongside: list[str] = []


class CommunicationStep(_Step):
    type: Literal["communication"] = "communication"
    protocol: str
    checks: list[str]


class TimeSettingStep(_Step):
    type: Literal["time_setting"] = "time_setting"
    protocol: str
    max_deviation_s: Decimal | None


class FlowRatesOut(_Frozen):
    q1_m3h: Decimal
    q2_m3h: Decimal
    q3_m3h: Decimal
    q4_m3h: Decimal


class WaterPoint(_Frozen):
    key: str
    flow: str
    nominal_l_h: Decimal
    target_l_h: Decimal
    band_low_l_h: Decimal
    band_high_l_h: Decimal
    zone: str
    temperature_c: Decimal
    limits: LimitSet
    rounding_interval: Decimal
    runs: int
    resolution_l: Decimal
    volume_l: Decimal
    duration_s: Decimal
    feasible: bool = True
    problems: list[str] = []
    why: Why


class WaterErrorStep(_Step):
    type: Literal["water_error"] = "water_error"
    ratio_r: Decimal
    orientation: str
    rates: FlowRatesOut
    points: list[WaterPoint]

    batch_statistics: ClassVar[bool] = True

    def planned(self) -> list[Planned]:
        return self._per_point([(flow.key, flow) for flow in self.points])


Step = Annotated[
    ManualStep
    | CreepStep
    | StartingStep
    | BasicErrorStep
    | StdDevStep
    | RegisterStep
    | ClockStep
    | CommunicationStep
    | TimeSettingStep
    | RegisterSpanStep
    | UnannouncedStep
    | TariffSwitchStep
    | WaterErrorStep
    | HeatFlowStep
    | HeatCalculatorStep
    | HeatSensorPairStep
    | HeatCompleteStep
    | GasErrorStep
    | GasTightnessStep
    | GasPressureLossStep,
    Field(discriminator="type"),
]


class Skipped(_Frozen):
    """A plan item that does not apply to this meter, and why."""

    id: str
    type: str
    reason: str


class PlanRef(_Frozen):
    id: str
    title: str
    file: str | None
    verification: str
    points_confidence: str | None


class ProfileRef(_Frozen):
    id: str
    title: str
    basis: str
    version: str
    overrides: dict[str, str]


class BenchRef(_Frozen):
    reference_constant: Decimal | None
    k_i: Decimal
    k_u: Decimal
    max_current_a: Decimal | None
    max_voltage_v: Decimal | None
    min_flow_l_h: Decimal | None
    max_flow_l_h: Decimal | None
    reference_resolution_l: Decimal | None


class LotRuleOut(_Frozen):
    """The plan's lot rule as data, so lot statistics can be computed from the record alone."""

    items: list[str]
    points: list[str] | None
    weighting: Literal["meter", "run"]
    consequence: Literal["flag", "withhold"]


class PlanExpansion(_Frozen):
    """The whole expansion; ``steps`` in plan order."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    plan: PlanRef
    profile: ProfileRef
    meter_type: dict[str, str | int | bool | list[str] | None]
    bench: BenchRef
    batch_statistics: bool
    lot: LotRuleOut | None = None
    steps: list[Step]
    skipped: list[Skipped]
    warnings: list[str]
    unconfirmed: list[str]
    time: Duration

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json_dict(self) -> dict[str, object]:
        """JSON-ready dict (Decimals as strings, key ``schema``)."""
        return self.model_dump(mode="json", by_alias=True)
