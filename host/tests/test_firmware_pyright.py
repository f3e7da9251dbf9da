"""The firmware type-checks with pyright against the MicroPython stubs of its boards.

Skips only when node/npx is absent. Uses the repository's pinned pyright (``npm ci``) when
installed, else ``npx pyright@<pinned>``; installs the board stubs with
tools/firmware_stubs.sh when typings/ is missing. A deliberately wrong ``machine`` call must be
reported, so a broken stub setup cannot pass silently.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from node_tools import pyright_command  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
CONFIGS = ["pyrightconfig.json", "pyrightconfig.esp32.json"]


@pytest.fixture(scope="module")
def pyright() -> list[str]:
    cmd = pyright_command()
    subprocess.run(["bash", str(ROOT / "tools/firmware_stubs.sh")], check=True, timeout=300)
    return cmd


def _run(cmd: list[str], config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, "-p", str(config)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


@pytest.mark.parametrize("config", CONFIGS)
def test_firmware_type_checks(pyright: list[str], config: str) -> None:
    result = _run(pyright, FIRMWARE / config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_wrong_machine_call_is_caught(pyright: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from machine import UART\n"
        "u = UART(0, baudrate=2400, parity='E')\n"  # parity is None, 0 or 1
        "u.send(b'x')\n"  # no such method
    )
    config = tmp_path / "pyrightconfig.json"
    config.write_text(
        json.dumps(
            {
                "include": [str(bad)],
                "typeshedPath": str(ROOT / "typings/rp2"),
                "stubPath": str(ROOT / "typings/rp2"),
                "pythonVersion": "3.8",
            }
        )
    )
    result = _run(pyright, config)
    assert result.returncode != 0
    assert "parity" in result.stdout and "send" in result.stdout, result.stdout
