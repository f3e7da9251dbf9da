"""``meterbench firmware flash`` end to end against a MicroPython "board": the real unix port
behind a pty with a board's reset behaviour, a watchdog that really resets it, slow round
trips and a filesystem that can fill up (meterbench.firmware_tools.fakeboard), stock mpremote,
and the link HELLO after reset reporting the new build's hash."""

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from meterbench.devices.controller import ControllerClient, LinkTimeout, NakError
from meterbench.firmware_tools import build, flash
from meterbench.firmware_tools.fakeboard import FakeBoard, wait_for
from meterproto.link import messages as m

WDT_MS = 1500  # the firmware's watchdog on the fake board (config.json)


@pytest.fixture
def board(tmp_path: Path) -> Iterator[FakeBoard]:
    with FakeBoard(tmp_path / "flash") as fb:
        yield fb


def _config(flash_dir: Path, **values: object) -> None:
    flash_dir.mkdir(parents=True, exist_ok=True)
    (flash_dir / "config.json").write_text(json.dumps({"schema": 1, **values}))


def _hello(port: str) -> dict[str, object]:
    """The board's HELLO fields; none while it does not answer (a board that was reset boots
    for a while, longer on a loaded machine: the caller's deadline decides when to give up)."""

    async def ask() -> dict[str, object]:
        client = await ControllerClient.open(port, timeout=0.5)
        try:
            return dict((await client.hello()).fields)
        except LinkTimeout:
            return {}
        finally:
            await client.close()

    return asyncio.run(asyncio.wait_for(ask(), 30))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meterbench", "firmware", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flash_then_reflash_reports_new_hash(board: FakeBoard, tmp_path: Path) -> None:
    first = _cli("flash", "--port", board.port, "--out", str(tmp_path / "b1"))
    assert first.returncode == 0, first.stdout + first.stderr
    hash1 = json.loads((tmp_path / "b1/manifest.json").read_text())["hash"]
    assert f"HELLO reports {hash1}" in first.stdout and "confirmed" in first.stdout
    assert (board.flash / "active").read_text() == "fw_a"
    assert (board.flash / "fw_a/lib/bench/server.mpy").exists()

    # A different build (another target arch, so another hash) over the running link: the tool
    # must get the firmware back to the REPL, upload, reset, and see the new hash.
    second = _cli("flash", "--port", board.port, "--out", str(tmp_path / "b2"), "--arch", "rp2040")
    assert second.returncode == 0, second.stdout + second.stderr
    hash2 = json.loads((tmp_path / "b2/manifest.json").read_text())["hash"]
    assert hash2 != hash1
    assert f"HELLO reports {hash2}" in second.stdout

    # The second build went into the other slot; the first slot's space was freed.
    assert (board.flash / "active").read_text() == "fw_b" and not (board.flash / "fw_a").exists()
    info = _cli("info", "--port", board.port, "--json")
    assert info.returncode == 0, info.stdout + info.stderr
    data = json.loads(info.stdout)
    assert data["hello"]["fw_hash"] == hash2
    assert data["hello"]["board"] == "sim" and data["status"]["bad_crc"] == 0


def test_legacy_layout_replaced_and_manifest_written(board: FakeBoard, tmp_path: Path) -> None:
    # A board flashed before slots existed: our packages directly in lib/, a stale .py there.
    (board.flash / "lib/bench").mkdir(parents=True)
    (board.flash / "lib/bench/server.py").write_text("raise ImportError('stale')\n")
    (board.flash / "lib/other.py").write_text("KEEP = 1\n")  # not ours: left alone
    result = _cli("flash", "--port", board.port, "--out", str(tmp_path / "b"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (board.flash / "lib/bench").exists() and (board.flash / "lib/other.py").exists()
    manifest = json.loads((board.flash / "fw_a/manifest.json").read_text())
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


def test_flash_over_running_firmware_survives_its_watchdog(tmp_path: Path) -> None:
    """A real board's watchdog keeps running after RESET_REPL and through mpremote's soft
    resets; with ~10 ms per round trip the upload takes far longer than the watchdog."""
    _config(tmp_path / "flash", wdt_ms=WDT_MS)
    with FakeBoard(tmp_path / "flash") as fb:
        flash.flash(fb.port, build.build(tmp_path / "b1"))
        wait_for(lambda: fb.wdt_timeout_ms == WDT_MS, "the firmware to start its watchdog")
        fb.write_latency = 0.001
        started = time.monotonic()
        report = flash.flash(fb.port, build.build(tmp_path / "b2", "rp2040"))
        took = time.monotonic() - started
        print(
            f"\nupload with the watchdog at {WDT_MS} ms took {took:.1f} s, "
            f"{fb.wdt_feeds} feeds, {fb.soft_resets} soft resets, events {fb.events}"
        )
        assert report.confirmed, report
        assert fb.wdt_resets == 0, fb.events


def test_safe_mode_feeds_the_watchdog_and_stock_mpremote_gets_in(tmp_path: Path) -> None:
    _config(tmp_path / "flash", wdt_ms=WDT_MS)
    with FakeBoard(tmp_path / "flash") as fb:
        b = build.build(tmp_path / "b")
        flash.flash(fb.port, b)

        async def to_safe_mode() -> None:
            client = await ControllerClient.open(fb.port)
            try:
                await client.hello()
                await client.reset(m.RESET_SAFE)
            finally:
                await client.close()

        asyncio.run(asyncio.wait_for(to_safe_mode(), 30))
        wait_for(lambda: _hello(fb.port).get("flags", 0) & m.FLAG_SAFE_MODE, "safe mode")  # type: ignore[operator]
        feeds = fb.wdt_feeds
        # Ten feeds span more than two watchdog periods: a starved board would have reset.
        wait_for(lambda: fb.wdt_feeds >= feeds + 10, "the safe-mode timer to feed")
        assert fb.wdt_resets == 0, fb.events
        # Plain mpremote (Ctrl-C, raw REPL, soft reset) while the link server holds the port.
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "mpremote",
                "connect",
                fb.port,
                "exec",
                "import bench.buildinfo as b; print('running', b.HASH)",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"running {b.hash}" in run.stdout
        feeds = fb.wdt_feeds
        wait_for(lambda: fb.wdt_feeds >= feeds + 10, "the timer to go on feeding at the REPL")
        assert fb.wdt_resets == 0, fb.events


def test_a_full_filesystem_half_way_keeps_the_old_firmware(tmp_path: Path) -> None:
    _config(tmp_path / "flash", wdt_ms=WDT_MS)
    with FakeBoard(tmp_path / "flash") as fb:
        first = build.build(tmp_path / "b1")
        flash.flash(fb.port, first)
        used = sum(p.stat().st_size for p in fb.flash.rglob("*") if p.is_file())
        size = sum((first.out / rel).stat().st_size for rel in first.files)
        fb.flash_bytes = used + size // 2  # full half-way through the next build
        result = _cli("flash", "--port", fb.port, "--out", str(tmp_path / "b2"), "--arch", "rp2040")
        assert result.returncode == 1, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "ENOSPC" in lines[0] and "keeps fw_a" in lines[0], lines
        assert (fb.flash / "active").read_text() == "fw_a" and not (fb.flash / "fw_b").exists()
        # The board boots the old firmware and says so.
        wait_for(lambda: _hello(fb.port).get("fw_hash") == first.hash.encode(), "the old firmware")
        assert fb.wdt_resets == 0, fb.events
        fb.flash_bytes = None  # space freed: the same upload now goes through
        again = _cli("flash", "--port", fb.port, "--out", str(tmp_path / "b3"), "--arch", "rp2040")
        assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize("command", ["info", "flash"])
def test_wrong_port_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    args = ["--port", str(tmp_path / "ttyNONE")]
    if command == "flash":
        args += ["--out", str(tmp_path / "b")]
    result = _cli(command, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ttyNONE" in lines[0], result.stderr


def test_esp32c3_is_refused_at_build_time(tmp_path: Path) -> None:
    result = _cli("build", "--arch", "esp32c3", "--out", str(tmp_path / "b"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PCNT" in lines[0], result.stderr
    assert not (tmp_path / "b").exists()


def test_the_fake_watchdog_resets_a_board_left_unfed_in_maintenance(tmp_path: Path) -> None:
    """What the firmware did before maintenance fed the watchdog (maint_ms=1: the timer never
    feeds): the upload outlasts the watchdog, the board resets mid-upload, and - thanks to the
    slots - comes back with the firmware it had."""
    _config(tmp_path / "flash", wdt_ms=WDT_MS, maint_ms=1)
    with FakeBoard(tmp_path / "flash") as fb:
        first = build.build(tmp_path / "b1")
        flash.flash(fb.port, first)
        wait_for(lambda: fb.wdt_timeout_ms == WDT_MS, "the firmware to start its watchdog")
        fb.write_latency = 0.001
        with pytest.raises(Exception):  # noqa: B017 - mpremote loses the board: any transport error
            flash.flash(fb.port, build.build(tmp_path / "b2", "rp2040"))
        # mpremote sees the port close before the board is back: wait for the reset to end.
        wait_for(lambda: "watchdog reset" in fb.events, "the watchdog reset")
        assert fb.wdt_resets >= 1
        assert (fb.flash / "active").read_text() == "fw_a"
        # Asked before its app runs, a booting board would take HELLO's bytes for keys (the
        # app turns Ctrl-C off before it starts the watchdog): wait for the watchdog first.
        wait_for(lambda: fb.wdt_timeout_ms == WDT_MS, f"the firmware to start again: {fb.events}")
        wait_for(lambda: _hello(fb.port).get("fw_hash") == first.hash.encode(), "the old firmware")
