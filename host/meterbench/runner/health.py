"""What the links to the controllers and meter buses survived during a step, for the error log.

Controller clients and bus managers recover from lost and damaged frames, vanished ports and
restarted controllers by themselves, so a run can finish with exactly the results of a clean
one. The record must still say that it happened: after every step, each link whose counters
moved gets one warning event saying what it took (requests sent again, damaged frames, ports
lost and reopened, restarts).
"""

from __future__ import annotations

import contextlib

from meterbench.devices.controller import ControllerClient, ControllerError
from meterbench.results import Severity
from meterbench.runner.context import RunContext
from meterbench.runner.session import BenchSession
from meterbench.transport.bus import Bus

Counts = dict[str, int]


def _controller_counts(client: ControllerClient) -> Counts:
    s = client.stats
    return {
        "requests sent again": s.resends,
        "damaged frames dropped": client.damaged_frames,
        "results received again": s.duplicates,
        "port lost": s.port_losses,
        "port reopened": s.reconnects,
        "controller restarted": s.restarts,
    }


def _bus_counts(bus: Bus) -> Counts:
    s = bus.stats
    return {
        "requests sent again": s.attempts - s.transactions,
        "replies damaged": s.corrupt,
        "replies missing": s.timeouts,
        "port lost": s.port_losses,
        "port reopened": s.reconnects,
    }


class LinkHealth:
    """Counters of every link at the last report; ``report`` logs what changed since."""

    def __init__(self, session: BenchSession) -> None:
        self.session = session
        self._last = self._counts()

    def _counts(self) -> dict[str, Counts]:
        s = self.session
        out = {f"controller {k}": _controller_counts(c) for k, c in s.controllers.items()}
        out.update({f"bus {k}": _bus_counts(b) for k, b in s.buses.items()})
        return out

    async def report(self, ctx: RunContext, step_key: str) -> None:
        """Ask every controller whether it restarted (HELLO), then log each link's changes."""
        for client in self.session.controllers.values():
            with contextlib.suppress(ControllerError):
                await client.check_boot()
        now = self._counts()
        for link, counts in now.items():
            before = self._last.get(link, {})
            moved = [(name, n - before.get(name, 0)) for name, n in counts.items()]
            moved = [(name, n) for name, n in moved if n > 0]
            if moved:
                text = ", ".join(f"{name} {n}x" for name, n in moved)
                ctx.log(Severity.WARNING, "link", f"{link}: {text}", step_key=step_key)
        self._last = now
