"""Endpoints by URL and one bus manager per physical bus.

``Bus`` is what drivers use: it opens a pyserial URL exclusively with the bus's line settings,
serialises transactions, applies per-transaction deadlines from protocol timing and wire time,
retries, removes local echo, matches replies, keeps a masked trace of the last frames and
reopens a vanished port with back-off.
"""

from meterbench.transport.bus import Bus, BusStats, BusTiming, Exchange
from meterbench.transport.dialects import CJT188, DLT645, Dialect
from meterbench.transport.errors import (
    BadFrame,
    CorruptReply,
    PortInUseError,
    PortLostError,
    PortOpenError,
    ReplyTimeout,
    TransportError,
)
from meterbench.transport.settings import SerialSettings
from meterbench.transport.trace import TraceBuffer, TraceEntry

__all__ = [
    "CJT188",
    "DLT645",
    "BadFrame",
    "Bus",
    "BusStats",
    "BusTiming",
    "CorruptReply",
    "Dialect",
    "Exchange",
    "PortInUseError",
    "PortLostError",
    "PortOpenError",
    "ReplyTimeout",
    "SerialSettings",
    "TraceBuffer",
    "TraceEntry",
    "TransportError",
]
