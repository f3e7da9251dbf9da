"""The live view of a run and of the benches, as plain JSON the page script draws.

Everything is read from the run's record (the worker appends, the server reads), so a
restarted server shows a running run exactly as before: there is no state in the server to
lose. Pushed to the browser as server-sent events whenever the state changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from meterbench.results import RunStatus
from meterbench.runner.control import CONTINUE, PAUSE
from meterbench.web.service import Lab

PAUSED = "paused"  # the worker's answer to a pause request: it stopped, outputs safe

PUSH_S = 0.5  # wall seconds between looks at the record while a page is open


def _planned_steps(snapshots: Mapping[str, Any]) -> int:
    """How many measured steps the plan has (the longest expansion of its meter types)."""
    plan = snapshots.get("plan")
    if not isinstance(plan, Mapping):
        return 0
    best = 0
    for expansion in plan.values():
        steps = expansion.get("steps") if isinstance(expansion, Mapping) else None
        if isinstance(steps, list | tuple):
            best = max(
                best, sum(1 for s in steps if isinstance(s, Mapping) and s.get("type") != "manual")
            )
    return best


def run_state(lab: Lab, run_id: str) -> dict[str, Any]:
    """Step N/M, times, per-position rows, recent events, sign-offs, worker health."""
    store = lab.store
    record_head = store.results.get_run(run_id)
    status = store.status(run_id)
    key = ("planned steps", run_id)
    if key not in lab.cache:  # snapshots never change: read the plan once per run
        lab.cache[key] = _planned_steps(store.snapshots(run_id))
    started = store.started_steps(run_id)
    total = max(lab.cache[key], len(started))
    events = store.recent_events(run_id, 200)
    paused = ""  # "pause requested" until the worker answers "paused"; "" after continue
    for _, _, kind, _ in reversed(events):  # oldest first
        if kind == PAUSE:
            paused = "pause requested"
        elif kind == PAUSED:
            paused = "paused"
        elif kind == CONTINUE:
            paused = ""
    last = store.last_row_time(run_id)
    elapsed = remaining = None
    if last is not None:
        elapsed = (datetime.fromisoformat(last) - record_head.started_at).total_seconds()
        if started and total:
            remaining = elapsed / len(started) * (total - len(started))
    steps = {key: (item, point) for key, item, point in started}
    rows = []
    for p in store.live_positions(run_id):
        item, point = steps.get(p.step_key or "", ("", ""))
        verdict = "fail" if p.fails else ("pass" if p.passes else "")
        if p.problems and not p.fails:
            verdict = "no result"
        rows.append(
            {
                "position": p.position,
                "serial": p.serial,
                "item": item,
                "point": point,
                "result": None if p.result is None else f"{p.result} {p.unit or ''}".strip(),
                "verdict": verdict,
                "last_error": p.last_error,
                "link": p.link,
            }
        )
    bench_state = lab.workers.state(record_head.bench)
    signoffs = [
        {"stage": s.stage, "user": s.username, "name": s.name, "at": s.at.isoformat()}
        for s in store.signoffs(run_id)
    ]
    return {
        "run_id": run_id,
        "bench": record_head.bench,
        "status": status.value if status else None,
        "paused": paused if status is RunStatus.RUNNING else "",
        "step": len(started),
        "steps": total,
        "current": started[-1][1] + " " + started[-1][2] if started else "",
        "elapsed_s": elapsed,
        "remaining_s": remaining,
        "readings": store.reading_count(run_id),
        "positions": rows,
        "events": [
            {"at": at, "severity": sev, "kind": kind, "message": msg}
            for at, sev, kind, msg in events[:12]
        ],
        "worker": bench_state.worker_pid,
        "resumable": bench_state.resumable and bench_state.run_id == run_id,
        "signoffs": signoffs,
    }


def benches_state(lab: Lab) -> list[dict[str, Any]]:
    out = []
    for bench in lab.benches.values():
        state = lab.workers.state(bench.id)
        entry: dict[str, Any] = {
            "bench": bench.id,
            "name": bench.name,
            "positions": len(bench.positions),
            "worker": state.worker_pid,
            "run_id": state.run_id,
            "resumable": state.resumable,
            "step": None,
        }
        if state.run_id:
            started = lab.store.started_steps(state.run_id)
            entry["step"] = f"{started[-1][1]} {started[-1][2]}" if started else "starting"
            entry["readings"] = lab.store.reading_count(state.run_id)
        out.append(entry)
    return out


async def stream(compute, closed) -> AsyncIterator[str]:  # noqa: ANN001
    """Server-sent events: the state whenever it changed, until ``closed(state)``."""
    previous = None
    while True:
        state = await asyncio.to_thread(compute)
        text = json.dumps(state, ensure_ascii=False, sort_keys=True)
        if text != previous:
            previous = text
            yield f"data: {text}\n\n"
        if closed(state):
            return
        await asyncio.sleep(PUSH_S)


__all__ = ["benches_state", "run_state", "stream"]
