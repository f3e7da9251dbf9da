"""What the lab server does, once, for both the pages and the JSON API.

Each operation checks the user's role, does the work through `access.LabStore` (and the bench
workers), and writes the audit trail. Refusals are `Refused` with an HTTP status and one line
saying why; the pages show the line, the API returns it as ``detail``.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.config.locate import BENCHES, PLANS, shipped
from meterbench.results import Outcome, RunStatus, StoreError
from meterbench.results.manual import planned_manual_items
from meterbench.results.manual_cli import ManualInputError, manual_records
from meterbench.results.models import Signoff
from meterbench.results.signing import LabKey
from meterbench.runner.control import ABORT, CONTINUE, PAUSE, TAKE_OUT
from meterbench.web.access import LabStore
from meterbench.web.auth import CAN_APPROVE, CAN_CHECK, CAN_RECORD, CAN_RUN, User
from meterbench.web.workers import WorkerError, Workers


class Refused(Exception):
    """A request the server will not carry out: ``status`` for HTTP, the message for people."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Bench:
    id: str
    name: str
    path: Path
    positions: tuple[int, ...]
    simulated: bool


@dataclass
class Lab:
    """The server's state: the store, the benches it offers, the workers it runs."""

    store: LabStore
    workers: Workers
    benches: dict[str, Bench]
    plans: dict[str, Path]
    state_dir: Path
    signoff_required: bool = True
    # How the public lookup checks a published record: (store, run_id, published hash) ->
    # `public.RecordCheck`; None: the hash chain alone (`public.check_record`).
    checker: Any = None
    # The lab's key: each sign-off's new chain head is signed with it (None: the lab signs
    # nothing, and runs signed by a bench stay signed only up to their close).
    signer: LabKey | None = None
    cache: dict[tuple[str, str], Any] = field(default_factory=dict)


def load_benches(paths: list[Path]) -> dict[str, Bench]:
    """The bench files a server offers (default: every shipped bench)."""
    out: dict[str, Bench] = {}
    for path in paths or sorted(shipped(BENCHES).values()):
        try:
            config = load_bench(path)
        except ConfigError:
            if paths:
                raise
            continue  # a shipped example for real hardware may not load here: skip it
        positions = tuple(sorted(p.number for p in config.positions))
        simulated = config.sim is not None
        out[config.bench.id] = Bench(config.bench.id, config.bench.name, path, positions, simulated)
    return out


def load_plans(paths: list[Path]) -> dict[str, Path]:
    found = {p.stem: p for p in paths} if paths else dict(shipped(PLANS))
    return dict(sorted(found.items()))


def _require(user: User, allowed: frozenset[str], what: str) -> None:
    if not user.may(allowed):
        raise Refused(403, f"{user.username} may not {what} (needs {' or '.join(sorted(allowed))})")


def _known_run(lab: Lab, run_id: str) -> RunStatus:
    try:
        status = lab.store.status(run_id)
    except StoreError:
        raise Refused(404, f"no run {run_id}") from None
    if status is None:
        raise Refused(404, f"no run {run_id}")
    return status


# -- starting and steering runs --------------------------------------------------------------

_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}\Z")


def meter_list_from_serials(
    bench: Bench, meter_type: str, serials: Mapping[int, str], addresses: Mapping[int, str]
) -> str:
    """A meter list (CSV) from serials typed or scanned position by position."""
    rows = []
    for position in bench.positions:
        serial = (serials.get(position) or "").strip()
        if not serial:
            continue
        if not _SERIAL.match(serial):
            raise Refused(400, f"position {position}: {serial!r} is not a serial number")
        rows.append((position, meter_type, serial, (addresses.get(position) or "").strip()))
    if not rows:
        raise Refused(400, "no serial number given for any position")
    if not meter_type.strip():
        raise Refused(400, "choose the meter type")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["position", "type", "serial", "address"])
    for position, kind, serial, address in rows:
        writer.writerow([position, kind, serial, address])
    return out.getvalue()


def start_run(
    lab: Lab, user: User, bench_id: str, plan: str, meter_list: str, client: str | None
) -> int:
    """Write the meter list next to the database and start the bench's worker on it."""
    _require(user, CAN_RUN, "start a run")
    bench = lab.benches.get(bench_id)
    if bench is None:
        raise Refused(404, f"no bench {bench_id} on this server")
    plan_path = lab.plans.get(plan)
    if plan_path is None:
        raise Refused(404, f"no plan {plan} on this server")
    if not meter_list.strip():
        raise Refused(400, "the meter list is empty")
    lists = lab.state_dir / "meter-lists"
    lists.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    meters = lists / f"{bench_id}-{stamp}-{secrets.token_hex(3)}.csv"
    meters.write_text(meter_list, encoding="utf-8")
    try:
        pid = lab.workers.start(bench_id, bench.path, plan_path, meters, user.username)
    except WorkerError as exc:
        lab.store.audit(user.username, "run.start", bench_id, "refused", str(exc), client)
        raise Refused(409, str(exc)) from None
    lab.store.audit(
        user.username, "run.start", bench_id, "ok", f"plan {plan}, worker {pid}", client
    )
    return pid


def resume_run(lab: Lab, user: User, bench_id: str, client: str | None) -> int:
    _require(user, CAN_RUN, "resume a run")
    run_id = lab.store.newest_open_run(bench_id)
    if run_id is None:
        raise Refused(409, f"bench {bench_id} has no run to resume")
    try:
        pid = lab.workers.resume(bench_id, run_id)
    except WorkerError as exc:
        raise Refused(409, str(exc)) from None
    lab.store.audit(user.username, "run.resume", run_id, "ok", f"worker {pid}", client)
    return pid


ACTIONS = {"pause": PAUSE, "continue": CONTINUE, "abort": ABORT, "take_out": TAKE_OUT}


def control(
    lab: Lab,
    user: User,
    run_id: str,
    action: str,
    position: int | None,
    reason: str,
    client: str | None,
) -> str:
    """Pause, continue, abort or take a position out, through the run's control channel."""
    _require(user, CAN_RUN, f"{action.replace('_', ' ')} a run")
    kind = ACTIONS.get(action)
    if kind is None:
        raise Refused(400, f"unknown action {action!r}: {', '.join(ACTIONS)}")
    status = _known_run(lab, run_id)
    message = reason.strip() or f"{action.replace('_', ' ')} by {user.username}"
    if status.closed:
        raise Refused(409, f"run {run_id} is {status.value}")
    if status is RunStatus.INTERRUPTED and kind == ABORT:
        lab.store.control_request(run_id, ABORT, message)
        lab.store.set_status(run_id, RunStatus.ABORTED, message)
    elif status is not RunStatus.RUNNING:
        raise Refused(409, f"run {run_id} is {status.value}; only a running run can be steered")
    elif kind == TAKE_OUT:
        numbers = {p.position for p in lab.store.load_run(run_id).positions}
        if position not in numbers:
            raise Refused(400, f"run {run_id} has no position {position}")
        if not reason.strip():
            raise Refused(400, "say why the position is taken out")
        lab.store.control_request(run_id, TAKE_OUT, message, position)
    else:
        lab.store.control_request(run_id, kind, f"{message} ({user.username})")
    lab.store.audit(user.username, f"run.{action}", run_id, "ok", message, client)
    return f"{action.replace('_', ' ')} requested"


def record_manual(
    lab: Lab,
    user: User,
    run_id: str,
    item: str,
    positions: list[int] | None,
    passed: bool,
    note: str | None,
    client: str | None,
) -> int:
    """Manual items (visual, AC voltage, tightness) for some positions or all of them."""
    _require(user, CAN_RECORD, "record manual items")
    status = _known_run(lab, run_id)
    if status.closed:
        raise Refused(409, f"run {run_id} is {status.value}: its record takes no more entries")
    record = lab.store.load_run(run_id)
    try:
        records = manual_records(
            record,
            item,
            positions,
            Outcome.PASS if passed else Outcome.FAIL,
            user.full_name,
            note,
            datetime.now(UTC),
        )
    except ManualInputError as exc:
        raise Refused(400, str(exc)) from None
    lab.store.append(*records)
    where = "all" if positions is None else ",".join(str(p) for p in positions)
    outcome = "pass" if passed else "fail"
    lab.store.audit(
        user.username, "run.manual", run_id, "ok", f"{item} {outcome} at {where}", client
    )
    return len(records)


def manual_items(lab: Lab, run_id: str) -> list[str]:
    """The manual items the run's plan asks for (from its plan snapshot alone)."""
    plan = _PlanOnly(lab.store.snapshots(run_id))
    items: dict[str, None] = {}
    for meter_type in {p.meter_type for p in lab.store.positions(run_id)}:
        for planned in planned_manual_items(plan, meter_type):  # type: ignore[arg-type]
            items[planned.item] = None
    return list(items)


@dataclass(frozen=True, slots=True)
class _PlanOnly:
    """What `planned_manual_items` reads of a run record: its snapshots."""

    snapshots: Mapping[str, Any]


# -- sign-off ---------------------------------------------------------------------------------


def sign_off(lab: Lab, user: User, run_id: str, stage: str, note: str, client: str | None) -> str:
    """核验 (check) then 批准 (approve), each by someone else than who did the run before."""
    if stage not in ("check", "approve"):
        raise Refused(400, f"unknown sign-off stage {stage!r}: check or approve")
    try:
        _require(user, CAN_CHECK if stage == "check" else CAN_APPROVE, f"{stage} a run")
        status = _known_run(lab, run_id)
        if status is not RunStatus.COMPLETED:
            raise Refused(
                409, f"run {run_id} is {status.value}; only a completed run is signed off"
            )
        record = lab.store.load_run(run_id)
        done = {s.stage: s for s in record.signoffs}
        if stage in done:
            raise Refused(409, f"run {run_id} was already {stage}ed by {done[stage].username}")
        if stage == "approve" and "check" not in done:
            raise Refused(409, f"run {run_id} must be checked before it is approved")
        earlier = {record.run.verifier} | {s.username for s in done.values()}
        if user.username in earlier:
            raise Refused(
                403, f"{user.username} already took part in run {run_id}: another user signs"
            )
        lab.store.append(
            Signoff(
                run_id=run_id,
                stage=stage,
                at=datetime.now(UTC),
                username=user.username,
                name=user.full_name,
                note=note.strip() or None,
            )
        )
        if lab.signer is not None:
            lab.store.sign_head(run_id, lab.signer)
    except Refused as exc:
        lab.store.audit(user.username, f"run.{stage}", run_id, "refused", exc.message, client)
        raise
    lab.store.audit(user.username, f"run.{stage}", run_id, "ok", note or None, client)
    return f"run {run_id} {'checked' if stage == 'check' else 'approved'}"


def approved(lab: Lab, run_id: str) -> bool:
    return lab.store.approval_hash(run_id) is not None


__all__ = [
    "ACTIONS",
    "Bench",
    "Lab",
    "Refused",
    "approved",
    "control",
    "load_benches",
    "load_plans",
    "manual_items",
    "meter_list_from_serials",
    "record_manual",
    "resume_run",
    "sign_off",
    "start_run",
]
