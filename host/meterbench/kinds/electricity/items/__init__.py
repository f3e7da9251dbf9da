"""The electricity items, one module each; ``EXECUTORS`` maps plan step types to them.

Every executor takes the run context and one planned step (the step of every meter type that
has it, and the positions that need it), sets the source once per setpoint, starts the
controllers' measurement functions on all positions, streams the results into the store as they
arrive, and concludes each position through ``runner.items.measurement``. A position whose meter
stops answering or pulsing is concluded as ``error``/``no_result`` with an error-log entry; the
others go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from meterbench.kinds.electricity.items.basic_error import basic_error
from meterbench.kinds.electricity.items.clock import clock
from meterbench.kinds.electricity.items.communication import communication
from meterbench.kinds.electricity.items.creep import creep
from meterbench.kinds.electricity.items.register import register
from meterbench.kinds.electricity.items.register_span import register_span
from meterbench.kinds.electricity.items.starting import starting
from meterbench.kinds.electricity.items.std_dev import std_dev
from meterbench.kinds.electricity.items.tariff_switch import tariff_switch
from meterbench.kinds.electricity.items.time_setting import time_setting
from meterbench.kinds.electricity.items.unannounced import unannounced

if TYPE_CHECKING:
    from meterbench.kinds import Executor

EXECUTORS: Mapping[str, Executor] = {
    "communication": communication,
    "time_setting": time_setting,
    "creep": creep,
    "starting": starting,
    "basic_error": basic_error,
    "std_dev": std_dev,
    "register": register,
    "clock": clock,
    "register_span": register_span,
    "unannounced": unannounced,
    "tariff_switch": tariff_switch,
}

__all__ = ["EXECUTORS"]
