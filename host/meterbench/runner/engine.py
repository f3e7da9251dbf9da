"""A verification run from start to finish, and its resumption after a crash.

Before anything is switched on, the bench, plan and meter list are validated and the plan is
expanded for every meter type; the expansions, bench config and meter list are snapshotted into
the run record, so ``resume`` continues from the record alone, exactly as planned, even if the
files changed since. Steps run in plan order; positions that already have a conclusion for a
step are skipped, and a step interrupted half-way keeps its stored readings and takes only the
ones still missing. At the end, batch statistics are computed from the stored conclusions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from meterbench import __version__
from meterbench.bench_open import open_bench
from meterbench.clock import Clock
from meterbench.config.bench import BenchConfig, load_bench
from meterbench.config.errors import ConfigError
from meterbench.config.lab import bench_lab, bench_lab_key, lab_snapshot
from meterbench.config.plans import load_plan
from meterbench.devices.controller import ControllerError
from meterbench.devices.source import SourceError
from meterbench.plan.bench import BenchContext
from meterbench.plan.expand import expand_plan
from meterbench.plan.model import PlanExpansion
from meterbench.regulations.batch import MeterPointValue, batch_statistics
from meterbench.results import (
    BatchStatistic,
    Environment,
    Event,
    Outcome,
    Position,
    ResultsStore,
    Run,
    RunStatus,
    Severity,
    Step,
    new_run_id,
)
from meterbench.results.lots import lot_statistics_for, lot_verdict_for
from meterbench.runner.admission import check_admission
from meterbench.runner.context import NullObserver, Observer, RunContext
from meterbench.runner.control import Control
from meterbench.runner.health import LinkHealth
from meterbench.runner.items import PlannedStep
from meterbench.runner.meters import MeterEntry, check_meters_against_bench, load_meters
from meterbench.runner.recorded import RecordError, last_stored_time, resume_inputs
from meterbench.runner.schedule import build_schedule, remaining_seconds
from meterbench.runner.session import BenchOpenError, OpenOptions, open_session
from meterbench.runner.stopping import describe, safe_stop
from meterbench.runner.supervise import Stopped, Supervisor, watchdog
from meterbench.runner.timing import Timing, estimate_s
from meterbench.waits import stop_task
from meterproto.dlt645.messages import Password

STALL_S = 120.0  # wall seconds without a stored row before the watchdog stops the run


class RunError(Exception):
    """The run could not start or had to stop; the message says why."""

    exit_code = 1


class NothingToResume(RunError):
    """Resume of a run that is completed or aborted: refused at the door."""

    exit_code = 2


class NotResumable(RunError):
    """Resume of a record that lacks what a run is rebuilt from (names what): refused."""

    exit_code = 2


class RunInterrupted(RunError):
    """Stopped by SIGINT/SIGTERM: everything safe, the run resumable."""

    def __init__(self, message: str, signal_name: str) -> None:
        super().__init__(message)
        self.exit_code = 143 if signal_name == "SIGTERM" else 130


class RunAborted(RunError):
    """Ended for good by the operator (``meterbench abort``)."""

    exit_code = 3


@dataclass
class RunOptions:
    bench: Path
    plan: Path
    meters: Path
    db: str | Path | None = None  # an SQLite file or a postgresql:// URL
    verifier: str | None = None
    checker: str | None = None
    task: str | None = None
    temperature_c: Decimal | None = None
    humidity_pct: Decimal | None = None
    time_scale: float | None = None
    password: Password = field(default_factory=lambda: Password(2, "000000"))
    operator: int = 0


@dataclass
class Prepared:
    """Everything validated and expanded, nothing switched on yet."""

    bench: BenchConfig
    bench_path: Path
    meters: list[MeterEntry]
    expansions: dict[str, PlanExpansion]
    plan_id: str
    regulation: str
    lab: dict[str, object] | None = None  # the lab profile's snapshot, when the bench names one


def prepare(options: RunOptions) -> Prepared:
    """Validate bench, plan and meter list and expand the plan per meter type; ConfigError
    names the file and field of the first problem."""
    bench = load_bench(options.bench)
    plan = load_plan(options.plan)
    meters = load_meters(options.meters)
    check_meters_against_bench(bench, meters, options.meters)
    numbers = {p.number for p in bench.positions}
    kind = bench.kind
    for entry in meters:
        if entry.position not in numbers:
            raise ConfigError(
                options.meters,
                "position",
                f"position {entry.position} does not exist on bench "
                f"{bench.bench.id} (it has {min(numbers)}-{max(numbers)})",
            )
        if not isinstance(entry.meter_type, kind.meter_type_model):
            what = f"{kind.article} {kind.name}"
            raise ConfigError(
                options.meters,
                "type",
                f"{entry.type_name} is not {what} meter; this bench is {what} bench",
            )
    context = bench_context(bench)
    expansions: dict[str, PlanExpansion] = {}
    for entry in meters:
        if entry.type_id not in expansions:
            expansions[entry.type_id] = expand_plan(plan, entry.meter_type, bench=context)
    for step in planned_steps(expansions, meters):
        if step.item not in kind.executors:
            raise ConfigError(
                options.plan, "items", f"{kind.name} benches have no {step.item!r} item"
            )
    check_admission(bench, expansions, options.bench)
    lab = bench_lab(bench.lab, options.bench)
    return Prepared(
        bench,
        Path(options.bench),
        meters,
        expansions,
        plan.id,
        plan.plan.regulation,
        None if lab is None else lab_snapshot(lab),
    )


def bench_context(bench: BenchConfig) -> BenchContext:
    """What the plan expansion needs to know about this bench (its kind says)."""
    return bench.kind.plan_context(bench)


def planned_steps(
    expansions: dict[str, PlanExpansion], meters: list[MeterEntry]
) -> list[PlannedStep]:
    """Plan order, one PlannedStep per step or load point, shared by the types that have it.

    Meter types are taken in the order of the meter list (by position), never in the order of
    the ``expansions`` mapping: a run rebuilt from its stored snapshot (whose keys come back
    sorted) must execute its steps in exactly the order of the fresh run.
    """
    order: list[str] = []
    steps: dict[str, PlannedStep] = {}
    types = list(dict.fromkeys(m.type_id for m in meters if m.type_id in expansions))
    types += [t for t in expansions if t not in types]
    for type_id in types:
        expansion = expansions[type_id]
        for step in expansion.steps:
            if step.type == "manual":  # carried out and recorded by a person, not the bench
                continue
            for planned in step.planned():
                if planned.key not in steps:
                    order.append(planned.key)
                    steps[planned.key] = PlannedStep(
                        planned.key,
                        step.type,
                        planned.point,
                        len(order) - 1,
                        planned.title,
                        {},
                        batch_statistics=step.batch_statistics,
                    )
                steps[planned.key].by_type[type_id] = planned.model
    for each in steps.values():
        each.positions = [m.position for m in meters if m.type_id in each.by_type]
    return [steps[key] for key in order]


def _places(value: Decimal | None) -> Decimal | None:
    """Batch figures to a millionth of a percent: exact enough, readable in reports."""
    return None if value is None else value.quantize(Decimal("0.000001"))


def _parameters(step: PlannedStep) -> dict[str, Any]:
    return {
        type_id: model.model_dump(mode="json", exclude={"why"})
        for type_id, model in step.by_type.items()
    }


class Runner:
    def __init__(
        self, store: ResultsStore, observer: Observer | None = None, stall_s: float = STALL_S
    ) -> None:
        self.store = store
        self.observer = observer or NullObserver()
        self.stall_s = stall_s  # the watchdog's floor; a long step gets more (_stall_limit)
        self._current = "opening the bench"
        self._step_wall_s = 0.0
        self._paused = False

    def _stall_limit(self) -> float:
        """Wall seconds without a stored row before the run counts as stalled: the floor, or
        three times what the plan says the current step takes, whichever is longer."""
        if self._paused:
            return float("inf")  # waiting for the operator is not a stall
        return max(self.stall_s, 3 * self._step_wall_s)

    async def start(self, options: RunOptions) -> str:
        """A new run; returns its id. RunError/ConfigError before anything is switched on."""
        prepared = prepare(options)
        return await self._execute(prepared, options, None)

    async def run_prepared(self, prepared: Prepared, options: RunOptions) -> str:
        """A new run of an already prepared batch (validated and expanded by the caller)."""
        return await self._execute(prepared, options, None)

    async def resume(self, run_id: str, options: RunOptions) -> str:
        """Continue an interrupted run from its record."""
        run = self.store.get_run(run_id)
        status = self.store.status(run_id)
        if status is not None and status in (RunStatus.COMPLETED, RunStatus.ABORTED):
            raise NothingToResume(f"run {run_id} is {status.value}; there is nothing to resume")
        try:
            inputs = resume_inputs(run, self.store.snapshots(run_id), self.store.positions(run_id))
        except RecordError as exc:
            raise NotResumable(str(exc)) from None
        options = RunOptions(
            bench=inputs.files["bench_file"],
            plan=inputs.files["plan_file"],
            meters=inputs.files["meters_file"],
            db=options.db,
            time_scale=options.time_scale,
            password=options.password,
            operator=options.operator,
        )
        prepared = Prepared(
            inputs.bench, options.bench, inputs.meters, inputs.expansions, run.plan, run.regulation
        )
        return await self._execute(prepared, options, run_id)

    async def _execute(self, prepared: Prepared, options: RunOptions, resume_id: str | None) -> str:
        # The lab's key signs the run's chain head when the run closes (a missing key file
        # is a ConfigError here, before anything is switched on).
        # A resumed run reads no input file again: a lab key that cannot be read then leaves
        # the run to close unsigned, with an event saying how to sign it afterwards.
        unsigned = None
        try:
            key = bench_lab_key(prepared.bench.lab, prepared.bench_path)
        except ConfigError as exc:
            if resume_id is None:
                raise
            key, unsigned = None, exc.one_line()
        if key is not None:
            self.store.signer = key
        start = None if resume_id is None else last_stored_time(self.store, resume_id)
        bench_opened = open_bench(prepared.bench, prepared.bench_path, options.time_scale, start)
        async with bench_opened as bench:
            config, clock = bench.config, bench.clock
            # the operator of a simulated run learns first which failures are intended (a
            # kind's simulator may not describe its faults)
            notes = getattr(bench.simulator, "fault_notes", None)
            for note in notes({m.position for m in prepared.meters}) if notes else ():
                self.observer.event("simulated fault", note)
            opening = OpenOptions(options.password, options.operator, clock)
            try:
                session = await open_session(config, prepared.meters, opening)
            except BenchOpenError as exc:
                raise RunError(f"cannot open the bench: {exc}") from exc
            try:
                run_id = resume_id or self._create_run(prepared, options, session.firmware, clock)
                if resume_id is not None:
                    self._mark_resumed(run_id, clock)
                ctx = RunContext(
                    run_id,
                    self.store,
                    session,
                    clock,
                    {m.position: m for m in prepared.meters},
                    self.observer,
                )
                if unsigned is not None:
                    ctx.log(
                        Severity.WARNING,
                        "unsigned",
                        f"the lab's key could not be read ({unsigned}); the run closes "
                        f"unsigned: sign it with `meterbench records sign {run_id} --lab LAB`",
                    )
                supervisor = Supervisor()
                supervisor.install()
                try:
                    await self._supervised(ctx, prepared, supervisor)
                finally:
                    supervisor.remove()
                    for router in ctx.routers.values():
                        await router.close()
                return run_id
            finally:
                await session.close()

    async def _safe_off(self, ctx: RunContext) -> None:
        await ctx.session.safe_off()

    async def _supervised(self, ctx: RunContext, prepared: Prepared, sup: Supervisor) -> None:
        """Steps and statistics under supervision; every way of ending is recorded."""
        run_id, config = ctx.run_id, ctx.session.config
        control = Control(self.store, run_id)

        async def watch() -> None:
            await control.watch(lambda why: sup.stop("abort", why))

        def stalled(seconds: float) -> None:
            sup.stop("stall", f"nothing stored for {seconds:.0f} s in {self._current}")

        async def guard() -> None:
            await watchdog(lambda: self.store.rows_stored, self._stall_limit, stalled)

        try:
            await sup.run(self._work(ctx, prepared, control), watch, guard)
            await self._safe_off(ctx)
            self.store.set_status(run_id, RunStatus.COMPLETED, ctx.now())
        except Stopped as stop:
            safe = describe(await safe_stop(ctx.session))
            if stop.how == "abort":
                ctx.log(Severity.WARNING, "aborted", f"run aborted: {stop.why}; {safe}")
                self.store.set_status(run_id, RunStatus.ABORTED, ctx.now(), stop.why)
                raise RunAborted(f"run {run_id} aborted: {stop.why}; {safe}") from None
            if stop.how == "stall":
                ctx.log(Severity.ERROR, "no_progress", f"run stopped: {stop.why}; {safe}")
                self.store.set_status(run_id, RunStatus.INTERRUPTED, ctx.now(), stop.why)
                raise RunError(
                    f"run {run_id} stopped: {stop.why}; {safe}; check the bench and "
                    f"'meterbench resume {run_id}'"
                ) from None
            ctx.log(Severity.WARNING, "interrupted", f"run interrupted by {stop.why}; {safe}")
            self.store.set_status(
                run_id, RunStatus.INTERRUPTED, ctx.now(), f"interrupted by {stop.why}"
            )
            raise RunInterrupted(
                f"run {run_id} interrupted by {stop.why}; {safe}; "
                f"continue it with: meterbench resume {run_id}",
                stop.why,
            ) from None
        except SourceError as exc:
            ctx.log(Severity.ERROR, "source_unstable", f"run stopped: {exc}")
            safe = describe(await safe_stop(ctx.session))
            self.store.set_status(run_id, RunStatus.INTERRUPTED, ctx.now(), str(exc))
            what = config.kind.stop_hint
            raise RunError(
                f"run {run_id} stopped: {exc}; {safe}; fix {what} and 'meterbench resume {run_id}'"
            ) from exc
        except ControllerError as exc:
            ctx.log(Severity.ERROR, "controller_lost", f"run stopped: {exc}")
            safe = describe(await safe_stop(ctx.session))
            self.store.set_status(run_id, RunStatus.INTERRUPTED, ctx.now(), str(exc))
            raise RunError(
                f"run {run_id} stopped: {exc}; {safe}; reconnect it and "
                f"'meterbench resume {run_id}'"
            ) from exc

    async def _work(self, ctx: RunContext, prepared: Prepared, control: Control) -> None:
        await self._steps(ctx, prepared, control)
        self._batch_statistics(ctx, prepared)

    async def _pause_point(self, ctx: RunContext, control: Control) -> None:
        """Between points: honour a pause (everything safe while paused)."""
        control.poll()
        if not control.state.paused:
            return
        safe = describe(await safe_stop(ctx.session))
        ctx.log(Severity.INFO, "paused", f"run paused by the operator; {safe}")
        self.observer.event("info", f"paused; 'meterbench continue {ctx.run_id}' goes on")
        ctx.forget_settings()
        self._paused = True
        try:
            await control.while_paused()
        finally:
            self._paused = False
        ctx.log(Severity.INFO, "continued", "run continued by the operator")

    def _take_out(
        self, ctx: RunContext, step: PlannedStep, positions: list[int], control: Control
    ) -> None:
        """Positions the operator took out get no result for this step, with the reason."""
        ctx.append(
            *(
                ctx.conclusion(
                    p,
                    step.key,
                    Outcome.NO_RESULT,
                    reason=f"taken out: {control.state.taken_out[p]}",
                )
                for p in positions
            )
        )

    def _create_run(
        self, prepared: Prepared, options: RunOptions, firmware: dict[str, Any], clock: Clock
    ) -> str:
        started = clock.datetime()
        run_id = new_run_id(started, prepared.bench.bench.id)
        profiles = {t: e.profile.model_dump(mode="json") for t, e in prepared.expansions.items()}
        run = Run(
            run_id=run_id,
            started_at=started,
            bench=prepared.bench.bench.id,
            plan=prepared.plan_id,
            regulation=prepared.regulation,
            regulation_version=next(iter(profiles.values()))["version"] if profiles else None,
            software_version=__version__,
            verifier=options.verifier,
            checker=options.checker,
            task=options.task,
            environment=Environment(
                temperature_c=options.temperature_c,
                humidity_pct=options.humidity_pct,
                place=prepared.bench.bench.location or None,
            ),
            extra={
                "bench_file": os.fspath(options.bench.resolve()),
                "plan_file": os.fspath(options.plan.resolve()),
                "meters_file": os.fspath(options.meters.resolve()),
                "simulated": prepared.bench.simulated,
            },
        )
        meter_types = {
            m.type_id: json.loads(m.meter_type.model_dump_json(by_alias=True))
            for m in prepared.meters
        }
        self.store.create_run(
            run,
            snapshots={
                "bench_config": prepared.bench.model_dump(mode="json", by_alias=True),
                "plan": {t: e.to_json_dict() for t, e in prepared.expansions.items()},
                "meter_types": meter_types,
                "meters": [
                    {
                        "position": m.position,
                        "type": m.type_id,
                        "serial": m.serial,
                        "asset": m.asset,
                        "address": m.address,
                        "lot": m.lot or run_id,
                    }
                    for m in prepared.meters
                ],
                "regulation_profile": profiles,
                "firmware_versions": firmware,
                **({} if prepared.lab is None else {"lab": prepared.lab}),
            },
        )
        self.store.append(
            *(
                Position(
                    run_id=run_id,
                    position=m.position,
                    meter_type=m.type_id,
                    serial_no=m.serial,
                    asset_no=m.asset or None,
                    address=m.address,
                    customer=m.customer or None,
                    nameplate=meter_types[m.type_id],
                    lot=m.lot or run_id,
                )
                for m in prepared.meters
            )
        )
        return run_id

    def _mark_resumed(self, run_id: str, clock: Clock) -> None:
        now = clock.datetime()
        if self.store.status(run_id) == RunStatus.RUNNING:
            self.store.set_status(run_id, RunStatus.INTERRUPTED, now, "process ended mid-run")
        self.store.set_status(run_id, RunStatus.RUNNING, now, "resumed")
        done = sum(len(steps) for steps in self.store.completed_steps(run_id).values())
        self.store.append(
            Event(
                run_id=run_id,
                at=now.astimezone(UTC),
                severity=Severity.INFO,
                kind="resumed",
                message=f"run resumed; {done} position-steps were already concluded and are kept",
            )
        )

    async def _steps(self, ctx: RunContext, prepared: Prepared, control: Control) -> None:
        steps = planned_steps(prepared.expansions, prepared.meters)
        done = self.store.completed_steps(ctx.run_id)
        links = LinkHealth(ctx.session)
        entries = build_schedule(steps, lambda p: ctx.meters[p].type_id, estimate_s)
        timing = Timing(ctx.clock, remaining_seconds(entries, estimate_s))
        companions: list[tuple[asyncio.Task[None], frozenset[str]]] = []
        try:
            for index, entry in enumerate(entries):
                step = entry.step
                # a companion ends before the first step it may not run alongside
                for task, items in list(companions):
                    if entry.companion or step.item not in items:
                        companions.remove((task, items))
                        await task
                todo = [p for p in step.positions if step.key not in done.get(p, frozenset())]
                if not todo:
                    continue
                await self._pause_point(ctx, control)
                out = [p for p in todo if p in control.state.taken_out]
                todo = [p for p in todo if p not in control.state.taken_out]
                title = f"{step.title} ({timing.line(index)})"
                if entry.part:
                    when = "before" if entry.part == "open" else "after"
                    title = (
                        f"{step.title}: registers {when} the error points ({timing.line(index)})"
                    )
                if entry.companion:
                    title = f"{step.title}, alongside the next steps ({timing.line(index)})"
                else:  # a part of a split step is watched like the step (its own run at most)
                    self._current = f"step {step.key}"
                    self._step_wall_s = ctx.clock.wall_seconds(estimate_s(step))
                self.observer.step(title, index + 1, len(entries))
                self._store_step(ctx, step)
                if out:
                    self._take_out(ctx, step, out, control)
                if not todo:
                    continue
                pending = step.only(todo)
                pending.part = entry.part
                if entry.companion:
                    pending.alongside = True
                    task = asyncio.get_running_loop().create_task(
                        self._run_step(ctx, pending, links)
                    )
                    companions.append((task, entry.alongside))
                    continue
                await self._run_step(ctx, pending, links)
            for task, _ in companions:
                await task
            companions.clear()
        finally:
            for task, _ in companions:  # the run stopped: a companion stops with it
                with contextlib.suppress(Exception):
                    await stop_task(task)

    def _store_step(self, ctx: RunContext, step: PlannedStep) -> None:
        ctx.append(
            Step(
                run_id=ctx.run_id,
                step_key=step.key,
                ordinal=step.ordinal,
                item=step.item,
                point=step.point,
                parameters=_parameters(step),
            )
        )

    async def _run_step(self, ctx: RunContext, step: PlannedStep, links: LinkHealth) -> None:
        started = ctx.clock.now()
        await self._with_source_retries(ctx, step)
        await links.report(ctx, step.key)
        self.observer.step_done(step.key, started, ctx.clock.now())

    async def _with_source_retries(self, ctx: RunContext, step: PlannedStep) -> None:
        """An unstable source gets two more chances (it may settle) before the run stops."""
        for attempt in range(3):
            try:
                await ctx.session.config.kind.executors[step.item](ctx, step)
                return
            except SourceError as exc:
                if attempt == 2:
                    raise
                ctx.log(
                    Severity.WARNING,
                    "source_unstable",
                    f"{exc}; setting the source again",
                    step_key=step.key,
                )
                ctx.forget_settings()
                done = self.store.completed_steps(ctx.run_id)
                step.positions = [
                    p for p in step.positions if step.key not in done.get(p, frozenset())
                ]
                await ctx.clock.sleep(5.0)

    def _batch_statistics(self, ctx: RunContext, prepared: Prepared) -> None:
        self._run_statistics(ctx, prepared)
        self._lot_statistics(ctx)

    def _lot_statistics(self, ctx: RunContext) -> None:
        """Every lot of the run over every run of the lot, with its verdict, stored in this run.
        Stamped with the lot's latest conclusion, so a resumed run replays the same records."""
        lots = sorted({p.lot or ctx.run_id for p in self.store.load_run(ctx.run_id).positions})
        for lot in lots:
            records = lot_statistics_for(self.store, lot, run_id=ctx.run_id)
            self.store.append(*records, lot_verdict_for(self.store, lot, run_id=ctx.run_id))

    def _run_statistics(self, ctx: RunContext, prepared: Prepared) -> None:
        by_type = {t: e for t, e in prepared.expansions.items() if e.batch_statistics}
        if not by_type:
            return
        values: list[MeterPointValue] = []
        intervals: dict[str, Decimal] = {}
        error_steps = {
            s.key for s in planned_steps(prepared.expansions, prepared.meters) if s.batch_statistics
        }
        for conclusion in self.store.conclusions(ctx.run_id):
            if conclusion.limit_kind.value != "mpe" or conclusion.step_key not in error_steps:
                continue
            meter = ctx.meters.get(conclusion.position)
            if meter is None or meter.type_id not in by_type:
                continue
            has_value = conclusion.outcome in (Outcome.PASS, Outcome.FAIL)
            values.append(
                MeterPointValue(
                    meter_id=meter.serial,
                    type_id=meter.type_id,
                    point_id=conclusion.step_key,
                    mean_error=conclusion.mean if has_value else None,
                    position=meter.position,
                    rounded=conclusion.rounded,
                    verdict=conclusion.outcome.value,
                )
            )
            interval = conclusion.details.get("interval") if conclusion.details else None
            if interval:
                intervals[meter.type_id] = Decimal(str(interval))
        records = []
        for stat in batch_statistics(values, intervals or None):
            records.append(
                BatchStatistic(
                    run_id=ctx.run_id,
                    meter_type=stat.type_id,
                    step_key=stat.point_id,
                    at=ctx.now(),
                    n=stat.n,
                    verdict={"pass": Outcome.PASS, "fail": Outcome.FAIL}.get(
                        stat.verdict, Outcome.NO_RESULT
                    ),
                    mean=_places(stat.mean),
                    std=_places(stat.std),
                    minimum=stat.min,
                    maximum=stat.max,
                    unit="%",
                    members=tuple(
                        {
                            "serial": v.meter_id,
                            "position": v.position,
                            "mean": None if v.mean_error is None else str(v.mean_error),
                            "verdict": v.verdict,
                        }
                        for v in stat.meters + stat.no_result
                    ),
                )
            )
        if records:
            self.store.append(*records)


async def run_batch(options: RunOptions, observer: Observer | None = None) -> str:
    """Open the store, run, close the store."""
    store = ResultsStore.open(options.db)
    try:
        return await Runner(store, observer).start(options)
    finally:
        store.close()


def run_sync(options: RunOptions, observer: Observer | None = None) -> str:
    return asyncio.run(run_batch(options, observer))
