"""Live progress for an operator: the current step, one line per position, the error log,
and the summary table printed when a run ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from meterbench.results import Outcome, ResultsStore

REDRAW_S = 1.0  # the table is drawn at most this often (loop time), and only after a change
COLUMNS = 3
STATUS_WIDTH = 38


class LiveProgress:
    """An Observer that redraws a table of positions as results come in.

    Drawing a table of a few hundred positions costs far more than the reading that changed
    it, so a change only marks the table; it is drawn at once if the last drawing is
    REDRAW_S old, else when it will be, and never while nothing changes (an idle bench costs
    nothing to show)."""

    def __init__(self, positions: list[int], console: Console | None = None) -> None:
        self.console = console or Console()
        self.positions = {p: "waiting" for p in positions}
        self.title = "starting"
        self.events: deque[str] = deque(maxlen=6)
        self.drawn = 0  # how often the table was drawn
        self._live = Live(self._render(), console=self.console, auto_refresh=False)
        self._last_draw = float("-inf")
        self._pending: asyncio.TimerHandle | None = None

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._live.update(self._render())  # the last state, drawn as the display closes
        self._live.__exit__(None, None, None)

    def _changed(self) -> None:
        """Draw now if the last drawing is REDRAW_S old, else once when it will be."""
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside a run: nothing else will draw it
            self._draw()
            return
        wait = self._last_draw + REDRAW_S - loop.time()
        if wait <= 0:
            self._draw()
        else:
            self._pending = loop.call_later(wait, self._draw)

    def _draw(self) -> None:
        self._pending = None
        with contextlib.suppress(RuntimeError):  # outside a run no later drawing waits
            self._last_draw = asyncio.get_running_loop().time()
        self.drawn += 1
        self._live.update(self._render(), refresh=True)

    def _render(self) -> Group:
        """The title, the positions in three columns and the latest events. Plain lines of
        fixed width: a rich Table lays out every cell again at each drawing, about ten times
        the cost (some 90 ms of CPU for 192 positions)."""
        text = Text(self.title, style="italic")
        items = sorted(self.positions.items())
        rows = (len(items) + COLUMNS - 1) // COLUMNS
        for r in range(rows):
            text.append("\n")
            for c in range(COLUMNS):
                index = c * rows + r
                if index >= len(items):
                    break
                number, status = items[index]
                if len(status) > STATUS_WIDTH:
                    status = status[: STATUS_WIDTH - 1] + "\u2026"
                text.append(f"{number:>4} ", style="bold")
                text.append(f"{status:<{STATUS_WIDTH}}  ")
        log = Text("\n".join(self.events), style="yellow") if self.events else Text("")
        return Group(text, log)

    def step(self, title: str, index: int, total: int) -> None:
        self.title = f"step {index}/{total}: {title}"
        self._changed()

    def position(self, position: int, text: str) -> None:
        self.positions[position] = text
        self._changed()

    def event(self, severity: str, message: str) -> None:
        self.events.append(f"{severity}: {message}")
        self._changed()

    def step_done(self, key: str, started: float, finished: float) -> None:
        pass


class PlainProgress:
    """Line-by-line progress for logs and non-terminal output."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    def step(self, title: str, index: int, total: int) -> None:
        self.console.print(f"step {index}/{total}: {title}")

    def position(self, position: int, text: str) -> None:
        pass

    def event(self, severity: str, message: str) -> None:
        self.console.print(f"  {severity}: {message}")

    def step_done(self, key: str, started: float, finished: float) -> None:
        pass


def summary_table(store: ResultsStore, run_id: str) -> Table:
    """Per position: items passed and failed, and the overall verdict."""
    record = store.load_run(run_id)
    status = record.status.value if record.status is not None else "no status recorded"
    table = Table(title=f"run {run_id}: {status}", title_justify="left")
    for name in ("pos", "serial", "type", "passed", "failed", "no result", "verdict", "why"):
        table.add_column(name)
    for position in record.positions:
        conclusions = [
            c
            for c in record.conclusions
            if c.position == position.position and c.limit_kind.value == "mpe"
        ]
        passed = sum(c.outcome == Outcome.PASS for c in conclusions)
        failed = [c for c in conclusions if c.outcome == Outcome.FAIL]
        missing = [c for c in conclusions if c.outcome in (Outcome.NO_RESULT, Outcome.ERROR)]
        verdict = "fail" if failed else ("incomplete" if missing else "pass")
        why = "; ".join(sorted({c.step_key.split("/")[0] for c in failed + missing}))
        style = {"pass": "green", "fail": "red"}.get(verdict, "yellow")
        table.add_row(
            str(position.position),
            position.serial_no or "",
            position.meter_type,
            str(passed),
            str(len(failed)),
            str(len(missing)),
            Text(verdict, style=style),
            why,
        )
    return table
