"""Expansion of the heat-meter items: flow-sensor points with Ef (and the complete meter's
E = Ef + Et + Ec at the paired Δθ), calculator and sensor-pair points with simulated Pt
resistances and the water's heat coefficient, and complete-meter points."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from meterbench.config.heat_items import (
    CompletePoint,
    HeatCalculatorItem,
    HeatCompleteItem,
    HeatFlowItem,
    HeatSensorPairItem,
)
from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.plan.context import Basis, Expansion, duration, limit_set, num, text
from meterbench.plan.heat_model import (
    ComponentMpe,
    DeltaThetaPoint,
    EfFormula,
    HeatCalculatorStep,
    HeatCompletePoint,
    HeatCompleteStep,
    HeatFlowPoint,
    HeatFlowStep,
    HeatSensorPairStep,
)
from meterbench.plan.model import Why
from meterbench.regulations.heat import (
    HeatMpe,
    HeatRates,
    calculator_mpe,
    complete_mpe,
    delta_theta_band,
    flow_band,
    flow_sensor_mpe,
    heat_rates,
    heat_rounding_interval,
    min_test_quantity,
    temperature_pair_mpe,
)
from meterbench.regulations.heat_profile import FlowSensorMpeRow, HeatProfile
from meterbench.regulations.lookup import NotInProfile, find_row
from meterbench.regulations.numbers import to_fraction
from meterbench.regulations.platinum import r0_ohm, resistance_ohm
from meterbench.regulations.water_properties import heat_coefficient_kj_m3_k

LITRES_PER_M3 = 1000
SECONDS_PER_HOUR = 3600
KJ_PER_KWH = 3600


def check_meter(ctx: Expansion) -> None:
    """The class must be covered; nameplate values outside the profile's limits are warned
    about (older meters are still verified), not refused."""
    meter, profile = _meter(ctx), _profile(ctx)
    supported = profile.classes.supported.value
    if meter.meter_class not in supported:
        raise ctx.meter_error(
            "class",
            f"profile {profile.id} does not cover class {meter.meter_class} "
            f"(covers {', '.join(supported)})",
        )
    nameplate = profile.nameplate
    if to_fraction(meter.delta_theta_min_k) not in {
        to_fraction(v) for v in nameplate.delta_theta_min_k.value
    }:
        ctx.warnings.append(
            f"Δθmin = {meter.delta_theta_min_k} K is not one of "
            f"{', '.join(str(v) for v in nameplate.delta_theta_min_k.value)} K"
        )
    if meter.qp_m3h / meter.qi_m3h < nameplate.qp_over_qi_min.value:
        ctx.warnings.append(f"qp/qi is below {nameplate.qp_over_qi_min.value}")
    if meter.delta_theta_max_k / meter.delta_theta_min_k < (
        nameplate.delta_theta_max_over_min_min.value
    ):
        ctx.warnings.append(f"Δθmax/Δθmin is below {nameplate.delta_theta_max_over_min_min.value}")


def rates_of(meter: HeatMeterType) -> HeatRates:
    return heat_rates(
        meter.qi_m3h, meter.qp_m3h, meter.qs, meter.delta_theta_min_k, meter.delta_theta_max_k
    )


# --------------------------------------------------------------------------- flow sensor


def heat_flow(ctx: Expansion, item: HeatFlowItem, index: int) -> HeatFlowStep:
    meter = _meter(ctx)
    rates = rates_of(meter)
    basis = Basis()
    points = []
    for i, spec in enumerate(item.points):
        field = f"items[{index}].points[{i}]"
        points.append(_flow_point(ctx, spec.flow, spec.acceptance, rates, field, basis))
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    total = sum((p.duration_s * p.runs for p in points), Decimal(0))
    return HeatFlowStep(
        id=item.item_id,
        title=item.title or "flow sensor error",
        qi_m3h=num(meter.qi_m3h),
        qp_m3h=num(meter.qp_m3h),
        qs_m3h=num(meter.qs),
        installation=meter.installation,
        points=points,
        time=duration(total),
        why=Why(
            formula="Ef = ±(a + b·qp/q) %, at most ±cap %; E = Ef + Et + Ec",
            inputs={"qp": text(meter.qp_m3h), "qi": text(meter.qi_m3h), "class": meter.meter_class},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def _flow_point(
    ctx: Expansion,
    name: str,
    acceptance: Decimal | None,
    rates: HeatRates,
    field: str,
    basis: Basis,
) -> HeatFlowPoint:
    meter, profile = _meter(ctx), _profile(ctx)
    point_basis = Basis()
    try:
        low, high = point_basis.use(flow_band(profile, name, rates))
        target = (low + high) / 2
        ef_sourced = flow_sensor_mpe(profile, meter.meter_class, rates.qp, target)
        ef = point_basis.use(ef_sourced)
        interval = point_basis.use(heat_rounding_interval(profile, meter.meter_class))
        combined = _combined(ctx, name, target, rates, point_basis)
    except (NotInProfile, ValueError) as exc:
        raise ctx.plan_error(f"{field}.flow", str(exc)) from None
    water = find_row(
        profile.flow.water_temperature,
        lambda r: r.application == meter.application,
        f"water temperature for {meter.application} meters",
        profile.id,
    )
    point_basis.entries.append(water)
    runs = point_basis.tagged(profile.runs.runs_per_point)
    resolution = meter.volume_resolution_l
    volume = point_basis.use(min_test_quantity(profile, resolution, ef))
    notes = [f"meter resolution {resolution} L"]
    if ctx.bench.reference_resolution_l is not None:
        by_reference = min_test_quantity(profile, ctx.bench.reference_resolution_l, ef).value
        if by_reference > volume:
            volume = by_reference
            notes.append("volume set by the reference's resolution")
    target_l_h = target * LITRES_PER_M3
    seconds = to_fraction(volume) / target_l_h * SECONDS_PER_HOUR
    problems = _flow_problems(ctx, low * LITRES_PER_M3, high * LITRES_PER_M3)
    basis.entries.extend(point_basis.entries)
    return HeatFlowPoint(
        key=name,
        band_low_l_h=num(low * LITRES_PER_M3, 6),
        band_high_l_h=num(high * LITRES_PER_M3, 6),
        target_l_h=num(target_l_h, 6),
        water_temperature_c=num(water.nominal_c),
        water_band_c=f"{water.low_c} .. {water.high_c}",
        limits=limit_set(ctx, num(ef, 6), acceptance, field),
        ef_formula=_ef_formula(ef_sourced.basis[0], meter),
        combined=combined,
        rounding_interval=num(interval),
        runs=runs,
        resolution_l=num(resolution),
        volume_l=num(volume),
        duration_s=num(seconds, 3),
        feasible=not problems,
        problems=problems,
        why=Why(
            formula="Ef at the target flow (middle of the band); the verdict uses the measured "
            "mean flow of the run; V_min = k·δV/(ratio·Ef), whole δV; t = V/q",
            inputs={"q": text(target, 9), "qp": text(rates.qp), "δV": text(resolution)},
            basis=point_basis.cites(),
            notes=notes,
        ),
    )


def _ef_formula(row: object, meter: HeatMeterType) -> EfFormula | None:
    """The coefficients behind Ef, so the verdict can use the flow a run really had."""
    if not isinstance(row, FlowSensorMpeRow):
        return None
    return EfFormula(a=row.a, b=row.b, cap=row.cap, qp_m3h=meter.qp_m3h)


def _combined(
    ctx: Expansion, flow: str, q: Fraction, rates: HeatRates, basis: Basis
) -> ComponentMpe | None:
    """E at the Δθ the profile's complete-meter pairs give this flow (None when unpaired)."""
    profile, meter = _profile(ctx), _meter(ctx)
    pair = next((p for p in profile.complete.pairs if p.flow == flow), None)
    if pair is None:
        return None
    basis.entries.append(pair)
    low, high = basis.use(delta_theta_band(profile, pair.delta_theta, rates))
    dt = (low + high) / 2
    mpe = basis.use(complete_mpe(profile, meter.meter_class, rates, q, dt))
    return _components(pair.delta_theta, dt, mpe)


def _components(point: str, dt: Fraction, mpe: HeatMpe) -> ComponentMpe:
    return ComponentMpe(
        delta_theta_point=point,
        delta_theta_k=num(dt),
        ef=num(mpe.ef),
        et=num(mpe.et),
        ec=num(mpe.ec),
        e=num(mpe.e),
    )


# --------------------------------------------------------------------------- calculator, pair


def heat_calculator(ctx: Expansion, item: HeatCalculatorItem, index: int) -> HeatCalculatorStep:
    meter = _meter(ctx)
    basis = Basis()
    points = [
        _dt_point(
            ctx, spec.delta_theta, spec.acceptance, f"items[{index}].points[{i}]", basis, True
        )
        for i, spec in enumerate(item.points)
    ]
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    return HeatCalculatorStep(
        id=item.item_id,
        title=item.title or "calculator error",
        sensor=meter.sensor,
        pressure_mpa=num(meter.pressure_mpa),
        installation=meter.installation,
        points=points,
        why=Why(
            formula="Ec = ±(a + b·Δθmin/Δθ) %; R = R0·(1 + A·t + B·t²) (IEC 60751); "
            "Q = V·ρ·(h_s − h_r) (IAPWS-IF97)",
            inputs={"Δθmin": text(meter.delta_theta_min_k), "sensor": meter.sensor},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def heat_sensor_pair(ctx: Expansion, item: HeatSensorPairItem, index: int) -> HeatSensorPairStep:
    meter = _meter(ctx)
    basis = Basis()
    points = [
        _dt_point(
            ctx, spec.delta_theta, spec.acceptance, f"items[{index}].points[{i}]", basis, False
        )
        for i, spec in enumerate(item.points)
    ]
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    return HeatSensorPairStep(
        id=item.item_id,
        title=item.title or "temperature sensor pair error",
        sensor=meter.sensor,
        points=points,
        why=Why(
            formula="Et = ±(a + b·Δθmin/Δθ) %, the error of the pair's Δθ",
            inputs={"Δθmin": text(meter.delta_theta_min_k), "sensor": meter.sensor},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def bath_temperatures(
    meter: HeatMeterType, profile: HeatProfile, dt: Fraction
) -> tuple[Fraction, Fraction]:
    """(supply, return) °C for a Δθ: the colder side at the profile's return temperature,
    moved into θmin..θmax when needed; heating meters have the warmer supply, cooling meters
    the warmer return."""
    base = to_fraction(profile.delta_theta.return_temperature_c.value)
    theta_min, theta_max = to_fraction(meter.theta_min_c), to_fraction(meter.theta_max_c)
    cold = max(theta_min, min(base, theta_max - dt))
    warm = cold + dt
    return (warm, cold) if meter.application == "heating" else (cold, warm)


def _dt_point(
    ctx: Expansion,
    name: str,
    acceptance: Decimal | None,
    field: str,
    basis: Basis,
    calculator: bool,
) -> DeltaThetaPoint:
    meter, profile = _meter(ctx), _profile(ctx)
    rates = rates_of(meter)
    point_basis = Basis()
    try:
        low, high = point_basis.use(delta_theta_band(profile, name, rates))
        interval = point_basis.use(heat_rounding_interval(profile, meter.meter_class))
    except (NotInProfile, ValueError) as exc:
        raise ctx.plan_error(f"{field}.delta_theta", str(exc)) from None
    dt = (low + high) / 2
    mpe_of = calculator_mpe if calculator else temperature_pair_mpe
    mpe = point_basis.use(mpe_of(profile, rates.dt_min, dt))
    point_basis.tagged(profile.delta_theta.return_temperature_c)
    runs = point_basis.tagged(profile.runs.runs_per_point) if calculator else 1
    supply, ret = bath_temperatures(meter, profile, dt)
    r0 = r0_ohm(meter.sensor)
    extra: dict[str, Decimal] = {}
    notes = []
    if calculator:
        k = heat_coefficient_kj_m3_k(
            float(supply), float(ret), float(meter.pressure_mpa), meter.installation
        )
        heat = point_basis.use(min_test_quantity(profile, meter.heat_resolution_kwh, mpe))
        volume_l = to_fraction(heat) * KJ_PER_KWH / (abs(to_fraction(k)) * dt) * LITRES_PER_M3
        if meter.pulse_value_l is not None:
            pulse = to_fraction(meter.pulse_value_l)
            volume_l = -(-volume_l // pulse) * pulse
            notes.append(f"volume in whole pulses of {meter.pulse_value_l} L")
        heat_kwh = abs(to_fraction(k)) * dt * volume_l / LITRES_PER_M3 / KJ_PER_KWH
        extra = {
            "heat_coefficient_kj_m3_k": num(abs(k), 4),
            "volume_l": num(volume_l, 3),
            "heat_kwh": num(heat_kwh, 6),
        }
    basis.entries.extend(point_basis.entries)
    return DeltaThetaPoint(
        key=name,
        band_low_k=num(low),
        band_high_k=num(high),
        delta_theta_k=num(dt),
        supply_c=num(supply),
        return_c=num(ret),
        limits=limit_set(ctx, num(mpe, 6), acceptance, field),
        rounding_interval=num(interval),
        runs=runs,
        supply_ohm=num(resistance_ohm(float(supply), r0), 4),
        return_ohm=num(resistance_ohm(float(ret), r0), 4),
        **extra,
        why=Why(
            formula="Δθ = middle of the band; "
            + ("Ec" if calculator else "Et")
            + " = a + b·Δθmin/Δθ",
            inputs={"Δθ": text(dt), "Δθmin": text(rates.dt_min)},
            basis=point_basis.cites(),
            notes=notes,
        ),
    )


# --------------------------------------------------------------------------- complete meter


def heat_complete(ctx: Expansion, item: HeatCompleteItem, index: int) -> HeatCompleteStep:
    meter, profile = _meter(ctx), _profile(ctx)
    rates = rates_of(meter)
    basis = Basis()
    specs = item.points or [
        CompletePoint(flow=p.flow, delta_theta=p.delta_theta) for p in profile.complete.pairs
    ]
    if item.points is None:
        basis.entries.extend(profile.complete.pairs)
    points = [
        _complete_point(ctx, spec, rates, f"items[{index}].points[{i}]", basis)
        for i, spec in enumerate(specs)
    ]
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    total = sum((p.duration_s * p.runs for p in points), Decimal(0))
    return HeatCompleteStep(
        id=item.item_id,
        title=item.title or "complete heat meter error",
        pressure_mpa=num(meter.pressure_mpa),
        installation=meter.installation,
        points=points,
        time=duration(total),
        why=Why(
            formula="E = Ef + Et + Ec; Q_ref = V·ρ(θ at the flow sensor)·(h_s − h_r)",
            inputs={"qp": text(meter.qp_m3h), "Δθmin": text(meter.delta_theta_min_k)},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def _complete_point(
    ctx: Expansion, spec: CompletePoint, rates: HeatRates, field: str, basis: Basis
) -> HeatCompletePoint:
    meter, profile = _meter(ctx), _profile(ctx)
    point_basis = Basis()
    try:
        q_low, q_high = point_basis.use(flow_band(profile, spec.flow, rates))
        dt_low, dt_high = point_basis.use(delta_theta_band(profile, spec.delta_theta, rates))
        q = (q_low + q_high) / 2
        dt = (dt_low + dt_high) / 2
        mpe = point_basis.use(complete_mpe(profile, meter.meter_class, rates, q, dt))
        interval = point_basis.use(heat_rounding_interval(profile, meter.meter_class))
    except (NotInProfile, ValueError) as exc:
        raise ctx.plan_error(field, str(exc)) from None
    point_basis.tagged(profile.delta_theta.return_temperature_c)
    runs = point_basis.tagged(profile.runs.runs_per_point)
    supply, ret = bath_temperatures(meter, profile, dt)
    k = abs(
        to_fraction(
            heat_coefficient_kj_m3_k(
                float(supply), float(ret), float(meter.pressure_mpa), meter.installation
            )
        )
    )
    by_volume = to_fraction(
        point_basis.use(min_test_quantity(profile, meter.volume_resolution_l, mpe.e))
    )
    heat_min = to_fraction(min_test_quantity(profile, meter.heat_resolution_kwh, mpe.e).value)
    by_heat = heat_min * KJ_PER_KWH / (k * dt) * LITRES_PER_M3
    step = to_fraction(meter.volume_resolution_l)
    volume_l = -(-max(by_volume, by_heat) // step) * step
    heat_kwh = k * dt * volume_l / LITRES_PER_M3 / KJ_PER_KWH
    seconds = volume_l / (q * LITRES_PER_M3) * SECONDS_PER_HOUR
    problems = _flow_problems(ctx, q_low * LITRES_PER_M3, q_high * LITRES_PER_M3)
    basis.entries.extend(point_basis.entries)
    return HeatCompletePoint(
        key=f"{spec.flow}/{spec.delta_theta}",
        flow=spec.flow,
        delta_theta=spec.delta_theta,
        target_l_h=num(q * LITRES_PER_M3, 6),
        band_low_l_h=num(q_low * LITRES_PER_M3, 6),
        band_high_l_h=num(q_high * LITRES_PER_M3, 6),
        delta_theta_k=num(dt),
        supply_c=num(supply),
        return_c=num(ret),
        components=_components(spec.delta_theta, dt, mpe),
        limits=limit_set(ctx, num(mpe.e, 6), spec.acceptance, field),
        rounding_interval=num(interval),
        runs=runs,
        volume_l=num(volume_l, 3),
        heat_kwh=num(heat_kwh, 6),
        duration_s=num(seconds, 3),
        feasible=not problems,
        problems=problems,
        why=Why(
            formula="V = the larger of k·δV/(ratio·E) and the volume carrying k·δQ/(ratio·E) "
            "of heat, whole δV",
            inputs={
                "q": text(q, 9),
                "Δθ": text(dt),
                "k kJ/(m³·K)": text(k, 4),
                "δV": text(meter.volume_resolution_l),
                "δQ kWh": text(meter.heat_resolution_kwh),
            },
            basis=point_basis.cites(),
        ),
    )


# --------------------------------------------------------------------------- helpers


def _flow_problems(ctx: Expansion, low_l_h: Fraction, high_l_h: Fraction) -> list[str]:
    bench = ctx.bench
    problems = []
    if bench.max_flow_l_h is not None and low_l_h > to_fraction(bench.max_flow_l_h):
        problems.append(
            f"needs at least {num(low_l_h, 3)} L/h, the bench gives at most "
            f"{bench.max_flow_l_h} L/h"
        )
    if bench.min_flow_l_h is not None and high_l_h < to_fraction(bench.min_flow_l_h):
        problems.append(
            f"needs at most {num(high_l_h, 3)} L/h, the bench gives at least "
            f"{bench.min_flow_l_h} L/h"
        )
    return problems


def meter_summary(meter: HeatMeterType) -> dict[str, str | int | bool | list[str] | None]:
    """The nameplate fields ``plan show`` prints for a heat meter."""
    return {
        "application": meter.application,
        "qp_m3h": str(meter.qp_m3h),
        "qi_m3h": str(meter.qi_m3h),
        "qs_m3h": str(meter.qs),
        "theta_c": f"{meter.theta_min_c} .. {meter.theta_max_c}",
        "delta_theta_k": f"{meter.delta_theta_min_k} .. {meter.delta_theta_max_k}",
        "installation": meter.installation,
        "dn": meter.dn,
        "sensor": meter.sensor,
        "protocol": meter.protocol,
    }


def _meter(ctx: Expansion) -> HeatMeterType:
    assert isinstance(ctx.meter, HeatMeterType)
    return ctx.meter


def _profile(ctx: Expansion) -> HeatProfile:
    assert isinstance(ctx.profile, HeatProfile)
    return ctx.profile
