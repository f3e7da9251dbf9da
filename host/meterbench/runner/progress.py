"""Live progress for an operator: the current step, one line per position, the error log,
and the summary table printed when a run ends."""

from __future__ import annotations

from collections import deque

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from meterbench.results import Outcome, ResultsStore


class LiveProgress:
    """An Observer that redraws a table of positions as results come in."""

    def __init__(self, positions: list[int], console: Console | None = None) -> None:
        self.console = console or Console()
        self.positions = {p: "waiting" for p in positions}
        self.title = "starting"
        self.events: deque[str] = deque(maxlen=6)
        self._live = Live(
            self._render(), console=self.console, refresh_per_second=4, transient=False
        )

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def _render(self) -> Group:
        table = Table(title=self.title, title_justify="left", show_header=True, expand=False)
        columns = 3
        for _ in range(columns):
            table.add_column("pos", justify="right", style="bold")
            table.add_column("status", overflow="ellipsis", max_width=38, no_wrap=True)
        items = sorted(self.positions.items())
        rows = (len(items) + columns - 1) // columns
        for r in range(rows):
            cells: list[str] = []
            for c in range(columns):
                index = c * rows + r
                if index < len(items):
                    cells += [str(items[index][0]), items[index][1]]
                else:
                    cells += ["", ""]
            table.add_row(*cells)
        log = Text("\n".join(self.events), style="yellow") if self.events else Text("")
        return Group(table, log)

    def step(self, title: str, index: int, total: int) -> None:
        self.title = f"step {index}/{total}: {title}"
        self._live.update(self._render())

    def position(self, position: int, text: str) -> None:
        self.positions[position] = text
        self._live.update(self._render())

    def event(self, severity: str, message: str) -> None:
        self.events.append(f"{severity}: {message}")
        self._live.update(self._render())

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
