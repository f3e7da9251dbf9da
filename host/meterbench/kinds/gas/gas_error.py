"""The gas-meter error item (JJG 577): each flow point run over every meter in the line at
once from the bell prover (or master meter), and judged per meter.

The meters sit in series, so a point is one flow for all of them: meters whose points share a
flow band run together. Each run delivers the point's test volume (whole cyclic volumes,
enough for the register's resolution) from rest to rest; the reference volume is carried to
the meter line's pressure and temperature (and, for a bell over its water seal, the water
vapour taken out), and the indicated volume is the advance of the meter's register read over
CJ/T 188. A run whose mean flow left the point's band is stored as invalid and taken again.
The mean error of the point's runs is rounded and judged against the MPE of the point's zone.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, cast

from meterbench.kinds.gas.runs import GasRunOutcome, standing_run
from meterbench.kinds.gas.session import GasDevices
from meterbench.plan.gas_model import GasPoint
from meterbench.regulations.gas import gas_error as error_of
from meterbench.regulations.readings import Limits, judge_point
from meterbench.regulations.rounding import round_to_interval
from meterbench.results import LimitKind, Outcome, ReadingStatus, Severity
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import Measurement, conclude, no_result

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep

DEC = Decimal


async def gas_error(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(GasDevices, ctx.session.devices)
    groups: dict[tuple[Decimal, Decimal], list[int]] = {}
    for position in step.positions:
        point: GasPoint = step.for_position(ctx, position)
        groups.setdefault((point.band_low_l_h, point.band_high_l_h), []).append(position)
    for positions in groups.values():
        await _Point(ctx, step, devices, positions).execute()


def _stored(ctx: RunContext, position: int, step_key: str) -> list[Fraction]:
    return [
        Fraction(r.value)
        for r in ctx.store.readings(ctx.run_id, step_key=step_key, position=position)
        if r.status in (ReadingStatus.OK, ReadingStatus.MARKED) and r.value is not None
    ]


class _Point:
    """One flow point over the meters whose points share its band."""

    def __init__(
        self, ctx: RunContext, step: PlannedStep, devices: GasDevices, positions: list[int]
    ) -> None:
        self.ctx = ctx
        self.step = step
        self.devices = devices
        self.points: dict[int, GasPoint] = {p: step.for_position(ctx, p) for p in positions}
        self.first = self.points[positions[0]]
        self.band = (Fraction(self.first.band_low_l_h), Fraction(self.first.band_high_l_h))
        self.volume_l = max(p.volume_l for p in self.points.values())
        self.volume = Fraction(self.volume_l)
        self.humidity = devices.config.method == "bell" and self.first.humidity_correction
        self.positions = positions
        self.values = {p: _stored(ctx, p, step.key) for p in positions}
        self.invalid = dict.fromkeys(positions, 0)
        self.gave_up: dict[int, str] = {}
        self.register_problems: dict[int, list[str]] = {p: [] for p in positions}
        self.flow = Fraction(0)

    def _todo(self) -> list[int]:
        limit = self.devices.config.timing.max_attempts
        return [
            p
            for p in self.positions
            if len(self.values[p]) < self.points[p].runs
            and self.invalid[p] < limit
            and p not in self.gave_up
        ]

    async def execute(self) -> None:
        target = float(self.first.target_l_h)
        setpoint = target
        while todo := self._todo():
            for p in todo:
                self.ctx.observer.position(p, f"{self.step.point}: {target:g} L/h")
            outcome = await standing_run(
                self.ctx, self.devices, todo, self.volume, setpoint, self.humidity, self.step.key
            )
            self.flow = outcome.flow_l_h
            if outcome.flow_l_h > 0:
                # the next run's setpoint corrected by what this one delivered
                setpoint *= target / float(outcome.flow_l_h)
            for position in todo:
                self._record(position, outcome)
        for position in self.positions:
            self._conclude(position)

    def _record(self, position: int, outcome: GasRunOutcome) -> None:
        ctx, key = self.ctx, self.step.key
        problem = outcome.problems.get(position)
        if problem is not None:
            ctx.log(Severity.ERROR, "isolated", problem, position, key)
            self.gave_up[position] = problem
            return
        result = outcome.results[position]
        error = error_of(result.indicated_l, result.actual_l)
        low, high = self.band
        inside = low <= outcome.flow_l_h <= high
        raw = {
            **result.raw,
            "indicated_l": f"{float(result.indicated_l):.6f}",
            "actual_l": f"{float(result.actual_l):.6f}",
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
            message = (
                f"flow {float(outcome.flow_l_h):.3f} L/h outside "
                f"{float(low):g}..{float(high):g} L/h: run not used"
            )
            ctx.log(Severity.WARNING, "retry", message, position, key)
            return
        self.values[position].append(error)
        if result.register_problem:
            self.register_problems[position].append(result.register_problem)
        ctx.observer.position(position, f"{self.step.point}: {float(error):+.3f} %")

    def _same_sign(self, position: int, point: GasPoint, mean: Fraction) -> str | None:
        """The class 1.0 rule, judged at the last upper-zone point of the item: when every
        error from qt to qmax has one sign, none may exceed the limit. None: it holds (or
        does not apply yet)."""
        limit = point.same_sign_limit
        if limit is None or point.zone != "upper":
            return None
        prefix = self.step.key.rsplit("/", 1)[0]
        others = {f"{prefix}/{k}" for k in point.upper_points if k != point.key}
        means = [
            Fraction(c.mean)
            for c in self.ctx.store.conclusions(self.ctx.run_id)
            if c.position == position
            and c.step_key in others
            and c.limit_kind is LimitKind.MPE
            and c.mean is not None
        ]
        if len(means) != len(others):
            return None
        errors = [*means, mean]
        if not (all(e > 0 for e in errors) or all(e < 0 for e in errors)):
            return None
        if all(abs(e) <= Fraction(limit) for e in errors):
            return None
        sign = "positive" if errors[0] > 0 else "negative"
        return f"every error from qt to qmax is {sign} and one exceeds {limit} %"

    def _conclude(self, position: int) -> None:
        point = self.points[position]
        values = self.values[position]
        if len(values) < point.runs:
            reason = self.gave_up.get(position) or (
                f"the flow left its band in {self.invalid[position]} run(s)"
            )
            no_result(self.ctx, position, self.step.key, Outcome.NO_RESULT, reason)
            return
        limits = Limits(point.limits.mpe, point.limits.acceptance)
        judged = judge_point(values, limits, point.rounding_interval, "rounded")
        problems = self.register_problems[position]
        details = {
            "readings": [str(round_to_interval(v, DEC("0.0001"))) for v in values],
            "display": judged.display,
            "interval": str(point.rounding_interval),
            "zone": point.zone,
            "flow_l_h": f"{float(self.flow):.3f}",
            "volume_l": str(self.volume_l),
            "cycles": str(point.cycles),
            "method": self.devices.config.method,
            "humidity_correction": self.humidity,
        }
        if problems:
            details["register_problems"] = problems
        reason = None
        same_sign = self._same_sign(position, point, judged.mean)
        if not judged.mpe_pass:
            reason = f"{judged.display} % beyond ±{point.limits.mpe} % ({point.zone} zone)"
        elif problems:
            reason = problems[0]
        elif same_sign is not None:
            reason = same_sign
            details["same_sign_limit"] = str(point.same_sign_limit)
        mpe = Measurement(
            round_to_interval(judged.mean, DEC("0.000001")),
            judged.mpe_pass and not problems and same_sign is None,
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
            passed = bool(judged.acceptance_pass) and not problems
            measurements.append(mpe.against(LimitKind.ACCEPTANCE, -acceptance, acceptance, passed))
        say = f"{self.step.key}: {judged.display} % {'pass' if mpe.passed else 'fail'}"
        conclude(self.ctx, position, self.step.key, *measurements, say=say)


__all__ = ["gas_error"]
