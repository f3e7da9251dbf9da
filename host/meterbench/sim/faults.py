"""Misbehaviour of simulated meters and lines, for fault-injection tests.

A fault plan belongs to one simulated meter and turns its correct reply into what a bad meter
or a bad line delivers: nothing, too late, corrupted, with a wrong checksum, preceded by the
request's echo (whole or cut short), wrapped in garbage, split into dribbles, or merged with a
stale earlier reply. Plans can apply to the next N replies only and/or at random with a fixed
seed, so every test run sees the same sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    NONE = "none"
    SILENT = "silent"  # no reply at all (a dead or absent meter)
    SLOW = "slow"  # reply after the slow delay, beyond Td max
    CORRUPT = "corrupt"  # one data byte flipped: the checksum no longer matches
    WRONG_CHECKSUM = "wrong-checksum"  # CS off by one
    ECHO = "echo"  # the line returns the request before the reply
    PARTIAL_ECHO = "partial-echo"  # the first part of the request only, then the reply
    GARBAGE = "garbage"  # random bytes (68H, 16H and FEH among them) around the reply
    SPLIT = "split"  # the reply dribbles out in small pieces with short gaps
    MERGE = "merge"  # a stale earlier reply and this one arrive in one piece

    @classmethod
    def parse(cls, text: str) -> Fault:
        try:
            return cls(text.strip().lower().replace("_", "-"))
        except ValueError:
            names = ", ".join(f.value for f in cls)
            raise ValueError(f"unknown fault {text!r}; choose one of {names}") from None


@dataclass
class Piece:
    """Bytes to send ``offset`` seconds after the reply is due."""

    offset: float
    data: bytes


@dataclass
class FaultPlan:
    """Which fault, for how many replies (None: all), with what probability."""

    fault: Fault = Fault.NONE
    count: int | None = None
    probability: float = 1.0
    slow_delay: float = 0.8
    seed: int = 188
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def next_fault(self) -> Fault:
        """The fault for the next reply (and use one up from ``count``)."""
        if self.fault is Fault.NONE or self.count == 0:
            return Fault.NONE
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return Fault.NONE
        if self.count is not None:
            self.count -= 1
        return self.fault

    def apply(
        self, fault: Fault, request: bytes, reply: bytes, stale: bytes | None, data_start: int
    ) -> list[Piece] | None:
        """The pieces that reach the master instead of ``reply``; None for silence.

        ``data_start``: index of the first DATA byte in ``reply`` (the corruption target).
        """
        rng = self._rng
        if fault is Fault.SILENT:
            return None
        if fault is Fault.SLOW:
            return [Piece(self.slow_delay, reply)]
        if fault is Fault.CORRUPT:
            out = bytearray(reply)
            span = max(1, len(out) - 2 - data_start)
            out[data_start + rng.randrange(span)] ^= 1 << rng.randrange(8)
            return [Piece(0.0, bytes(out))]
        if fault is Fault.WRONG_CHECKSUM:
            out = bytearray(reply)
            out[-2] = (out[-2] + 1) & 0xFF
            return [Piece(0.0, bytes(out))]
        if fault is Fault.ECHO:
            return [Piece(0.0, request + reply)]
        if fault is Fault.PARTIAL_ECHO:
            return [Piece(0.0, request[: max(1, len(request) // 2)] + reply)]
        if fault is Fault.GARBAGE:
            junk = bytes(rng.choice((0x68, 0x16, 0xFE, rng.randrange(256))) for _ in range(12))
            tail = bytes(rng.randrange(256) for _ in range(5))
            return [Piece(0.0, junk + reply + tail)]
        if fault is Fault.SPLIT:
            pieces, pos, offset = [], 0, 0.0
            while pos < len(reply):
                size = rng.randint(1, 5)
                pieces.append(Piece(offset, reply[pos : pos + size]))
                pos += size
                offset += 0.002
            return pieces
        if fault is Fault.MERGE:
            return [Piece(0.0, (stale or b"") + reply)]
        return [Piece(0.0, reply)]


@dataclass
class NoisePlan(FaultPlan):
    """Line noise on a bus: each reply is lost with ``drop`` or corrupted with ``probability``,
    independently of the other replies (one seeded generator, so runs repeat)."""

    drop: float = 0.0

    def next_fault(self) -> Fault:
        r = self._rng.random()
        if r < self.drop:
            return Fault.SILENT
        if r < self.drop + self.probability:
            return Fault.CORRUPT
        return Fault.NONE
