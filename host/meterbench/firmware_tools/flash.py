"""Upload a build to a controller with mpremote, atomically, and confirm the version over HELLO.

Why A/B slots: an upload is hundreds of raw-REPL round trips; a cable pulled, a reset or a full
filesystem half-way must leave the board booting the firmware it had, reporting that
firmware's hash. So the firmware lives in one of two slot directories (``fw_a/lib``,
``fw_b/lib``) and the one-line file ``active`` names the slot boot.py puts on the path:

1. if the link answers, ask the firmware for maintenance (RESET mode REPL): it hands the port
   to the REPL and keeps the watchdog fed from a timer (the link disables Ctrl-C, and a running
   watchdog would reset the board mid-upload);
2. with mpremote's SerialTransport (pinned mpremote==1.29.0): raw REPL with soft reset; empty
   the inactive slot (freeing its space) and write every file into it (stage);
3. read back every file's SHA-256 on the board and compare with the manifest (verify); any
   failure removes the staged slot again and stops with one line;
4. boot.py and main.py (outside the slots) go through ``<name>.new`` and a rename, each
   verified; then ``active`` is replaced the same way (switch: LittleFS renames atomically);
5. friendly REPL and Ctrl-D: a soft reset that runs main.py, as after power-up;
6. HELLO over the link until it answers, and compare its fw_hash with the build's. The hash
   stands for the whole file set: HELLO reports the buildinfo of the active slot, and a slot
   only becomes active after every one of its files was verified.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from meterbench.devices.controller import ControllerClient, ControllerError
from meterbench.firmware_tools.build import SOURCE_FILES, Build
from meterproto.link import messages as m

ENOSPC = 28  # MicroPython's errno, whatever the host's
SLOTS = ("fw_a", "fw_b")
ACTIVE = "active"
# Our packages in the layout before slots (lib/ at the root); removed once a slot is active.
LEGACY = ("lib/bench", "lib/meterproto", "manifest.json")


class FlashError(Exception):
    """The upload failed; the board still boots its previous firmware."""


@dataclass(frozen=True)
class FlashReport:
    port: str
    written: int
    reported_hash: str
    expected_hash: str
    slot: str = ""

    @property
    def confirmed(self) -> bool:
        return self.reported_hash == self.expected_hash


async def leave_link(port: str, baudrate: int, timeout: float = 0.5) -> bool:
    """Ask running firmware for maintenance (the REPL, watchdog fed); False if nothing answered.

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
    try:
        await asyncio.to_thread(_wait_for_prompt, port, baudrate)
    except serial.SerialException as exc:
        raise FlashError(f"the board went away entering maintenance: {_reason(exc)}") from None
    return True


def _wait_for_prompt(port: str, baudrate: int, timeout: float = 5) -> None:
    seen = b""
    end = time.monotonic() + timeout
    with serial.serial_for_url(port, baudrate=baudrate, timeout=0.1) as ser:
        while b">>> " not in seen and time.monotonic() < end:
            seen = seen[-16:] + ser.read(256)


def _reason(exc: BaseException) -> str:
    """The last line of a board-side traceback, or the text; a full filesystem by name."""
    if isinstance(exc, OSError) and exc.errno == ENOSPC:
        return "the board's filesystem is full (ENOSPC)"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[-1]


class _Board:
    """The few filesystem steps the upload needs, on an open raw-REPL transport."""

    def __init__(self, t: SerialTransport) -> None:
        self.t = t

    def read_active(self) -> str | None:
        if not self.t.fs_exists(ACTIVE):
            return None
        slot = self.t.fs_readfile(ACTIVE).decode().strip()
        return slot if slot in SLOTS else None

    def remove_tree(self, path: str) -> None:
        self.t.exec(
            "import os\n"
            "def _rm(p):\n"
            " try:\n"
            "  m = os.stat(p)[0]\n"
            " except OSError:\n"
            "  return\n"
            " if m & 0x4000:\n"
            "  for e in os.ilistdir(p):\n"
            "   _rm(p + '/' + e[0])\n"
            "  os.rmdir(p)\n"
            " else:\n"
            "  os.remove(p)\n"
            f"_rm({path!r})\n"
        )

    def write(self, path: str, data: bytes) -> None:
        for d in reversed(PurePosixPath(path).parents):
            if str(d) != "." and not self.t.fs_exists(str(d)):
                self.t.fs_mkdir(str(d))
        self.t.fs_writefile(path, data)

    def verify(self, path: str, sha256: str) -> None:
        got = self.t.fs_hashfile(path, "sha256").hex()
        if got != sha256:
            raise FlashError(f"{path} reads back with SHA-256 {got[:16]}, expected {sha256[:16]}")

    def replace(self, src: str, dest: str) -> None:
        self.t.exec(f"import os\nos.rename({src!r}, {dest!r})")


def upload(port: str, build: Build, baudrate: int = 115200) -> tuple[int, str]:
    """Stage, verify and switch to the build; returns (files written, slot now active).

    FlashError (one line) when a write or a check fails: the staged slot is removed and the
    board keeps booting the firmware it had."""
    t = SerialTransport(port, baudrate=baudrate)
    try:
        t.enter_raw_repl(soft_reset=True)
        board = _Board(t)
        current = board.read_active()
        slot = SLOTS[1] if current == SLOTS[0] else SLOTS[0]
        slot_files = {rel: sha for rel, sha in build.files.items() if rel not in SOURCE_FILES}
        step = "preparing"
        try:
            board.remove_tree(slot)  # a stale or half-written copy: frees its space first
            for rel in sorted(slot_files):
                step = f"writing {slot}/{rel}"
                board.write(f"{slot}/{rel}", (build.out / rel).read_bytes())
            step = f"writing {slot}/manifest.json"
            board.write(f"{slot}/manifest.json", build.manifest.read_bytes())
            for rel, sha in sorted(slot_files.items()):
                step = f"verifying {slot}/{rel}"
                board.verify(f"{slot}/{rel}", sha)
            for rel in SOURCE_FILES:
                step = f"writing {rel}"
                board.write(rel + ".new", (build.out / rel).read_bytes())
                board.verify(rel + ".new", build.files[rel])
                board.replace(rel + ".new", rel)
        except (TransportError, FlashError, OSError) as exc:
            try:
                board.remove_tree(slot)
                for rel in SOURCE_FILES:
                    board.remove_tree(rel + ".new")
                _restart(t)  # back to measuring with the firmware it had
            except (TransportError, OSError):
                pass  # the board is gone; the slot stays inactive either way
            keeps = f"the board keeps {current or 'its previous firmware'}"
            raise FlashError(f"{step} failed: {_reason(exc)}; {keeps}") from None
        board.write(ACTIVE + ".new", slot.encode())
        board.replace(ACTIVE + ".new", ACTIVE)  # the switch
        for legacy in LEGACY:
            board.remove_tree(legacy)
        if current is not None and current != slot:
            board.remove_tree(current)  # the previous slot: its space for the next upload
        _restart(t)
    finally:
        t.close()
    return len(build.files), slot


def _restart(t: SerialTransport) -> None:
    """Friendly REPL, then Ctrl-D: a soft reset that runs boot.py and main.py."""
    t.exit_raw_repl()
    t.serial.write(b"\x04")
    t.serial.flush()  # pyright: ignore[reportAttributeAccessIssue]  # mpremote types it as its SerialIntercept, which passes flush on


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
    written, slot = upload(port, build, baudrate)
    reported = asyncio.run(confirm(port, baudrate))
    return FlashReport(port, written, reported, build.hash, slot)
