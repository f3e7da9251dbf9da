"""Where the files that come with meterbench live: the example benches, plans, meter types and
meter lists, and the controller firmware sources.

An installed wheel carries them as package data (``meterbench/bench_configs``,
``meterbench/firmware_src``); a source checkout (editable install, the test suites) has them at
the repository root (``bench_configs/``, ``firmware/``), which the wheel build maps to those
names. Every command finds them here, so none depends on the working directory.
"""

from __future__ import annotations

from pathlib import Path

import meterproto

PACKAGE = Path(__file__).resolve().parent


def _data_dir(installed: str, checkout: str) -> Path:
    inside = PACKAGE / installed
    if inside.is_dir():
        return inside
    return PACKAGE.parents[1] / checkout


def bench_configs_dir() -> Path:
    """Shipped benches (``*.toml``), ``plans/``, ``meter_types/`` and ``meters/``."""
    return _data_dir("bench_configs", "bench_configs")


def firmware_dir() -> Path:
    """The controller firmware sources: ``boot.py``, ``main.py`` and ``lib/``."""
    return _data_dir("firmware_src", "firmware")


def protocols_dir() -> Path:
    """The directory holding the ``meterproto`` package (its MicroPython-safe modules go on the
    controllers with the firmware)."""
    return Path(meterproto.__file__).resolve().parent.parent
