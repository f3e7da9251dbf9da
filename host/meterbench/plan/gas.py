"""Expansion of the gas-meter items: flow points with their bands, zones, MPE and test volume
in whole cyclic volumes; the tightness test; the pressure loss at qmax."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from meterbench.config.gas_items import GasErrorItem, GasPressureLossItem, GasTightnessItem
from meterbench.config.gas_meter_type import GasMeterType
from meterbench.plan.context import Basis, Expansion, duration, limit_set, num, text
from meterbench.plan.gas_model import GasErrorStep, GasPoint, GasPressureLossStep, GasTightnessStep
from meterbench.plan.model import Why
from meterbench.regulations.gas import (
    GasRates,
    designation_rates,
    flow_band,
    gas_mpe,
    gas_rates,
    gas_rounding_interval,
    pressure_loss_limit_pa,
    run_volume_l,
    tightness_pressure_kpa,
    zone_for_flow,
)
from meterbench.regulations.gas_profile import GasProfile
from meterbench.regulations.lookup import NotInProfile
from meterbench.regulations.numbers import to_fraction
from meterbench.regulations.profile import Sourced

LITRES_PER_M3 = 1000
SECONDS_PER_HOUR = 3600


def check_meter(ctx: Expansion) -> None:
    """The class must be covered and qmin < qt < qmax; a designation that disagrees with the
    flow rates is warned about."""
    meter, profile = _meter(ctx), _profile(ctx)
    supported = profile.classes.supported.value
    if meter.meter_class not in supported:
        raise ctx.meter_error(
            "class",
            f"profile {profile.id} does not cover class {meter.meter_class} "
            f"(covers {', '.join(supported)})",
        )
    try:
        gas_rates(profile, meter.qmin_m3h, meter.qmax_m3h)
    except ValueError as exc:
        raise ctx.meter_error("qmin_m3h", str(exc)) from None
    if meter.designation:
        try:
            found = designation_rates(profile, meter.designation)
        except NotInProfile as exc:
            ctx.warnings.append(str(exc))
            return
        qmax, qmin = found.value
        if meter.qmax_m3h != qmax or meter.qmin_m3h > qmin:
            ctx.warnings.append(
                f"{meter.designation} has qmax {qmax} m³/h and qmin at most {qmin} m³/h; "
                f"the nameplate gives {meter.qmax_m3h} and {meter.qmin_m3h}"
            )
        ctx.unconfirmed.update(found.unconfirmed)


def gas_error(ctx: Expansion, item: GasErrorItem, index: int) -> GasErrorStep:
    meter, profile = _meter(ctx), _profile(ctx)
    basis = Basis()
    rates = basis.use(gas_rates(profile, meter.qmin_m3h, meter.qmax_m3h))
    humidity = basis.tagged(profile.bell.humidity_correction) if item.method == "bell" else False
    points = [
        _point(ctx, spec.flow, spec.acceptance, rates, f"items[{index}].points[{i}]", basis)
        for i, spec in enumerate(item.points)
    ]
    extra: dict[str, object] = {"humidity_correction": bool(humidity)}
    same_sign = [r for r in profile.mpe.same_sign if r.cls == meter.meter_class]
    if same_sign:
        extra["same_sign_limit"] = basis.use(Sourced(same_sign[0].limit, (same_sign[0],)))
        extra["upper_points"] = [p.key for p in points if p.zone == "upper"]
    points = [p.model_copy(update=extra) for p in points]
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    total = sum((p.duration_s * p.runs for p in points), Decimal(0))
    return GasErrorStep(
        id=item.item_id,
        title=item.title or "gas meter error",
        method=item.method,
        qmin_m3h=num(rates.qmin, 9),
        qt_m3h=num(rates.qt, 9),
        qmax_m3h=num(rates.qmax, 9),
        humidity_correction=bool(humidity),
        points=points,
        time=duration(total),
        why=Why(
            formula="qt = ratio·qmax; E = (Vm − Vref)/Vref·100 %, Vref = Vb·(pb − φb·ps(θb))"
            "/(pm − φm·ps(θm))·Tm/Tb",
            inputs={"qmin": text(meter.qmin_m3h), "qmax": text(meter.qmax_m3h)},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def _point(
    ctx: Expansion,
    name: str,
    acceptance: Decimal | None,
    rates: GasRates,
    field: str,
    basis: Basis,
) -> GasPoint:
    meter, profile = _meter(ctx), _profile(ctx)
    point_basis = Basis()
    try:
        low, high = point_basis.use(flow_band(profile, name, rates))
        target = (low + high) / 2
        zone = zone_for_flow(target, rates)
        mpe = point_basis.use(gas_mpe(profile, meter.meter_class, zone))
        interval = point_basis.use(gas_rounding_interval(profile, meter.meter_class))
    except (NotInProfile, ValueError) as exc:
        raise ctx.plan_error(f"{field}.flow", str(exc)) from None
    runs = point_basis.tagged(profile.runs.runs_per_point)
    resolution = meter.resolution_l
    volume = point_basis.use(run_volume_l(profile, resolution, meter.cyclic_volume_l, mpe))
    notes = [f"meter resolution {resolution} L, cyclic volume {meter.cyclic_volume_l} L"]
    reference = ctx.bench.reference_resolution_l
    if reference is not None:
        by_reference = run_volume_l(profile, reference, meter.cyclic_volume_l, mpe).value
        if by_reference > volume:
            volume = by_reference
            notes.append("volume set by the reference's resolution")
    target_l_h = target * LITRES_PER_M3
    seconds = to_fraction(volume) / target_l_h * SECONDS_PER_HOUR
    problems = _flow_problems(ctx, low * LITRES_PER_M3, high * LITRES_PER_M3)
    basis.entries.extend(point_basis.entries)
    return GasPoint(
        key=name,
        band_low_l_h=num(low * LITRES_PER_M3, 6),
        band_high_l_h=num(high * LITRES_PER_M3, 6),
        target_l_h=num(target_l_h, 6),
        zone=zone,
        limits=limit_set(ctx, mpe, acceptance, field),
        rounding_interval=num(interval),
        runs=runs,
        resolution_l=num(resolution),
        cyclic_volume_l=num(meter.cyclic_volume_l),
        volume_l=num(volume),
        cycles=num(to_fraction(volume) / to_fraction(meter.cyclic_volume_l), 3),
        duration_s=num(seconds, 3),
        feasible=not problems,
        problems=problems,
        why=Why(
            formula="V = max(k·δV/(ratio·MPE), min_cycles·Vc), whole cyclic volumes Vc; "
            "target flow = middle of the band; t = V/q",
            inputs={
                "δV": text(resolution),
                "Vc": text(meter.cyclic_volume_l),
                "MPE": text(mpe),
            },
            basis=point_basis.cites(),
            notes=notes,
        ),
    )


def gas_tightness(ctx: Expansion, item: GasTightnessItem) -> GasTightnessStep:
    meter, profile = _meter(ctx), _profile(ctx)
    basis = Basis()
    pressure = basis.use(tightness_pressure_kpa(profile, meter.pmax_kpa))
    hold = basis.tagged(profile.tightness.hold_s)
    drop = basis.tagged(profile.tightness.max_drop_pa)
    return GasTightnessStep(
        id=item.item_id,
        title=item.title or "tightness",
        pressure_kpa=num(pressure),
        hold_s=hold,
        max_drop_pa=num(drop),
        time=duration(hold),
        why=Why(
            formula="p_test = factor·pmax, held for hold_s with at most max_drop_pa",
            inputs={"pmax kPa": text(meter.pmax_kpa)},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def gas_pressure_loss(ctx: Expansion, item: GasPressureLossItem) -> GasPressureLossStep:
    meter, profile = _meter(ctx), _profile(ctx)
    basis = Basis()
    try:
        limit = basis.use(pressure_loss_limit_pa(profile, meter.qmax_m3h))
    except NotInProfile as exc:
        raise ctx.meter_error("qmax_m3h", str(exc)) from None
    density = basis.tagged(profile.pressure_loss.air_density_kg_m3)
    return GasPressureLossStep(
        id=item.item_id,
        title=item.title or "pressure loss at qmax",
        flow_m3h=num(meter.qmax_m3h),
        limit_pa=num(limit),
        air_density_kg_m3=num(density),
        why=Why(
            formula="Δp at qmax with air of the profile's density <= limit",
            inputs={"qmax": text(meter.qmax_m3h)},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


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


def meter_summary(meter: GasMeterType) -> dict[str, str | int | bool | list[str] | None]:
    """The nameplate fields ``plan show`` prints for a gas meter."""
    return {
        "designation": meter.designation or None,
        "qmax_m3h": str(meter.qmax_m3h),
        "qmin_m3h": str(meter.qmin_m3h),
        "cyclic_volume_l": str(meter.cyclic_volume_l),
        "register_resolution_l": str(meter.register_resolution_l),
        "pulse_value_l": None if meter.pulse_value_l is None else str(meter.pulse_value_l),
        "pmax_kpa": str(meter.pmax_kpa),
        "protocol": meter.protocol,
    }


def _meter(ctx: Expansion) -> GasMeterType:
    assert isinstance(ctx.meter, GasMeterType)
    return ctx.meter


def _profile(ctx: Expansion) -> GasProfile:
    assert isinstance(ctx.profile, GasProfile)
    return ctx.profile
