"""Expansion of the water-meter error item: flow points with their bands, zones, MPE, test
volume and run time."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from meterbench.config.meter_types import WaterMeterType
from meterbench.config.plans import FlowPoint, WaterErrorItem
from meterbench.plan.context import Basis, Expansion, duration, limit_set, num, text
from meterbench.plan.model import FlowRatesOut, WaterErrorStep, WaterPoint, Why
from meterbench.regulations.lookup import NotInProfile
from meterbench.regulations.numbers import to_fraction
from meterbench.regulations.profile import WaterProfile
from meterbench.regulations.water import (
    LITRES_PER_M3,
    FlowRates,
    flow_band,
    in_temperature_class,
    profile_flow_rates,
    r_in_series,
    run_volume_l,
    water_mpe,
    water_rounding_interval,
    zone_for_flow,
)

SECONDS_PER_HOUR = 3600


def check_meter(ctx: Expansion) -> None:
    meter, profile = _meter(ctx), _profile(ctx)
    if meter.meter_class not in profile.classes.supported.value:
        raise ctx.meter_error(
            "class",
            f"profile {profile.id} does not cover class {meter.meter_class} "
            f"(covers {', '.join(profile.classes.supported.value)})",
        )
    if not r_in_series(profile, meter.ratio):
        ctx.warnings.append(
            f"R = {meter.ratio} is not in the profile's preferred series "
            f"({', '.join(str(v) for v in profile.flow.r_series.value)})"
        )
        ctx.unconfirmed.add(profile.flow.r_series.path)


def water_error(ctx: Expansion, item: WaterErrorItem, index: int) -> WaterErrorStep:
    meter, profile = _meter(ctx), _profile(ctx)
    basis = Basis()
    rates = basis.use(profile_flow_rates(profile, meter.q3_m3h, meter.ratio))
    points = [
        _point(ctx, spec, rates, f"items[{index}].points[{i}]", basis)
        for i, spec in enumerate(item.points)
    ]
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    total = sum((p.duration_s * p.runs for p in points), Decimal(0))
    return WaterErrorStep(
        id=item.item_id,
        title=item.title or "water meter error",
        ratio_r=num(meter.ratio),
        orientation=meter.orientation,
        rates=FlowRatesOut(
            q1_m3h=num(rates.q1, 9),
            q2_m3h=num(rates.q2, 9),
            q3_m3h=num(rates.q3, 9),
            q4_m3h=num(rates.q4, 9),
        ),
        points=points,
        time=duration(total),
        why=Why(
            formula="Q1 = Q3/R, Q2 = ratio·Q1, Q4 = ratio·Q3; E = (Vi − Va)/Va·100 %",
            inputs={"Q3": text(meter.q3_m3h), "R": text(meter.ratio)},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def _point(
    ctx: Expansion, spec: FlowPoint, rates: FlowRates, field: str, basis: Basis
) -> WaterPoint:
    meter, profile, bench = _meter(ctx), _profile(ctx), ctx.bench
    point_basis = Basis()
    _check_temperature_class(ctx, spec, field, point_basis)
    try:
        low, high = point_basis.use(flow_band(profile, spec.flow, rates))
        target = (low + high) / 2
        zone = zone_for_flow(target, rates)
        mpe = point_basis.use(water_mpe(profile, meter.meter_class, zone, spec.temperature_c))
        interval = point_basis.use(water_rounding_interval(profile, meter.meter_class))
    except (NotInProfile, ValueError) as exc:
        raise ctx.plan_error(field, str(exc)) from None
    runs = point_basis.tagged(profile.runs.runs_per_point)
    resolution = meter.pulse_volume_l or meter.scale_interval_l
    resolution_name = "pulse value" if meter.pulse_volume_l else "scale interval"
    volume = point_basis.use(run_volume_l(profile, resolution, mpe))
    notes = [f"meter resolution: {resolution_name} {resolution} L"]
    if bench.reference_resolution_l is not None:
        reference_volume = run_volume_l(profile, bench.reference_resolution_l, mpe).value
        if reference_volume > volume:
            volume = reference_volume
            notes.append("volume set by the reference's resolution")
    target_l_h = target * LITRES_PER_M3
    seconds = to_fraction(volume) / target_l_h * SECONDS_PER_HOUR
    problems = _flow_problems(ctx, low * LITRES_PER_M3, high * LITRES_PER_M3)
    basis.entries.extend(point_basis.entries)
    return WaterPoint(
        key=spec.flow,
        flow=spec.flow,
        nominal_l_h=num(rates.rate(spec.flow) * LITRES_PER_M3, 6),
        target_l_h=num(target_l_h, 6),
        band_low_l_h=num(low * LITRES_PER_M3, 6),
        band_high_l_h=num(high * LITRES_PER_M3, 6),
        zone=zone,
        temperature_c=num(spec.temperature_c),
        limits=limit_set(ctx, mpe, spec.acceptance, field),
        rounding_interval=num(interval),
        runs=runs,
        resolution_l=num(resolution),
        volume_l=num(volume),
        duration_s=num(seconds, 3),
        feasible=not problems,
        problems=problems,
        why=Why(
            formula="V_min = k·δV/(ratio·MPE), rounded up to whole δV; target flow = middle "
            "of the band; t = V/Q",
            inputs={
                "δV": text(resolution),
                "MPE": text(mpe),
                "k": text(profile.volume.reading_k.value),
                "ratio": text(profile.volume.uncertainty_ratio.value),
            },
            basis=point_basis.cites(),
            notes=notes,
        ),
    )


def _check_temperature_class(ctx: Expansion, spec: FlowPoint, field: str, basis: Basis) -> None:
    """A point outside the meter's temperature class is refused: such a meter cannot be
    judged there, and judging it anyway would issue a record for conditions it is not for."""
    meter, profile = _meter(ctx), _profile(ctx)
    if not meter.temperature_class:
        return
    try:
        inside = basis.use(
            in_temperature_class(profile, meter.temperature_class, spec.temperature_c)
        )
    except NotInProfile as exc:
        raise ctx.meter_error("temperature_class", str(exc)) from None
    if not inside:
        raise ctx.plan_error(
            f"{field}.temperature_c",
            f"water at {spec.temperature_c} °C is outside temperature class "
            f"{meter.temperature_class} of meter type {meter.id or meter.source_path} "
            f"(plan {ctx.plan.id})",
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


def _meter(ctx: Expansion) -> WaterMeterType:
    assert isinstance(ctx.meter, WaterMeterType)
    return ctx.meter


def _profile(ctx: Expansion) -> WaterProfile:
    assert isinstance(ctx.profile, WaterProfile)
    return ctx.profile
