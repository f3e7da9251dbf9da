"""The bench test suite's command-line options, registered once wherever pytest asks first.

Both the repository's root conftest and ``hil_tests/conftest.py`` call ``add_options``: the
root one so ``python -m pytest --bench X`` works from the repository root (pytest reads the
path after ``--bench`` as a test path while it looks for conftests), the suite's own so
``pytest hil_tests --bench X`` works with any root.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DEFAULT_BENCH = Path(__file__).resolve().parents[1] / "bench_configs" / "sim-1p-24.toml"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "bench test suite (hil_tests)")
    if any("--bench" in option.names() for option in group.options):
        return
    group.addoption(
        "--bench",
        default=str(DEFAULT_BENCH),
        help="bench file to test: simulated when it has a [sim] section, else real hardware "
        "(default: bench_configs/sim-1p-24.toml)",
    )
    group.addoption(
        "--meters",
        default=None,
        help="meter list of a real bench (addresses and types for the meter-port checks)",
    )
