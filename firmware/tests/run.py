"""Firmware suite entry: ``run.py [module ...]``; the import path needs firmware/lib,
firmware/tests, protocols and protocols/tests/mp (the shared mptest runner)."""

import sys

import mptest

DEFAULT_MODULES = (
    "suite_clock",
    "suite_edges",
    "suite_gate",
    "suite_window",
    "suite_results",
    "suite_rs485",
    "suite_config",
    "suite_server",
    "suite_measure",
    "suite_widecount",
)

mptest.main(sys.argv[1:] or DEFAULT_MODULES)
