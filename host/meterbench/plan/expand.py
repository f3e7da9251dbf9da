"""Plan x meter type x regulation profile (x bench) -> ``PlanExpansion``.

Pure: no hardware, no clock, nothing but the three (four) inputs, so the same expansion is what
``meterbench plan show`` prints, what the runner executes and what a record snapshots.
"""

from __future__ import annotations

import os
from decimal import Decimal

from meterbench.config.gas_items import GasErrorItem, GasPressureLossItem, GasTightnessItem
from meterbench.config.gas_meter_type import GasMeterType
from meterbench.config.heat_items import (
    HeatCalculatorItem,
    HeatCompleteItem,
    HeatFlowItem,
    HeatSensorPairItem,
)
from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.config.meter_types import (
    ElectricityMeterType,
    MeterType,
    WaterMeterType,
    load_meter_type,
)
from meterbench.config.plans import (
    BasicErrorItem,
    ClockItem,
    CommunicationItem,
    CreepItem,
    LotRule,
    ManualItem,
    Plan,
    RegisterItem,
    RegisterSpanItem,
    StartingItem,
    StdDevItem,
    TariffSwitchItem,
    TimeSettingItem,
    UnannouncedItem,
    WaterErrorItem,
    load_plan,
    meter_matches_plan,
    plan_profile,
)
from meterbench.plan import electricity, gas, heat, water
from meterbench.plan.bench import BenchContext
from meterbench.plan.context import Expansion, duration, num
from meterbench.plan.model import (
    BenchRef,
    LotRuleOut,
    ManualStep,
    PlanExpansion,
    PlanRef,
    ProfileRef,
    Skipped,
    Step,
)
from meterbench.regulations.profile import RegulationProfile


def expand_plan(
    plan: Plan,
    meter: MeterType,
    profile: RegulationProfile | None = None,
    bench: BenchContext | None = None,
) -> PlanExpansion:
    """The concrete steps of ``plan`` for ``meter``. ``profile`` defaults to the plan's
    regulation with its overrides; ``bench`` adds the reference constant and setpoint range.
    Raises ConfigError naming the plan or meter-type file and field when they do not fit."""
    meter_matches_plan(plan, meter)
    ctx = Expansion(
        plan=plan,
        meter=meter,
        profile=profile if profile is not None else plan_profile(plan),
        bench=bench or BenchContext(),
    )
    if isinstance(meter, ElectricityMeterType):
        electricity.check_meter(ctx)
    elif isinstance(meter, HeatMeterType):
        heat.check_meter(ctx)
    elif isinstance(meter, GasMeterType):
        gas.check_meter(ctx)
    else:
        water.check_meter(ctx)
    steps: list[Step] = []
    skipped: list[Skipped] = []
    closing: list[Step] = []  # steps that end the run, whatever their place in the plan
    for index, item in enumerate(plan.items):
        if isinstance(item, RegisterSpanItem):
            start, end = electricity.register_span(ctx, item, index)
            steps.insert(0, start)
            closing.append(end)
            continue
        if isinstance(item, UnannouncedItem):
            steps.extend(electricity.unannounced(ctx, item, index))
            continue
        result = _expand_item(ctx, item, index)
        if isinstance(result, Skipped):
            skipped.append(result)
        else:
            steps.append(result)
    steps.extend(closing)
    total_min = sum((s.time.min_s for s in steps if s.time), Decimal(0))
    total_max = sum((s.time.max_s for s in steps if s.time), Decimal(0))
    return PlanExpansion(
        plan=PlanRef(
            id=plan.id,
            title=plan.plan.title,
            file=plan.source_path,
            verification=plan.plan.verification,
            points_confidence=plan.plan.points_confidence,
        ),
        profile=ProfileRef(
            id=ctx.profile.id,
            title=ctx.profile.profile.title,
            basis=ctx.profile.profile.basis,
            version=str(ctx.profile.profile.version),
            overrides={k: str(v) for k, v in plan.profile_overrides.items()},
        ),
        meter_type=_meter_summary(meter),
        bench=_bench_summary(ctx.bench),
        batch_statistics=_batch_enabled(ctx),
        lot=_lot_rule(plan.lot),
        steps=steps,
        skipped=skipped,
        warnings=ctx.warnings,
        unconfirmed=sorted(ctx.unconfirmed),
        time=duration(total_min, total_max),
    )


def expand_files(
    plan_path: str | os.PathLike[str],
    meter_type_path: str | os.PathLike[str],
    bench: BenchContext | None = None,
) -> PlanExpansion:
    """Load a plan and a meter type from files and expand them."""
    plan = load_plan(plan_path, check_profile=False)
    meter = load_meter_type(meter_type_path)
    return expand_plan(plan, meter, bench=bench)


def _lot_rule(rule: LotRule | None) -> LotRuleOut | None:
    if rule is None:
        return None
    return LotRuleOut(
        items=list(rule.items),
        points=None if rule.points is None else list(rule.points),
        weighting=rule.weighting,
        consequence=rule.consequence,
    )


MANUAL_TITLES = {
    "visual": "外观检查 visual inspection",
    "ac_voltage": "交流电压试验 AC voltage test",
    "tightness": "密封性 tightness",
}


def manual(item: ManualItem) -> ManualStep:
    """A manual item: recorded per position by a named verifier, never run by the bench."""
    return ManualStep(
        id=item.item_id,
        title=item.title or MANUAL_TITLES[item.type],
        item=item.type,
        mandatory=item.mandatory,
        instructions=item.instructions,
    )


def _expand_item(ctx: Expansion, item: object, index: int) -> Step | Skipped:
    if isinstance(item, ManualItem):
        return manual(item)
    if isinstance(item, CreepItem):
        return electricity.creep(ctx, item)
    if isinstance(item, StartingItem):
        return electricity.starting(ctx, item)
    if isinstance(item, BasicErrorItem):
        return electricity.basic_error(ctx, item, index)
    if isinstance(item, StdDevItem):
        return electricity.std_dev(ctx, item, index)
    if isinstance(item, RegisterItem):
        return electricity.register(ctx, item, index)
    if isinstance(item, ClockItem):
        return electricity.clock(ctx, item)
    if isinstance(item, CommunicationItem):
        return electricity.communication(ctx, item)
    if isinstance(item, TimeSettingItem):
        return electricity.time_setting(ctx, item)
    if isinstance(item, TariffSwitchItem):
        return electricity.tariff_switch(ctx, item, index)
    if isinstance(item, WaterErrorItem):
        return water.water_error(ctx, item, index)
    return _expand_kind_item(ctx, item, index)


def _expand_kind_item(ctx: Expansion, item: object, index: int) -> Step | Skipped:
    """Heat and gas items."""
    if isinstance(item, HeatFlowItem):
        return heat.heat_flow(ctx, item, index)
    if isinstance(item, HeatCalculatorItem):
        return heat.heat_calculator(ctx, item, index)
    if isinstance(item, HeatSensorPairItem):
        return heat.heat_sensor_pair(ctx, item, index)
    if isinstance(item, HeatCompleteItem):
        return heat.heat_complete(ctx, item, index)
    if isinstance(item, GasErrorItem):
        return gas.gas_error(ctx, item, index)
    if isinstance(item, GasTightnessItem):
        return gas.gas_tightness(ctx, item)
    if isinstance(item, GasPressureLossItem):
        return gas.gas_pressure_loss(ctx, item)
    raise TypeError(f"no expansion for plan item {item!r}")  # pragma: no cover


def _batch_enabled(ctx: Expansion) -> bool:
    if ctx.meter.batch_statistics is not None:
        return ctx.meter.batch_statistics
    return bool(ctx.profile.batch.mean_not_above_zero.value)


def _meter_summary(meter: MeterType) -> dict[str, str | int | bool | list[str] | None]:
    common: dict[str, str | int | bool | list[str] | None] = {
        "id": meter.id,
        "file": meter.source_path,
        "kind": meter.kind,
        "class": meter.meter_class,
        "manufacturer": meter.manufacturer,
        "model": meter.model,
    }
    if isinstance(meter, ElectricityMeterType):
        common.update(
            connection=meter.connection,
            wiring=meter.wiring,
            un_v=str(meter.un_v),
            base_current=meter.base_current_name,
            base_current_a=str(meter.base_current_a),
            imax_a=str(meter.imax_a),
            constant_imp_per_kwh=str(meter.constant_imp_per_kwh),
            protocol=meter.protocol,
            clock=meter.clock,
            tariffs=meter.tariffs,
            bidirectional=meter.bidirectional,
            rating=meter.rating or None,
        )
    elif isinstance(meter, WaterMeterType):
        common.update(
            q3_m3h=str(meter.q3_m3h),
            r=str(meter.ratio),
            orientation=meter.orientation,
            dn=meter.dn,
            scale_interval_l=str(meter.scale_interval_l),
            pulse_value_l=None if meter.pulse_volume_l is None else str(num(meter.pulse_volume_l)),
            protocol=meter.protocol,
        )
    elif isinstance(meter, HeatMeterType):
        common.update(heat.meter_summary(meter))
    elif isinstance(meter, GasMeterType):
        common.update(gas.meter_summary(meter))
    return common


def _bench_summary(bench: BenchContext) -> BenchRef:
    def opt(value: Decimal | None) -> Decimal | None:
        return None if value is None else num(value)

    return BenchRef(
        reference_constant=opt(bench.reference_constant),
        k_i=num(bench.k_i),
        k_u=num(bench.k_u),
        max_current_a=opt(bench.max_current_a),
        max_voltage_v=opt(bench.max_voltage_v),
        min_flow_l_h=opt(bench.min_flow_l_h),
        max_flow_l_h=opt(bench.max_flow_l_h),
        reference_resolution_l=opt(bench.reference_resolution_l),
    )
