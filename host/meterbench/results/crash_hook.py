"""Test-only: end the process abruptly right after the k-th committed row of one table.

The crash tests need to kill ``meterbench run`` at exactly the same point of a run every time,
whatever the machine's speed. With ``METERBENCH_TEST_KILL_AFTER=reading:k`` (or
``batch_statistic:1``, any table name) in its environment, the process sends itself SIGKILL
right after the transaction holding its k-th row of that table committed (counted from the
start of this process). A third field names another signal (``reading:40:SIGINT``): the
operator's Ctrl-C at exactly that point. Unset, this costs one lookup when the store opens.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "METERBENCH_TEST_KILL_AFTER"


class CrashHook:
    """Counts committed rows of one table and kills the process at the configured one."""

    def __init__(self) -> None:
        table, _, rest = os.environ.get(VARIABLE, "").partition(":")
        count, _, name = rest.partition(":")
        self.table = table if count.isdigit() and int(count) > 0 else None
        self.kill_at = int(count) if self.table else 0
        self.signal = getattr(signal, name, signal.SIGKILL) if name else signal.SIGKILL
        self.count = 0

    def committed(self, rows: dict[str, int]) -> None:
        if self.table is None or not rows.get(self.table):
            return
        before, self.count = self.count, self.count + rows[self.table]
        if before < self.kill_at <= self.count:
            os.kill(os.getpid(), self.signal)


__all__ = ["VARIABLE", "CrashHook"]
