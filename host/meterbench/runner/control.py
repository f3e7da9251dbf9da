"""The run's control channel: operator requests stored in the run's own record.

``meterbench abort/pause/continue/take-out`` append an event (``operator_abort``,
``operator_pause``, ``operator_continue``, ``operator_take_out``) to the run; the running
process polls the record between points and while it waits, and acts on what is new. The
store is the channel because it already belongs to the run, is shared by every terminal that
can open the database (and later by a lab server over PostgreSQL), and keeps each request, with
who asked and why, in the chained record an auditor reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from meterbench.clock import local_now
from meterbench.results import Event, ResultsStore, Severity

ABORT, PAUSE, CONTINUE, TAKE_OUT = (
    "operator_abort",
    "operator_pause",
    "operator_continue",
    "operator_take_out",
)
REQUESTS = (ABORT, PAUSE, CONTINUE, TAKE_OUT)
POLL_S = 0.5  # wall seconds between looks at the record: an operator's reaction time


def request(
    store: ResultsStore,
    run_id: str,
    kind: str,
    message: str,
    position: int | None = None,
    at: datetime | None = None,
) -> None:
    """Append one operator request to the run's record (from any process)."""
    if kind not in REQUESTS:
        raise ValueError(f"unknown control request {kind!r}")
    severity = Severity.WARNING if kind in (ABORT, TAKE_OUT) else Severity.INFO
    store.append(
        Event(
            run_id=run_id,
            at=at or local_now(),
            severity=severity,
            kind=kind,
            message=message,
            position=position,
        )
    )


@dataclass
class ControlState:
    """What the operators asked for so far: folded from the record's request events."""

    aborted: str | None = None  # the reason, once asked
    paused: bool = False
    taken_out: dict[int, str] = field(default_factory=dict)  # position -> reason
    seen: int = 0  # request events already folded in


class Control:
    """Polls one run's record for new operator requests.

    Taken-out positions stay out on resume (they are in the record), and an abort asked while
    no process ran the run still ends it; a pause asked before this process started is not
    replayed: resuming is the operator's "go on".
    """

    def __init__(self, store: ResultsStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.state = ControlState()
        earlier = self._requests()
        for event in earlier:
            if event.kind == TAKE_OUT and event.position is not None:
                self.state.taken_out[event.position] = event.message
            elif event.kind == ABORT:  # asked while no process ran it: still final
                self.state.aborted = event.message or "aborted by the operator"
        self.state.seen = len(earlier)

    def _requests(self) -> list[Event]:
        return [e for e in self.store.events(self.run_id) if e.kind in REQUESTS]

    def poll(self) -> list[Event]:
        """Fold the requests appended since the last poll into the state; return them."""
        new = self._requests()[self.state.seen :]
        self.state.seen += len(new)
        for event in new:
            if event.kind == ABORT:
                self.state.aborted = event.message or "aborted by the operator"
            elif event.kind == PAUSE:
                self.state.paused = True
            elif event.kind == CONTINUE:
                self.state.paused = False
            elif event.kind == TAKE_OUT and event.position is not None:
                self.state.taken_out[event.position] = event.message
        return new

    async def watch(self, on_abort: Callable[[str], None]) -> None:
        """Poll until cancelled; call ``on_abort`` once when an abort is asked."""
        while self.state.aborted is None:
            await asyncio.sleep(POLL_S)
            self.poll()
        on_abort(self.state.aborted)

    async def while_paused(self) -> None:
        """Return at once unless paused; then wait for continue (or abort)."""
        self.poll()
        while self.state.paused and self.state.aborted is None:
            await asyncio.sleep(POLL_S)
            self.poll()


__all__ = ["ABORT", "CONTINUE", "PAUSE", "REQUESTS", "TAKE_OUT", "Control", "request"]
