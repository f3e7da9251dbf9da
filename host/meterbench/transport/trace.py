"""Ring buffer of the last raw frames on a bus, for run records on failure and for ``--trace``.

Entries hold hex text, never the bytes themselves, and the text is masked before it is stored:
passwords and operator codes become ``**`` (and so does the checksum of such a frame, which
would otherwise give away the sum of the hidden bytes). So nothing secret can leak from a record
or a printed trace, whatever a caller does with it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass

TX = "tx"
RX = "rx"
EVENT = "event"

MASK = "**"

# Where frame times come from: the wall clock, or a simulated bench's time line (a bench on
# virtual time stamps its frames in simulated time, so a seeded run's record is the same in
# every run). A context variable: it holds for the tasks of the run that set it.
_clock: ContextVar[Callable[[], float] | None] = ContextVar("trace_clock", default=None)


def use_clock(now: Callable[[], float]) -> Token[Callable[[], float] | None]:
    """Stamp frames with ``now()`` (seconds since the epoch) in this context."""
    return _clock.set(now)


def reset_clock(token: Token[Callable[[], float] | None]) -> None:
    _clock.reset(token)


@dataclass(frozen=True)
class TraceEntry:
    """One frame (or port event) seen on a bus."""

    time: float  # wall clock, seconds since the epoch
    monotonic: float
    port: str
    direction: str  # "tx", "rx" or "event"
    hex: str  # masked, bytes separated by spaces; for events the message
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def format(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.time))
        millis = int((self.time % 1) * 1000)
        head = f"{stamp}.{millis:03d} {self.port} {self.direction.upper():5}"
        if self.direction == EVENT:
            return f"{head} {self.hex}"
        note = f"  ({self.note})" if self.note else ""
        return f"{head} {self.hex}{note}"


def masked_hex(data: bytes, masked: Iterable[int] = ()) -> str:
    """Hex text of ``data`` with the byte positions in ``masked`` shown as ``**``."""
    hidden = set(masked)
    return " ".join(MASK if i in hidden else f"{b:02X}" for i, b in enumerate(data))


class TraceBuffer:
    """The last ``size`` entries of one bus; listeners see every entry as it is added."""

    def __init__(self, size: int = 200, port: str = "") -> None:
        self._entries: deque[TraceEntry] = deque(maxlen=size)
        self.port = port
        self._listeners: list[Callable[[TraceEntry], None]] = []

    def add(self, direction: str, data: bytes, masked: Iterable[int] = (), note: str = "") -> None:
        self._append(direction, masked_hex(data, masked), note)

    def event(self, message: str) -> None:
        self._append(EVENT, message, "")

    def _append(self, direction: str, text: str, note: str) -> None:
        clock = _clock.get()
        if clock is None:
            entry = TraceEntry(time.time(), time.monotonic(), self.port, direction, text, note)
        else:
            now = clock()
            entry = TraceEntry(now, now, self.port, direction, text, note)
        self._entries.append(entry)
        for listener in list(self._listeners):
            listener(entry)

    def listen(self, listener: Callable[[TraceEntry], None]) -> None:
        self._listeners.append(listener)

    def unlisten(self, listener: Callable[[TraceEntry], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def last(self, count: int | None = None) -> list[TraceEntry]:
        entries = list(self._entries)
        return entries if count is None else entries[-count:]

    def records(self, count: int | None = None) -> list[dict[str, object]]:
        """JSON-ready entries for a run record."""
        return [entry.to_dict() for entry in self.last(count)]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
