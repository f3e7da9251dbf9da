"""The host and the protocols pass the checks CI holds them to: ruff (lint and format) and
pyright in standard mode (settings in pyproject.toml, [tool.pyright]) with zero errors.

They are tests so the one CI command (pytest) runs them; a failure prints what to fix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from node_tools import ROOT, pyright_command  # noqa: E402

TIMEOUT_S = 600  # a safety net, not a measured time


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)


def test_ruff_check() -> None:
    result = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyright_host_and_protocols() -> None:
    result = _run([*pyright_command(), "--pythonpath", sys.executable])
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr
    assert " 0 errors" in result.stdout
