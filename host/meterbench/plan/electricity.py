"""Expansion of the electricity items: creep, starting, basic error, std dev, register, clock,
communication and time setting, each with its numbers and the reasons for them."""

from __future__ import annotations

from decimal import Decimal

from meterbench.config.meter_types import ElectricityMeterType
from meterbench.config.plans import (
    BasicErrorItem,
    ClockItem,
    CommunicationItem,
    CreepItem,
    LoadPoint,
    RegisterItem,
    RegisterSpanItem,
    StartingItem,
    StdDevItem,
    TariffSwitchItem,
    TimeSettingItem,
    UnannouncedItem,
)
from meterbench.plan.context import Basis, Expansion, duration, limit_set, num, text
from meterbench.plan.model import (
    BasicErrorStep,
    ClockStep,
    CommunicationStep,
    CreepStep,
    ErrorPoint,
    PulsePlan,
    ReadingRule,
    RegisterSpanStep,
    RegisterStep,
    Skipped,
    StartingStep,
    StdDevPoint,
    StdDevStep,
    TariffSwitchStep,
    TimeSettingStep,
    UnannouncedStep,
    Why,
)
from meterbench.plan.model_common import LimitSet
from meterbench.regulations.clock import timebase_max_ppm
from meterbench.regulations.creep import creep_coefficient, creep_duration, creep_voltage
from meterbench.regulations.expressions import ExpressionError, parse_current
from meterbench.regulations.limits import check_class, mpe_lookup, rounding_interval
from meterbench.regulations.lookup import NotInProfile
from meterbench.regulations.numbers import CONTEXT, to_decimal
from meterbench.regulations.power_factor import parse_pf
from meterbench.regulations.profile import ElectricityProfile
from meterbench.regulations.pulses import SECONDS_PER_KWH_W, choose_pulses
from meterbench.regulations.readings import BorderlineRule, max_readings
from meterbench.regulations.register import register_test_energy_kwh
from meterbench.regulations.starting import (
    starting_current,
    starting_current_factor,
    starting_time,
)
from meterbench.regulations.std_dev import std_dev_limit
from meterbench.regulations.wiring import ELEMENTS, point_power_w, wiring_constant

LONG_STEP_S = Decimal(3600)


def check_meter(ctx: Expansion) -> None:
    """The meter's class must be covered by the profile (and with its connection)."""
    meter = _meter(ctx)
    try:
        check_class(_profile(ctx), meter.meter_class, meter.connection)
    except NotInProfile as exc:
        raise ctx.meter_error("class", str(exc)) from None


def creep(ctx: Expansion, item: CreepItem) -> CreepStep:
    meter, profile = _meter(ctx), _profile(ctx)
    basis = Basis()
    m = wiring_constant(meter.wiring)
    voltage = basis.use(creep_voltage(profile, meter.un_v))
    factor = profile.creep.voltage_factor.value
    current = basis.tagged(profile.creep.current_a)
    ist = (
        basis.use(
            starting_current(profile, meter.meter_class, meter.connection, meter.base_current_a)
        )
        if profile.creep.current_basis.value == "ist"
        else None
    )
    minutes = basis.use(
        creep_duration(
            profile, meter.meter_class, meter.constant_imp_per_kwh, m, meter.un_v, meter.imax_a, ist
        )
    )
    seconds = CONTEXT.multiply(CONTEXT.multiply(minutes, Decimal(60)), item.duration_multiplier)
    duration_s = int(seconds.to_integral_value(rounding="ROUND_CEILING"))
    max_pulses = basis.tagged(profile.creep.max_pulses)
    problems = _voltage_problems(ctx, voltage)
    k = creep_coefficient(profile, meter.meter_class).value
    i_name, i_value = ("Ist", ist) if ist is not None else ("Imax", meter.imax_a)
    why = Why(
        formula=f"Δt = K·10^6/(C·m·Un·{i_name}) min; U = {factor}·Un; pass if pulses <= "
        f"{max_pulses}",
        inputs={
            "K": text(k),
            "C": text(meter.constant_imp_per_kwh),
            "m": text(m, 6),
            "Un": text(meter.un_v),
            i_name: text(i_value),
            "duration_multiplier": text(item.duration_multiplier),
        },
        basis=basis.cites(),
    )
    return CreepStep(
        id=item.item_id,
        title=item.title or "no-load (creep) test",
        voltage_v=num(voltage, 3),
        voltage_factor=num(factor),
        current_a=num(current),
        duration_min=num(minutes, 4),
        duration_s=duration_s,
        max_pulses=max_pulses,
        feasible=not problems,
        problems=problems,
        time=duration(duration_s),
        why=why,
        unconfirmed=ctx.finish(basis),
    )


def starting(ctx: Expansion, item: StartingItem) -> StartingStep:
    meter, profile = _meter(ctx), _profile(ctx)
    basis = Basis()
    m = wiring_constant(meter.wiring)
    factor = basis.use(starting_current_factor(profile, meter.meter_class, meter.connection))
    ist = factor * meter.base_current_a
    t0 = basis.use(starting_time(profile, meter.constant_imp_per_kwh, m, meter.un_v, ist))
    pf = basis.tagged(profile.starting.pf)
    voltage = meter.un_v * basis.tagged(profile.starting.voltage_factor)
    required = item.confirm_pulses or basis.tagged(profile.starting.confirm_pulses)
    directions = ["P+"]
    if meter.bidirectional and basis.tagged(profile.starting.both_directions):
        directions.append("P-")
    t0_s = CONTEXT.multiply(t0, Decimal(60))
    window = CONTEXT.multiply(t0_s, Decimal(required))
    problems = _voltage_problems(ctx, voltage)
    why = Why(
        formula="Ist = factor·"
        + meter.base_current_name
        + "; t0 = k·60·1000/(C·m·Un·Ist) min; pass if pulse n arrives within n·t0",
        inputs={
            "factor": text(factor),
            meter.base_current_name: text(meter.base_current_a),
            "k": text(profile.starting.time_coefficient.value),
            "C": text(meter.constant_imp_per_kwh),
            "m": text(m),
            "Un": text(meter.un_v),
            "Ist": text(ist),
            "required_pulses": str(required),
        },
        basis=basis.cites(),
    )
    return StartingStep(
        id=item.item_id,
        title=item.title or "starting test",
        directions=directions,
        current_a=num(ist),
        current_factor=num(factor),
        pf=pf,
        voltage_v=num(voltage, 3),
        t0_min=num(t0, 4),
        t0_s=num(t0_s, 3),
        required_pulses=required,
        window_s=num(window, 3),
        feasible=not problems,
        problems=problems,
        time=duration(CONTEXT.multiply(window, Decimal(len(directions)))),
        why=why,
        unconfirmed=ctx.finish(basis),
    )


def basic_error(ctx: Expansion, item: BasicErrorItem, index: int) -> BasicErrorStep:
    basis = Basis()
    points: list[ErrorPoint] = []
    skipped: list[str] = []
    for p_index, spec in enumerate(item.points):
        reason = spec.applies_to(_meter(ctx))
        if reason:
            skipped.append(f"{_spec_label(spec)}: {reason}")
            continue
        for element in _elements(ctx, spec):
            field = f"items[{index}].points[{p_index}]"
            points.append(_error_point(ctx, spec, element, field, basis))
    _check_unique(ctx, points, index)
    if ctx.plan.plan.points_confidence == "unconfirmed":
        ctx.unconfirmed.add("plan.points")
    total_min = sum((p.time.min_s for p in points), Decimal(0))
    total_max = sum((p.time.max_s for p in points), Decimal(0))
    return BasicErrorStep(
        id=item.item_id,
        title=item.title or "basic error",
        points=points,
        skipped_points=skipped,
        time=duration(total_min, total_max),
        why=Why(basis=basis.cites(), notes=_acceptance_notes(ctx)),
        unconfirmed=ctx.finish(basis),
    )


def std_dev(ctx: Expansion, item: StdDevItem, index: int) -> StdDevStep | Skipped:
    meter, profile = _meter(ctx), _profile(ctx)
    section = profile.std_dev
    assert section is not None  # load_plan checked it
    basis = Basis()
    limit = std_dev_limit(profile, meter.meter_class)
    if limit is None:
        return Skipped(
            id=item.item_id,
            type=item.type,
            reason=f"profile {profile.id} requires no standard deviation test for class "
            f"{meter.meter_class}",
        )
    verification = ctx.plan.plan.verification
    if verification not in basis.tagged(section.verification):
        ctx.unconfirmed.update(basis.unconfirmed())
        return Skipped(
            id=item.item_id,
            type=item.type,
            reason=f"profile {profile.id} requires it for {', '.join(section.verification.value)} "
            f"verification, not {verification}",
        )
    limit_value = basis.use(limit)
    readings = basis.tagged(section.readings)
    interval = basis.use(rounding_interval(profile, meter.meter_class, "std_dev"))
    specs: list[tuple[LoadPoint, str]] = []
    if item.points is not None:
        specs = [(p, f"items[{index}].points[{i}]") for i, p in enumerate(item.points)]
    else:
        for i, row in enumerate(section.points):
            basis.entries.append(row)
            specs.append((LoadPoint(current=row.current, pf=row.pf), f"std_dev.points[{i}]"))
    points = []
    for spec, field in specs:
        point = _error_point(ctx, spec, "all", field, basis, readings_override=readings)
        points.append(
            StdDevPoint(
                point=point,
                readings=readings,
                limit=num(limit_value),
                std_dev_interval=num(interval),
            )
        )
    return StdDevStep(
        id=item.item_id,
        title=item.title or "standard deviation estimate",
        points=points,
        time=duration(sum((p.point.time.min_s for p in points), Decimal(0))),
        why=Why(
            formula="s = sqrt(Σ(γi − γ̄)²/(n − 1)), rounded to the std-dev interval; pass if "
            "s <= limit",
            inputs={"n": str(readings), "limit": text(limit_value), "interval": text(interval)},
            basis=basis.cites(),
        ),
        unconfirmed=ctx.finish(basis),
    )


def register(ctx: Expansion, item: RegisterItem, index: int) -> RegisterStep:
    meter, profile = _meter(ctx), _profile(ctx)
    section = profile.register_test
    assert section is not None  # load_plan checked it
    basis = Basis()
    current = _resolve(ctx, item.current, f"items[{index}].current")
    pf = parse_pf(item.pf)
    mpe = _mpe(ctx, meter, pf, current, "all", f"items[{index}]", basis)
    basis.tagged(section.limit)
    power = point_power_w(meter.wiring, meter.un_v, current, pf)
    d = meter.register_resolution_kwh
    ratio = basis.tagged(section.resolution_ratio)
    k = basis.tagged(section.reading_k)
    if item.energy_kwh is not None:
        energy = item.energy_kwh
        energy_note = "test energy set by the plan"
    else:
        energy = register_test_energy_kwh(d, mpe, ratio, k)
        energy_note = "W = k·d/(ratio·MPE), rounded up to whole digits"
    seconds = CONTEXT.divide(CONTEXT.multiply(energy, Decimal(SECONDS_PER_KWH_W)), power)
    if seconds > LONG_STEP_S:
        ctx.warnings.append(
            f"{item.item_id}: the register test takes {num(seconds / 3600, 2)} h at "
            f"{num(power, 1)} W; set energy_kwh in the plan to shorten it (coarser resolution)"
        )
    tolerance_digits = basis.tagged(section.ahead_tolerance_digits)
    problems = _current_problems(ctx, current)
    accumulate_over: list[str] = []
    notes = [energy_note]
    allowed = section.accumulate_over
    if item.accumulate and allowed is None:
        ctx.warnings.append(
            f"{item.item_id}: profile {profile.id} does not let the register test take its "
            "energy from the error points; it runs on its own"
        )
    elif item.accumulate and allowed is not None:
        accumulate_over = list(basis.tagged(allowed))
        notes.append(
            f"energy of the forward {', '.join(accumulate_over)} points counts; "
            "the rest is topped up at this load"
        )
    return RegisterStep(
        id=item.item_id,
        title=item.title or "register (meter constant) test",
        current_expr=item.current,
        current_a=num(current),
        pf=str(pf),
        voltage_v=num(meter.un_v, 3),
        power_w=num(power, 3),
        energy_kwh=num(energy),
        duration_s=num(seconds, 3),
        register_resolution_kwh=num(d),
        limits=limit_set(ctx, mpe, None, f"items[{index}]"),
        error_rounding=num(basis.tagged(section.error_rounding)),
        ahead_tolerance_kwh=num(tolerance_digits * d),
        tariffs=meter.tariffs,
        tariff_tolerance_digits_per_extra_tariff=basis.tagged(
            section.tariff_digits_per_extra_tariff
        ),
        accumulate_over=accumulate_over,
        feasible=not problems,
        problems=problems,
        time=duration(seconds),
        why=Why(
            formula="γ = (ΔW_register − W_reference)/W_reference·100 %; register must not lead "
            "N/C by more than the tolerance",
            inputs={
                "d": text(d),
                "MPE": text(mpe),
                "ratio": text(ratio),
                "k": text(k),
                "P": text(power, 3),
            },
            basis=basis.cites(),
            notes=notes,
        ),
        unconfirmed=ctx.finish(basis),
    )


def register_span(
    ctx: Expansion, item: RegisterSpanItem, index: int
) -> tuple[RegisterSpanStep, RegisterSpanStep]:
    """The two ends of the whole-run register check; the expansion puts the start before
    every other step and the end after them."""
    meter, profile = _meter(ctx), _profile(ctx)
    section = profile.register_span
    assert section is not None  # load_plan checked it
    basis = Basis()
    basis.tagged(section.limit)
    current_expr = basis.tagged(section.reference_current)
    pf = parse_pf(basis.tagged(section.reference_pf))
    current = _resolve(ctx, current_expr, f"items[{index}] (profile register_span)")
    mpe = _mpe(ctx, meter, pf, current, "all", f"items[{index}]", basis)
    digits = basis.tagged(section.reading_digits)
    share = basis.tagged(section.max_digit_share)
    directions = ["P+", "P-"] if meter.bidirectional else ["P+"]
    why = Why(
        formula="γ = (ΔW_register − W_reference)/W_reference·100 % per direction over the "
        "whole run; pass if |γ| <= MPE + 100·k·d/W_reference; no result when 100·k·d/W "
        "exceeds share·MPE",
        inputs={
            "MPE": f"{text(mpe)} % at {current_expr} PF {pf}",
            "d": text(meter.register_resolution_kwh),
            "k": text(digits),
            "share": text(share),
        },
        basis=basis.cites(),
        notes=[
            "not a JJG 596 item: catches registers that run wrong only away from the "
            "register test's load"
        ],
    )
    unconfirmed = ctx.finish(basis)

    def step(part: str) -> RegisterSpanStep:
        return RegisterSpanStep(
            id=item.item_id,
            title=item.title or "whole-run register check",
            part=part,  # type: ignore[arg-type]
            directions=directions,
            voltage_v=num(meter.un_v, 3),
            register_resolution_kwh=num(meter.register_resolution_kwh),
            reference_load=f"{current_expr} PF {pf}",
            limits=LimitSet(mpe=num(mpe)),
            reading_digits=num(digits),
            max_digit_share=num(share),
            error_rounding=num(basis.tagged(section.error_rounding)),
            why=why,
            unconfirmed=unconfirmed,
        )

    return step("start"), step("end")


def unannounced(ctx: Expansion, item: UnannouncedItem, index: int) -> list[UnannouncedStep]:
    """N unannounced points: only the range is planned; each load is drawn at run time."""
    meter = _meter(ctx)
    low = _resolve(ctx, item.current_low, f"items[{index}].current_low")
    high = _resolve(ctx, item.current_high, f"items[{index}].current_high")
    if low >= high:
        raise ctx.plan_error(
            f"items[{index}].current_low", f"{item.current_low} is not below {item.current_high}"
        )
    problems = _current_problems(ctx, high)
    if problems:
        raise ctx.plan_error(f"items[{index}].current_high", problems[0])
    directions = ["P+", "P-"] if item.reverse and meter.bidirectional else ["P+"]
    why = Why(
        formula="current log-uniform in [low, high], PF and direction uniform among those "
        "listed, drawn when the run reaches the point; then as a basic-error point",
        inputs={
            "low": f"{item.current_low} = {text(low)} A",
            "high": f"{item.current_high} = {text(high)} A",
            "pfs": ", ".join(item.pfs),
        },
        notes=["the loads are in the record, not in the plan: a meter cannot be tuned to them"],
    )
    return [
        UnannouncedStep(
            id=item.item_id,
            title=item.title or "unannounced points",
            index=n,
            current_low=item.current_low,
            current_high=item.current_high,
            current_low_a=num(low),
            current_high_a=num(high),
            pfs=[str(parse_pf(pf)) for pf in item.pfs],
            directions=directions,
            seed=item.seed,
            plan_id=ctx.plan.id,
            regulation=ctx.plan.plan.regulation,
            verification=ctx.plan.plan.verification,
            profile_overrides=dict(ctx.plan.profile_overrides),
            why=why,
        )
        for n in range(1, item.points + 1)
    ]


MIN_WINDOW_S = Decimal(20)


def tariff_switch(ctx: Expansion, item: TariffSwitchItem, index: int) -> TariffSwitchStep | Skipped:
    """The first boundary of the period table where the tariff changes, and windows long
    enough for the register to advance by ``window_digits`` at the load."""
    meter = _meter(ctx)
    why_not = None
    if meter.tariffs < 2:
        why_not = "the meter type has a single tariff"
    elif not meter.tariff_periods:
        why_not = "the meter type declares no tariff_periods"
    elif meter.protocol == "none" or not meter.clock:
        why_not = "tariff switching needs a clock and a protocol to set it"
    if why_not is not None:
        return Skipped(id=item.item_id, type=item.type, reason=why_not)
    periods = sorted(meter.tariff_periods, key=lambda p: p.minutes)
    boundary = next((p for i, p in enumerate(periods) if p.tariff != periods[i - 1].tariff), None)
    if boundary is None:
        return Skipped(id=item.item_id, type=item.type, reason="every period has the same tariff")
    before = meter.tariff_at((boundary.minutes - 1) % (24 * 60))
    assert before is not None
    current = _resolve(ctx, item.current, f"items[{index}].current")
    problems = _current_problems(ctx, current)
    if problems:
        raise ctx.plan_error(f"items[{index}].current", problems[0])
    pf = parse_pf(item.pf)
    power = point_power_w(meter.wiring, meter.un_v, current, pf)
    digits_s = CONTEXT.divide(
        CONTEXT.multiply(item.window_digits * meter.register_resolution_kwh, SECONDS_PER_KWH_W),
        power,
    )
    window = max(MIN_WINDOW_S, digits_s.to_integral_value(rounding="ROUND_CEILING"))
    return TariffSwitchStep(
        id=item.item_id,
        title=item.title or "tariff switching (时段投切)",
        boundary=boundary.start,
        tariff_before=before,
        tariff_after=boundary.tariff,
        tariff_names=list(meter.tariff_names),
        tariffs=meter.tariffs,
        current_a=num(current),
        pf=str(pf),
        voltage_v=num(meter.un_v, 3),
        power_w=num(power, 3),
        window_s=num(window),
        tolerance_s=num(item.tolerance_s),
        time=duration(2 * (window + item.tolerance_s)),
        why=Why(
            formula="meter clock set before the boundary; in a window ending tolerance_s "
            "before it only the period table's tariff before it may advance, in one starting "
            "tolerance_s after it only the tariff after it",
            inputs={
                "boundary": boundary.start,
                "window_s": text(window),
                "tolerance_s": text(item.tolerance_s),
                "P": text(power, 3),
            },
            notes=["not a JJG 596 item: a time-of-use function check (时段投切)"],
        ),
    )


def drawn_point(ctx: Expansion, current: str, pf: str, direction: str) -> ErrorPoint:
    """A load drawn at run time, expanded exactly as a planned basic-error point."""
    spec = LoadPoint(current=current, pf=pf, direction=direction)  # type: ignore[arg-type]
    return _error_point(ctx, spec, "all", "unannounced", Basis())


def clock(ctx: Expansion, item: ClockItem) -> ClockStep | Skipped:
    meter, profile = _meter(ctx), _profile(ctx)
    if not meter.clock:
        return Skipped(id=item.item_id, type=item.type, reason="the meter type has no clock")
    section = profile.clock
    assert section is not None  # load_plan checked it
    basis = Basis()
    readings = basis.tagged(section.readings)
    gate = item.gate_pulses or basis.tagged(section.gate_pulses)
    period = basis.tagged(section.nominal_period_s)
    limit = basis.tagged(section.limit_s_per_day)
    ratio = basis.tagged(section.timebase_ratio)
    gate_s = gate * period
    total = gate_s * readings
    alongside: list[str] = []
    if item.overlap and section.alongside is not None and meter.second_pulse_output == "own":
        alongside = list(basis.tagged(section.alongside))
    return ClockStep(
        id=item.item_id,
        title=item.title or "clock daily error",
        voltage_v=num(meter.un_v, 3),
        readings=readings,
        gate_pulses=gate,
        gate_s=num(gate_s, 3),
        total_s=num(total, 3),
        limit_s_per_day=num(limit),
        rounding_s_per_day=num(basis.tagged(section.rounding_s_per_day)),
        timebase_max_ppm=num(timebase_max_ppm(limit, ratio), 3),
        alongside=alongside,
        time=duration(total),
        why=Why(
            formula="daily error = (1 − T)/T·86400 s/d per reading; mean of the readings "
            "rounded; fail if any reading or the rounded mean is beyond the limit",
            inputs={
                "readings": str(readings),
                "gate_pulses": str(gate),
                "nominal_period_s": text(period),
            },
            basis=basis.cites(),
            notes=["time the second pulse against an external reference time base"],
        ),
        unconfirmed=ctx.finish(basis),
    )


def communication(ctx: Expansion, item: CommunicationItem) -> CommunicationStep | Skipped:
    protocol = ctx.meter.protocol
    if protocol == "none":
        return Skipped(id=item.item_id, type=item.type, reason="the meter type has no protocol")
    return CommunicationStep(
        id=item.item_id,
        title=item.title or "communication test",
        protocol=protocol,
        checks=list(item.checks),
    )


def time_setting(ctx: Expansion, item: TimeSettingItem) -> TimeSettingStep | Skipped:
    meter = _meter(ctx)
    if not meter.clock or meter.protocol == "none":
        return Skipped(
            id=item.item_id,
            type=item.type,
            reason="time setting needs a clock and a protocol to set it",
        )
    return TimeSettingStep(
        id=item.item_id,
        title=item.title or "time setting",
        protocol=meter.protocol,
        max_deviation_s=item.max_deviation_s,
    )


# --------------------------------------------------------------------------- helpers


def _error_point(
    ctx: Expansion,
    spec: LoadPoint,
    element: str,
    field: str,
    basis: Basis,
    readings_override: int | None = None,
) -> ErrorPoint:
    meter, profile, bench = _meter(ctx), _profile(ctx), ctx.bench
    point_basis = Basis()
    current = _resolve(ctx, spec.current, f"{field}.current")
    pf = parse_pf(spec.pf)
    mpe = _mpe(ctx, meter, pf, current, element, field, point_basis)
    interval = point_basis.use(rounding_interval(profile, meter.meter_class))
    section = profile.basic_error
    base = point_basis.tagged(section.readings_per_point)
    rule = BorderlineRule.from_profile(section.borderline)
    for entry in (section.borderline.enabled, section.judge_on):
        point_basis.tagged(entry)
    if rule.enabled:
        for entry in (
            section.borderline.low,
            section.borderline.high,
            section.borderline.extra_readings,
        ):
            point_basis.tagged(entry)
    if readings_override is not None:
        base, rule = readings_override, BorderlineRule.off()
    pulses_section = section.pulses
    ratio = point_basis.tagged(pulses_section.resolution_ratio)
    min_s = point_basis.tagged(pulses_section.min_reading_s)
    min_pulses = point_basis.tagged(pulses_section.min_pulses)
    power = point_power_w(meter.wiring, meter.un_v, current, pf, element)
    choice = choose_pulses(
        power,
        meter.constant_imp_per_kwh,
        interval,
        ratio,
        min_s,
        min_pulses,
        bench.reference_constant,
        bench.k_i,
        bench.k_u,
    )
    most = max_readings(base, rule)
    problems = _current_problems(ctx, current)
    inputs = {
        "current": f"{spec.current} = {text(current)} A",
        "P": f"{text(power, 3)} W",
        "C": text(meter.constant_imp_per_kwh),
        "interval": text(interval),
        "resolution_ratio": text(ratio),
        "min_reading_s": text(min_s),
    }
    if bench.reference_constant is not None:
        inputs["C0"] = text(bench.reference_constant)
        inputs["K_I·K_U"] = text(bench.k_i * bench.k_u)
    notes = []
    if bench.reference_constant is None:
        notes.append(
            "no reference constant given: N from the minimum reading time only, "
            "resolution not checked"
        )
    basis.entries.extend(point_basis.entries)
    return ErrorPoint(
        key=_point_key(spec, element),
        direction=spec.direction,
        element=element,
        current_expr=spec.current,
        current_a=num(current),
        pf=str(pf),
        voltage_v=num(meter.un_v, 3),
        power_w=num(power, 3),
        limits=limit_set(ctx, mpe, spec.acceptance, field),
        rounding_interval=num(interval),
        readings=ReadingRule(
            base=base,
            borderline_enabled=rule.enabled,
            borderline_low=num(rule.low),
            borderline_high=num(rule.high),
            extra=rule.extra_readings if rule.enabled else 0,
            max=most,
            judge_on=section.judge_on.value,
        ),
        pulses=PulsePlan(
            pulses_per_reading=choice.pulses,
            for_resolution=choice.for_resolution,
            for_time=choice.for_time,
            min_pulses=choice.min_pulses,
            reference_constant=None
            if bench.reference_constant is None
            else num(bench.reference_constant),
            expected_reference_pulses=None
            if choice.expected_reference_pulses is None
            else num(choice.expected_reference_pulses, 3),
            resolution_pct=None if choice.resolution_pct is None else num(choice.resolution_pct, 6),
            reading_time_s=num(choice.reading_time_s, 3),
        ),
        time=duration(choice.reading_time_s * base, choice.reading_time_s * most),
        feasible=not problems,
        problems=problems,
        why=Why(
            formula="N = max(ceil(m0_min·C·K_I·K_U/C0), ceil(P·t_min·C/3.6e6), N_min), "
            "m0_min = 100/(ratio·interval)",
            inputs=inputs,
            basis=point_basis.cites(),
            notes=notes,
        ),
    )


def _mpe(
    ctx: Expansion,
    meter: ElectricityMeterType,
    pf: object,
    current: Decimal,
    element: str,
    field: str,
    basis: Basis,
) -> Decimal:
    try:
        return basis.use(
            mpe_lookup(
                _profile(ctx),
                meter.meter_class,
                meter.connection,
                pf,
                current,
                meter.current_rating(),
                element,
            )
        )
    except NotInProfile as exc:
        raise ctx.plan_error(field, str(exc)) from None


def _acceptance_notes(ctx: Expansion) -> list[str]:
    if ctx.plan.acceptance is None:
        return []
    return ["acceptance limits are a customer's, judged separately from the MPE"]


def _resolve(ctx: Expansion, expression: str, field: str) -> Decimal:
    meter = _meter(ctx)
    try:
        current = parse_current(expression).evaluate(meter.current_rating())
    except ExpressionError as exc:
        raise ctx.plan_error(field, str(exc)) from None
    if current <= 0:
        raise ctx.plan_error(field, f"{expression!r} is not a positive current for this meter")
    return to_decimal(current)


def _elements(ctx: Expansion, spec: LoadPoint) -> list[str]:
    if spec.element == "each":
        return list(ELEMENTS[_meter(ctx).wiring])
    return [spec.element]


def _point_key(spec: LoadPoint, element: str) -> str:
    return f"{spec.direction}/{element}/{spec.current}/{parse_pf(spec.pf)}"


def _spec_label(spec: LoadPoint) -> str:
    return f"{spec.direction} {spec.element} {spec.current} PF {spec.pf}"


def _check_unique(ctx: Expansion, points: list[ErrorPoint], index: int) -> None:
    seen: set[tuple[str, str, Decimal, str]] = set()
    for point in points:
        identity = (point.direction, point.element, point.current_a, point.pf)
        if identity in seen:
            raise ctx.plan_error(
                f"items[{index}].points",
                f"point {point.key} repeats another point for this meter "
                f"({point.current_a} A, PF {point.pf})",
            )
        seen.add(identity)


def _voltage_problems(ctx: Expansion, voltage: Decimal) -> list[str]:
    limit = ctx.bench.max_voltage_v
    if limit is not None and voltage > limit:
        return [f"needs {num(voltage, 3)} V, the source gives at most {limit} V"]
    return []


def _current_problems(ctx: Expansion, current: Decimal) -> list[str]:
    limit = ctx.bench.max_current_a
    if limit is not None and current > limit:
        return [f"needs {num(current)} A, the source gives at most {limit} A"]
    return []


def _meter(ctx: Expansion) -> ElectricityMeterType:
    assert isinstance(ctx.meter, ElectricityMeterType)
    return ctx.meter


def _profile(ctx: Expansion) -> ElectricityProfile:
    assert isinstance(ctx.profile, ElectricityProfile)
    return ctx.profile
