"""Test set-up for every suite: hypothesis is deterministic under CI (CI=true), random locally;
the bench test suite's options (hil_tests/hil_options.py) are known from the root on."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    path = Path(__file__).resolve().parent / "hil_tests" / "hil_options.py"
    spec = importlib.util.spec_from_file_location("hil_options_root", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.add_options(parser)
