"""Upload a build to a controller with mpremote, reset it, and confirm the version over HELLO.

Steps: (1) if the link answers, ask the firmware to return to the REPL (RESET mode REPL),
because the link disables Ctrl-C and mpremote could not interrupt it; (2) with mpremote's
SerialTransport (pinned mpremote==1.29.0): raw REPL with soft reset, create directories, remove
stale ``.py`` files that would shadow the new ``.mpy`` ones, write every file and the manifest;
(3) back to the friendly REPL and Ctrl-D: a soft reset that runs main.py, as after power-up;
(4) HELLO over the link until it answers, and compare its fw_hash with the build's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

import serial
from mpremote.transport_serial import SerialTransport

from meterbench.devices.controller import ControllerClient, ControllerError
from meterbench.firmware_tools.build import Build
from meterproto.link import messages as m


@dataclass(frozen=True)
class FlashReport:
    port: str
    written: int
    reported_hash: str
    expected_hash: str

    @property
    def confirmed(self) -> bool:
        return self.reported_hash == self.expected_hash


async def leave_link(port: str, baudrate: int, timeout: float = 0.5) -> bool:
    """Ask running firmware to hand the port back to the REPL; False if nothing answered.

    After the ACK, wait for the REPL prompt: bytes mpremote sent while main.py was still
    winding down would be lost.
    """
    client = await ControllerClient.open(port, baudrate, timeout=timeout, retries=1)
    try:
        await client.reset(m.RESET_REPL)
    except ControllerError:
        return False
    finally:
        await client.close()
    await asyncio.to_thread(_wait_for_prompt, port, baudrate)
    return True


def _wait_for_prompt(port: str, baudrate: int, timeout: float = 5) -> None:
    seen = b""
    end = time.monotonic() + timeout
    with serial.serial_for_url(port, baudrate=baudrate, timeout=0.1) as ser:
        while b">>> " not in seen and time.monotonic() < end:
            seen = seen[-16:] + ser.read(256)


def upload(port: str, build: Build, baudrate: int = 115200) -> int:
    """Write the build's files to the board's filesystem; returns how many were written."""
    t = SerialTransport(port, baudrate=baudrate)
    try:
        t.enter_raw_repl(soft_reset=True)
        dirs = sorted({str(d) for p in build.files for d in PurePosixPath(p).parents} - {"."})
        for d in dirs:
            if not t.fs_exists(d):
                t.fs_mkdir(d)
        for rel in sorted(build.files):
            if rel.endswith(".mpy"):
                stale = rel[:-4] + ".py"
                if t.fs_exists(stale):
                    t.fs_rmfile(stale)
            t.fs_writefile(rel, (build.out / rel).read_bytes())
        t.fs_writefile("manifest.json", build.manifest.read_bytes())
        t.exit_raw_repl()
        t.serial.write(b"\x04")  # soft reset in the friendly REPL: boot.py and main.py run
        # mpremote is untyped; its transport may wrap the port in a debug interceptor, but the
        # port here is the pyserial one opened above, which has flush().
        t.serial.flush()  # pyright: ignore[reportAttributeAccessIssue]
    finally:
        t.close()
    return len(build.files)


async def confirm(port: str, baudrate: int, deadline_s: float = 15) -> str:
    """fw_hash reported by HELLO once the freshly reset firmware answers."""
    end = time.monotonic() + deadline_s
    while True:
        client = await ControllerClient.open(port, baudrate, timeout=0.5, retries=0)
        try:
            reply = await client.hello()
            return reply["fw_hash"].decode()
        except ControllerError:
            if time.monotonic() > end:
                raise
        finally:
            await client.close()
        await asyncio.sleep(0.2)


def flash(port: str, build: Build, baudrate: int = 115200) -> FlashReport:
    asyncio.run(leave_link(port, baudrate))
    written = upload(port, build, baudrate)
    reported = asyncio.run(confirm(port, baudrate))
    return FlashReport(port, written, reported, build.hash)
