"""The complete-meter item (总量检定): every heat meter's own heat register against the
reference heat, at the profile's flow/Δθ pairs, judged against E = Ef + Et + Ec.

A run is a standing start: with the baths settled at the point's supply and return
temperatures and the flow set in its band, the start valve closes, every meter's heat register
(CJ/T 188 901F) is read at rest and the master meter's pulses are counted from rest to rest;
the valve opens for the point's volume and closes; at rest again every register is read a
second time. The reference heat is Q = V·ρ(θ at the flow sensor)·(h(θs) − h(θr)) with V from the
master meter and θs, θr the reference thermometers' means over the run (IAPWS-IF97).

The register check rides along: the meter's volume register must advance with its heat (a
volume register that disagrees with the master meter by more than E is named), and a 901F
reply with undecodable fields is a register problem, failing the point whatever its error.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.kinds.heat.baths import reference_c, set_baths
from meterbench.kinds.heat.flow_sensor import regulator
from meterbench.kinds.heat.judge import conclude_error, store_error, stored_errors, text
from meterbench.kinds.heat.session import HeatDevices
from meterbench.kinds.water.flow import FlowProbe, WaterBenchError, reference_volume_l
from meterbench.kinds.water.standing import WINDOW_MS
from meterbench.plan.heat_model import HeatCompletePoint
from meterbench.regulations.heat import relative_error
from meterbench.regulations.water_properties import reference_heat_kj
from meterbench.results import Outcome, Severity
from meterbench.runner.channel import Channel
from meterbench.runner.context import RunContext
from meterbench.runner.items.measurement import no_result
from meterproto.cjt188.heat import HeatMeterData
from meterproto.link import messages as m

if TYPE_CHECKING:
    from meterbench.runner.items import PlannedStep

SECONDS_PER_HOUR = 3600
KJ_PER_KWH = 3600
RUN_MARGIN = 1.02
REGISTER_FIELDS = ("current heat", "cumulative volume")  # what the verdict rests on


async def heat_complete(ctx: RunContext, step: PlannedStep) -> None:
    devices = cast(HeatDevices, ctx.session.devices)
    groups: dict[tuple[Decimal, Decimal, Decimal, Decimal], list[int]] = {}
    for position in step.positions:
        point: HeatCompletePoint = step.for_position(ctx, position)
        key = (point.band_low_l_h, point.band_high_l_h, point.supply_c, point.return_c)
        groups.setdefault(key, []).append(position)
    for positions in groups.values():
        await _Point(ctx, step, devices, positions).execute()


async def read_heat(
    ctx: RunContext, positions: list[int], when: str, step_key: str
) -> dict[int, HeatMeterData]:
    """Every meter's 901F heat data; a meter that does not answer is logged and left out."""
    out: dict[int, HeatMeterData] = {}
    for position in positions:
        client = ctx.session.meters.get(position)
        if client is None:
            continue
        try:
            out[position] = await client.read_heat()
        except Exception as exc:  # noqa: BLE001 - this meter's problem only
            ctx.log(
                Severity.ERROR,
                "timeout",
                f"heat register read {when} the run: {exc}",
                position,
                step_key,
                trace=[e.to_dict() for e in client.bus.trace.last(12)],
            )
    return out


class _Point:
    def __init__(
        self, ctx: RunContext, step: PlannedStep, devices: HeatDevices, positions: list[int]
    ) -> None:
        self.ctx, self.step, self.devices = ctx, step, devices
        self.points: dict[int, HeatCompletePoint] = {
            p: step.for_position(ctx, p) for p in positions
        }
        self.readable: list[int] = []
        for position in positions:
            if position in ctx.session.meters:
                self.readable.append(position)
            else:
                why = "the meter has no CJ/T 188 port to read its heat register on"
                no_result(ctx, position, step.key, Outcome.NO_RESULT, why)
        self.values = {p: stored_errors(ctx, p, step.key) for p in self.readable}
        self.invalid = dict.fromkeys(self.readable, 0)
        self.failed: dict[int, str] = {}
        self.problems: dict[int, list[str]] = {p: [] for p in self.readable}
        self.facts: dict[str, Any] = {}

    def _todo(self) -> list[int]:
        limit = self.devices.water.config.max_attempts
        return [
            p
            for p in self.readable
            if len(self.values[p]) < self.points[p].runs
            and self.invalid[p] < limit
            and p not in self.failed
        ]

    async def execute(self) -> None:
        if not self.readable:
            return
        ctx, step, devices = self.ctx, self.step, self.devices
        first = self.points[self.readable[0]]
        await set_baths(ctx, devices, first.supply_c, first.return_c, step.key)
        water = devices.water.config
        probe = FlowProbe.for_positions(ctx, water, self.readable)
        band = (float(first.band_low_l_h), float(first.band_high_l_h))
        volume = max(Fraction(str(p.volume_l)) for p in self.points.values())
        while todo := self._todo():
            for p in todo:
                ctx.observer.position(p, f"{step.point}: setting {first.target_l_h} L/h")
            setting = await regulator(ctx, devices).set_flow(probe, float(first.target_l_h), *band)
            await self._run(todo, volume, setting.flow_l_h, band)
        for position in self.readable:
            self._conclude(position)

    async def _run(
        self, positions: list[int], volume_l: Fraction, flow_l_h: float, band: tuple[float, float]
    ) -> None:
        ctx, devices, key = self.ctx, self.devices, self.step.key
        water = devices.water
        config = water.config
        count = config.reference.count
        if count is None:
            raise WaterBenchError(
                "water.reference.count: the complete-meter test counts the master meter from "
                "rest to rest; name its channel"
            )
        await water.start_valve.close()
        await ctx.clock.sleep(config.rest_s)
        reference = Channel(ctx, count.controller, count.channel, "master meter")
        await reference.start_count(WINDOW_MS)
        before = await read_heat(ctx, positions, "before", key)
        t0 = await reference_c(devices)
        opened_at = ctx.clock.now()
        await water.start_valve.open()
        await ctx.clock.sleep(float(volume_l) / flow_l_h * SECONDS_PER_HOUR * RUN_MARGIN)
        await water.start_valve.close()
        closed_at = ctx.clock.now()
        await ctx.clock.sleep(config.rest_s)
        t1 = await reference_c(devices)
        after = await read_heat(ctx, positions, "after", key)
        ended = await reference.stop_count()
        if ended is None or ended[1] & m.WF_OVERRUN:
            raise WaterBenchError("the master meter's pulse count was lost")
        actual_l = reference_volume_l(config, ended[0])
        if actual_l <= 0:
            raise WaterBenchError("no water reached the master meter during the run")
        supply = (t0[0] + t1[0]) / 2
        ret = (t0[1] + t1[1]) / 2
        meter_type = cast(HeatMeterType, ctx.meter_type(positions[0]))
        # heating meters count h(θs) > h(θr), cooling meters the other way: the magnitude
        q_ref_kwh = abs(
            Fraction(
                reference_heat_kj(
                    float(actual_l) / 1000,
                    float(supply),
                    float(ret),
                    float(meter_type.pressure_mpa),
                    meter_type.installation,
                )
            )
            / KJ_PER_KWH
        )
        run_flow = actual_l / Fraction(closed_at - opened_at) * SECONDS_PER_HOUR
        inside = band[0] <= flow_l_h <= band[1]
        shared = {
            "method": "complete",
            "start": "standing",
            "reference_count": ended[0],
            "reference_pulses_per_l": config.reference.pulses_per_l,
            "reference_error_pct": config.reference.error_pct,
            "actual_l": text(actual_l),
            "supply_c": str(supply),
            "return_c": str(ret),
            "supply_readings_c": [str(t0[0]), str(t1[0])],
            "return_readings_c": [str(t0[1]), str(t1[1])],
            "pressure_mpa": str(meter_type.pressure_mpa),
            "density_at": meter_type.installation,
            "reference_heat_kwh": text(q_ref_kwh, 9),
            "steady_flow_l_h": round(flow_l_h, 4),
            "run_mean_flow_l_h": text(run_flow, 4),
            "valve_open_s": round(closed_at - opened_at, 3),
        }
        self.facts = {"supply_c": str(supply), "return_c": str(ret), "volume_l": text(volume_l, 3)}
        for position in positions:
            b, a = before.get(position), after.get(position)
            if b is None or a is None:
                self.failed[position] = "the heat register could not be read"
                continue
            try:
                indicated = Fraction(a.heat_kwh - b.heat_kwh)
                volume_m3 = Fraction(a.volume_m3 - b.volume_m3)
            except ValueError as exc:
                self.failed[position] = f"heat register: {exc}"
                continue
            error = relative_error(indicated, q_ref_kwh)
            raw = {
                **shared,
                "heat_before": str(b.heat),
                "heat_after": str(a.heat),
                "heat_unit": b.heat_unit,
                "indicated_kwh": text(indicated, 9),
                "volume_register_l": text(volume_m3 * 1000, 3),
                "meter_supply_c": None if a.supply_c is None else str(a.supply_c),
                "meter_return_c": None if a.return_c is None else str(a.return_c),
            }
            store_error(ctx, position, key, error, raw, inside)
            if not inside:
                self.invalid[position] += 1
                message = f"flow {flow_l_h:.3f} L/h outside {band[0]:g}..{band[1]:g} L/h"
                ctx.log(Severity.WARNING, "retry", message + ": run not used", position, key)
                continue
            self.values[position].append(error)
            problems = [
                f"901F {w}" for w in (*b.warnings, *a.warnings) if w.startswith(REGISTER_FIELDS)
            ]
            if volume_m3 <= 0 < indicated:
                problems.append("the volume register did not advance while heat was counted")
            self.problems[position].extend(problems)
            ctx.observer.position(position, f"{self.step.point}: {float(error):+.3f} %")

    def _conclude(self, position: int) -> None:
        point = self.points[position]
        if len(self.values[position]) < point.runs:
            reason = self.failed.get(position) or (
                f"the flow left its band in {self.invalid[position]} run(s)"
            )
            no_result(self.ctx, position, self.step.key, Outcome.NO_RESULT, reason)
            return
        c = point.components
        facts = {
            **self.facts,
            "delta_theta_k": str(point.delta_theta_k),
            "ef": str(c.ef),
            "et": str(c.et),
            "ec": str(c.ec),
            "e": str(c.e),
        }
        conclude_error(
            self.ctx,
            self.step.key,
            position,
            self.values[position],
            point.limits,
            point.rounding_interval,
            "E = Ef + Et + Ec",
            facts,
            self.problems[position],
        )


__all__ = ["heat_complete", "read_heat"]
