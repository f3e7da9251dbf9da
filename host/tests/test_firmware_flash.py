"""``meterbench firmware flash`` end to end against a MicroPython "board": the real unix port
behind a pty with soft-reset behaviour (meterbench.firmware_tools.fakeboard), stock mpremote,
and the link HELLO after reset reporting the new build's hash."""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from meterbench.devices.controller import ControllerClient, NakError
from meterbench.firmware_tools import build, flash
from meterbench.firmware_tools.fakeboard import FakeBoard
from meterproto.link import messages as m


@pytest.fixture
def board(tmp_path: Path) -> Iterator[FakeBoard]:
    with FakeBoard(tmp_path / "flash") as fb:
        yield fb


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meterbench.cli", "firmware", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flash_then_reflash_reports_new_hash(board: FakeBoard, tmp_path: Path) -> None:
    first = _cli("flash", "--port", board.port, "--out", str(tmp_path / "b1"))
    assert first.returncode == 0, first.stdout + first.stderr
    hash1 = json.loads((tmp_path / "b1/manifest.json").read_text())["hash"]
    assert f"HELLO reports {hash1}" in first.stdout and "confirmed" in first.stdout
    assert (board.flash / "lib/bench/server.mpy").exists()

    # A different build (another target arch, so another hash) over the running link: the tool
    # must get the firmware back to the REPL, upload, reset, and see the new hash.
    second = _cli("flash", "--port", board.port, "--out", str(tmp_path / "b2"), "--arch", "rp2040")
    assert second.returncode == 0, second.stdout + second.stderr
    hash2 = json.loads((tmp_path / "b2/manifest.json").read_text())["hash"]
    assert hash2 != hash1
    assert f"HELLO reports {hash2}" in second.stdout

    info = _cli("info", "--port", board.port, "--json")
    assert info.returncode == 0, info.stdout + info.stderr
    data = json.loads(info.stdout)
    assert data["hello"]["fw_hash"] == hash2
    assert data["hello"]["board"] == "sim" and data["status"]["bad_crc"] == 0


def test_stale_py_removed_and_manifest_written(board: FakeBoard, tmp_path: Path) -> None:
    (board.flash / "lib/bench").mkdir(parents=True)
    (board.flash / "lib/bench/server.py").write_text("raise ImportError('stale')\n")
    result = _cli("flash", "--port", board.port, "--out", str(tmp_path / "b"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (board.flash / "lib/bench/server.py").exists()
    manifest = json.loads((board.flash / "manifest.json").read_text())
    assert manifest == json.loads((tmp_path / "b/manifest.json").read_text())


def test_link_reset_soft_and_safe(board: FakeBoard, tmp_path: Path) -> None:
    flash.flash(board.port, build.build(tmp_path / "b"))

    async def session() -> None:
        client = await ControllerClient.open(board.port)
        try:
            first = await client.hello()
            await client.reset(m.RESET_SOFT)
            await asyncio.sleep(1)
            again = await client.hello()
            assert again["boot_id"] == first["boot_id"] + 1
            assert again["flags"] & m.FLAG_WDT and not again["flags"] & m.FLAG_SAFE_MODE
            await client.reset(m.RESET_SAFE)
            await asyncio.sleep(1)
            safe = await client.hello()
            assert safe["flags"] & m.FLAG_SAFE_MODE and not safe["flags"] & m.FLAG_WDT
            try:
                await client.request(m.ERR_START, position=0, pulses=1, readings=1, skip=0)
            except NakError as e:
                assert e.reason == m.NAK_BAD_STATE
            else:
                raise AssertionError("safe mode accepted a measurement")
        finally:
            await client.close()

    asyncio.run(asyncio.wait_for(session(), 60))
