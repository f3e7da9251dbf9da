"""The water-meter error item (JJG 162): each flow point run over every meter in the line at
once, by the bench's method and start mode, and judged per meter.

The meters sit in series, so a point is one flow for all of them: meters whose points share a
flow band run together (normally the whole batch). For each run the flow is set and checked
steady, then the run gives every meter its indicated and actual volume; a run whose measured
flow left the point's band is stored as invalid and taken again (verification reference §2.3).
The error E = (Vi − Va)/Va of every valid run is a reading; the mean of the point's runs is
rounded and judged against the MPE of the point's zone (and an acceptance limit, apart). A
meter whose register disagrees with its own pulse output fails the point whatever its error.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from meterbench.kinds.water.flow import FlowProbe, FlowRegulator
from meterbench.kinds.water.flying import flying_run
from meterbench.kinds.water.runs import RunOutcome, decimal_text, pulse_value_l
from meterbench.kinds.water.session import WaterDevices
from meterbench.kinds.water.standing import standing_run
from meterbench.plan.model import WaterPoint
from meterbench.regulations.readings import Limits, judge_point
from meterbench.regulations.rounding import round_to_interval
from meterbench.regulations.water import water_error as error_of
from meterbench.results import LimitKind, Outcome, ReadingStatus, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import Measurement, conclude, no_result

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep

DEC = Decimal


async def water_error(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(WaterDevices, ctx.session.devices)
    groups: dict[tuple[Decimal, Decimal], list[int]] = {}
    for position in step.positions:
        point: WaterPoint = step.for_position(ctx, position)
        groups.setdefault((point.band_low_l_h, point.band_high_l_h), []).append(position)
    for positions in groups.values():
        await _Point(ctx, step, devices, positions).execute()


def _regulator(ctx: RunContext, devices: WaterDevices) -> FlowRegulator:
    if devices.regulator is None:
        devices.regulator = FlowRegulator(ctx, devices.config, devices.drive, devices.start_valve)
    regulator: FlowRegulator = devices.regulator
    regulator.ctx = ctx
    return regulator


def _unreadable(ctx: RunContext, devices: WaterDevices, position: int) -> str | None:
    """Why a meter cannot be measured in this start mode (None if it can)."""
    has_pulses = pulse_value_l(ctx, position) is not None
    if devices.config.start == "flying":
        return None if has_pulses else "a flying start gates on pulses; the meter has none"
    if has_pulses or position in ctx.session.meters:
        return None
    return "the meter has neither a pulse output nor a register the bench can read"


def _stored(ctx: RunContext, position: int, step_key: str) -> list[Fraction]:
    return [
        Fraction(r.value)
        for r in ctx.store.readings(ctx.run_id, step_key=step_key, position=position)
        if r.status in (ReadingStatus.OK, ReadingStatus.MARKED) and r.value is not None
    ]


class _Point:
    """One flow point over the meters whose points share its band: runs until every meter
    has its runs (or gave up), then a conclusion for each."""

    def __init__(
        self, ctx: RunContext, step: PlannedStep, devices: WaterDevices, positions: list[int]
    ) -> None:
        self.ctx = ctx
        self.step = step
        self.devices = devices
        self.points: dict[int, WaterPoint] = {p: step.for_position(ctx, p) for p in positions}
        self.first = self.points[positions[0]]
        self.band = (float(self.first.band_low_l_h), float(self.first.band_high_l_h))
        self.volume = max(Fraction(str(p.volume_l)) for p in self.points.values())
        self.readable: list[int] = []
        for position in positions:
            why = _unreadable(ctx, devices, position)
            if why is None:
                self.readable.append(position)
            else:
                no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
        self.values = {p: _stored(ctx, p, step.key) for p in self.readable}
        self.invalid = dict.fromkeys(self.readable, 0)
        self.gave_up: dict[int, str] = {}
        self.register_problems: dict[int, list[str]] = {p: [] for p in self.readable}
        self.flow: dict[int, Fraction] = {}
        self.temperature: Decimal | None = None

    def _todo(self) -> list[int]:
        limit = self.devices.config.max_attempts
        return [
            p
            for p in self.readable
            if len(self.values[p]) < self.points[p].runs
            and self.invalid[p] < limit
            and p not in self.gave_up
        ]

    async def execute(self) -> None:
        ctx, devices = self.ctx, self.devices
        regulator = _regulator(ctx, devices)
        probe = FlowProbe.for_positions(ctx, devices.config, self.readable)
        flying = devices.config.start == "flying"
        run = flying_run if flying else standing_run
        target = float(self.first.target_l_h)
        while todo := self._todo():
            for p in todo:
                ctx.observer.position(p, f"{self.step.point}: setting {target:g} L/h")
            setting = await self._set_flow(regulator, probe, target)
            outcome = await run(ctx, devices, todo, self.volume, setting, self.step.key)
            self.temperature = outcome.temperature_c
            self._check_temperature(outcome)
            for position in todo:
                self._record(position, outcome)
        if flying:
            await self._register_run(regulator, probe, target)
        for position in self.readable:
            self._conclude(position)

    async def _set_flow(self, regulator: FlowRegulator, probe: FlowProbe, target: float) -> Any:
        drain = self.devices.drain_valve
        if drain is not None and not drain.is_open:
            await drain.open()  # water setting the flow runs off the tank
        return await regulator.set_flow(probe, target, *self.band)

    async def _register_run(
        self, regulator: FlowRegulator, probe: FlowProbe, target: float
    ) -> None:
        """A flying start gates on pulses only, so a register that runs apart from its pulses
        would never be seen: the meters with a register get one standing run at the point,
        read at rest, where the register must agree with the pulses (one digit and one pulse)
        and with the reference volume (the point's MPE)."""
        ctx, devices, key = self.ctx, self.devices, self.step.key
        positions = [
            p
            for p in self.readable
            if p in ctx.session.meters
            and p not in self.gave_up
            and len(self.values[p]) >= self.points[p].runs
        ]
        if not positions:
            return
        if devices.config.method == "master_meter" and devices.config.reference.count is None:
            message = "no master-meter count channel: registers are not checked at flying start"
            ctx.log(Severity.WARNING, "conditions", message, step_key=key)
            return
        setting = await self._set_flow(regulator, probe, target)
        outcome = await standing_run(ctx, devices, positions, self.volume, setting, key)
        for position in positions:
            result = outcome.results.get(position)
            if result is None:
                problem = outcome.problems.get(position, "no result")
                ctx.log(Severity.WARNING, "isolated", f"register run: {problem}", position, key)
                continue
            raw = {**result.raw, "register_run": True, "actual_l": decimal_text(result.actual_l)}
            index = ctx.store.next_reading_index(ctx.run_id, position, key)
            ctx.append(ctx.reading(position, key, index, raw, None, "%"))
            problems = [result.register_problem] if result.register_problem else []
            register_l = result.raw.get("register_l")
            if register_l is not None:
                error = error_of(Fraction(register_l), result.actual_l)
                mpe = self.points[position].limits.mpe
                if abs(error) > mpe:
                    problems.append(
                        f"register advanced {register_l} L against the reference's "
                        f"{decimal_text(result.actual_l, 3)} L: "
                        f"{round_to_interval(error, DEC('0.01'))} % beyond ±{mpe} %"
                    )
            self.register_problems[position].extend(problems)

    def _check_temperature(self, outcome: RunOutcome) -> None:
        """The MPE is the one of the point's water temperature; say so when the water is not."""
        nominal = self.first.temperature_c
        limit = DEC(str(self.devices.config.temperature.max_deviation_c))
        if abs(outcome.temperature_c - nominal) > limit:
            message = f"water at {outcome.temperature_c} °C; the point is for {nominal} °C"
            self.ctx.log(Severity.WARNING, "conditions", message, step_key=self.step.key)

    def _record(self, position: int, outcome: RunOutcome) -> None:
        ctx, key = self.ctx, self.step.key
        problem = outcome.problems.get(position)
        if problem is not None:
            ctx.log(Severity.ERROR, "isolated", problem, position, key)
            self.gave_up[position] = problem
            return
        result = outcome.results[position]
        error = error_of(result.indicated_l, result.actual_l)
        low, high = self.band
        inside = low <= result.flow_l_h <= high
        raw = {
            **result.raw,
            "indicated_l": decimal_text(result.indicated_l),
            "actual_l": decimal_text(result.actual_l),
            "flow_l_h": decimal_text(result.flow_l_h, 4),
            "band_l_h": [str(self.first.band_low_l_h), str(self.first.band_high_l_h)],
        }
        if result.register_problem:
            raw["register_problem"] = result.register_problem
        index = ctx.store.next_reading_index(ctx.run_id, position, key)
        status = ReadingStatus.OK if inside else ReadingStatus.INVALID
        value = round_to_interval(error, DEC("0.0001"))
        ctx.append(ctx.reading(position, key, index, raw, value, "%", status=status))
        if not inside:
            self.invalid[position] += 1
            flow = float(result.flow_l_h)
            message = f"flow {flow:.3f} L/h outside {low:g}..{high:g} L/h: run not used"
            ctx.log(Severity.WARNING, "retry", message, position, key)
            return
        self.values[position].append(error)
        self.flow[position] = result.flow_l_h
        if result.register_problem:
            self.register_problems[position].append(result.register_problem)
        ctx.observer.position(position, f"{self.step.point}: {float(error):+.3f} %")

    def _conclude(self, position: int) -> None:
        point, water = self.points[position], self.devices.config
        if len(self.values[position]) < point.runs:
            reason = self.gave_up.get(position) or (
                f"the flow left its band in {self.invalid[position]} run(s)"
            )
            no_result(self.ctx, position, self.step.key, Outcome.NO_RESULT, reason)
            return
        _conclude(
            self.ctx,
            self.step.key,
            position,
            point,
            self.values[position],
            self.register_problems[position],
            {
                "flow_l_h": decimal_text(self.flow.get(position, Fraction(0)), 4),
                "temperature_c": None if self.temperature is None else str(self.temperature),
                "method": water.method,
                "start": water.start,
                "volume_l": str(self.volume),
            },
        )


def _conclude(
    ctx: RunContext,
    step_key: str,
    position: int,
    point: WaterPoint,
    values: list[Fraction],
    register_problems: list[str],
    facts: dict[str, Any],
) -> None:
    limits = Limits(point.limits.mpe, point.limits.acceptance)
    judged = judge_point(values, limits, point.rounding_interval, "rounded")
    details = {
        "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
        "display": judged.display,
        "interval": str(point.rounding_interval),
        "zone": point.zone,
        **facts,
    }
    if register_problems:
        details["register_problems"] = register_problems
    register_ok = not register_problems
    reason = None
    if not judged.mpe_pass:
        reason = f"{judged.display} % beyond ±{point.limits.mpe} % ({point.zone} zone)"
    elif not register_ok:
        reason = register_problems[0]
    mpe = Measurement(
        round_to_interval(judged.mean, DEC("0.000001")),
        judged.mpe_pass and register_ok,
        judged.rounded,
        -point.limits.mpe,
        point.limits.mpe,
        "%",
        reason=reason,
        details=details,
    )
    measurements = [mpe]
    if point.limits.acceptance is not None:
        acceptance = point.limits.acceptance
        passed = bool(judged.acceptance_pass) and register_ok
        measurements.append(mpe.against(LimitKind.ACCEPTANCE, -acceptance, acceptance, passed))
    say = f"{step_key}: {judged.display} % {'pass' if mpe.passed else 'fail'}"
    conclude(ctx, position, step_key, *measurements, say=say)


__all__ = ["water_error"]
