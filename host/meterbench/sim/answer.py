"""What a simulated device hands to the line: bytes, when, and at which rate.

Kept separate from every model so the line and the servers treat DL/T 645 and CJ/T 188 devices
alike and the models stay free of transport.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meterbench.sim.faults import Piece


@dataclass
class Answer:
    """Reply pieces of one device to one request.

    ``delay``: seconds from the end of the request to the first byte (the response delay Td);
    piece offsets are counted from there. ``baudrate``: the rate the device sends at (a meter
    answering a 17H still uses the old rate).
    """

    delay: float
    pieces: list[Piece] = field(default_factory=list)
    baudrate: int = 2400
    source: str = ""

    @property
    def data(self) -> bytes:
        return b"".join(p.data for p in self.pieces)
