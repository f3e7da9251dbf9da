"""Bench workers: one process per bench runs that bench's verification, apart from the server.

A worker is ``meterbench run`` (or ``resume``) in its own session (``start_new_session``), so
stopping or killing the web server stops no run: the worker keeps appending to the store, and
a restarted server finds it again by the pid kept in the ``bench_worker`` table and shows the
run live from the record. The server commands a worker through the run's control channel in
the store (pause, continue, abort, take out: `runner.control`), and watches it by its pid and
by the rows it appends. A worker that dies leaves its run running or interrupted in the
record: resumable, as after any crash.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from meterbench.results import RunStatus
from meterbench.web.access import LabStore


class WorkerError(Exception):
    """A bench cannot take the request (busy, nothing to resume)."""


@dataclass(frozen=True, slots=True)
class BenchState:
    bench_id: str
    worker_pid: int | None  # alive worker, if any
    run_id: str | None  # the bench's open run (running or interrupted), if any
    resumable: bool  # an open run and no live worker


def _alive(pid: int) -> bool:
    """Is the process there and not a zombie?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class Workers:
    """Starts, finds and watches the bench workers of one results database."""

    def __init__(self, store: LabStore, state_dir: Path, time_scale: float | None = None) -> None:
        self.store = store
        self.state_dir = state_dir
        self.time_scale = time_scale
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def _reap(self) -> None:
        for pid, child in list(self._children.items()):
            if child.poll() is not None:
                del self._children[pid]

    def live_pid(self, bench_id: str) -> int | None:
        self._reap()
        row = self.store.worker(bench_id)
        if row is None:
            return None
        return row.pid if _alive(row.pid) else None

    def state(self, bench_id: str) -> BenchState:
        pid = self.live_pid(bench_id)
        run_id = self.store.newest_open_run(bench_id)
        return BenchState(bench_id, pid, run_id, run_id is not None and pid is None)

    def _spawn(self, bench_id: str, args: list[str], run_id: str | None) -> int:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = (self.state_dir / f"worker-{_safe(bench_id)}.log").open("ab")
        command = [sys.executable, "-m", "meterbench", *args, "--db", str(self.store.path)]
        if self.time_scale is not None:
            command += ["--time-scale", repr(self.time_scale)]
        env = dict(os.environ)
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a signal to the server's group does not reach it
            env=env,
        )
        log.close()
        self._children[child.pid] = child
        self.store.set_worker(bench_id, child.pid, run_id, " ".join(command))
        return child.pid

    def start(
        self,
        bench_id: str,
        bench: Path,
        plan: Path,
        meters: Path,
        verifier: str,
        extra: list[str] | None = None,
    ) -> int:
        """Start a new run on a free bench; returns the worker's pid."""
        state = self.state(bench_id)
        if state.worker_pid is not None:
            raise WorkerError(f"bench {bench_id} is busy (worker {state.worker_pid})")
        if state.run_id is not None:
            raise WorkerError(
                f"bench {bench_id} has the unfinished run {state.run_id}: resume or abort it"
            )
        args = ["run", "--plain", "--bench", str(bench), "--plan", str(plan)]
        args += ["--meters", str(meters), "--verifier", verifier, *(extra or [])]
        return self._spawn(bench_id, args, None)

    def resume(self, bench_id: str, run_id: str) -> int:
        """Run an interrupted (or crashed) run again from its last stored step."""
        state = self.state(bench_id)
        if state.worker_pid is not None:
            raise WorkerError(f"bench {bench_id} is busy (worker {state.worker_pid})")
        status = self.store.status(run_id)
        if status not in (RunStatus.RUNNING, RunStatus.INTERRUPTED):
            raise WorkerError(f"run {run_id} is {status}; there is nothing to resume")
        return self._spawn(bench_id, ["resume", run_id], run_id)

    def wait(self, pid: int, timeout: float | None = None) -> int | None:
        """Wait for a worker this server started (tests and `demo --serve`)."""
        child = self._children.get(pid)
        return None if child is None else child.wait(timeout)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name)


__all__ = ["BenchState", "WorkerError", "Workers"]
