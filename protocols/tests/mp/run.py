"""Entry point: ``python run.py [module ...]`` (defaults to the protocol suites).

From the repository root, with P=protocols/tests/mp:
CPython: ``PYTHONPATH=protocols:$P python $P/run.py``
MicroPython: ``MICROPYPATH=protocols:$P:.frozen micropython $P/run.py``
"""

import sys

import mptest

DEFAULT_MODULES = ("suite_crc", "suite_link", "suite_dlt645")

mptest.main(sys.argv[1:] or DEFAULT_MODULES)
