"""One simulated line (an RS-485 bus or M-Bus segment) with devices on it.

Bytes from the master go in with the time they arrived; what the devices put on the line comes
out as scheduled pieces (when, bytes, rate). Every device sees every request frame of its
protocol and decides itself whether it is addressed, as on a real shared bus; when two devices
answer at once (a wildcard with several meters on the line), their bytes collide and the master
gets garbage, as it would on the wire.

With ``pace`` set, the line keeps the wire's timing: a request of n bytes ends n character
times after its first byte could have started, and the response delay counts from that end.
The servers then also send replies at the wire rate, so a client sees the real line's timing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from meterbench.sim.answer import Answer
from meterproto.cjt188.frame import StreamDecoder as Cjt188Decoder
from meterproto.dlt645.frame import StreamDecoder as Dlt645Decoder
from meterproto.dlt698.frame import StreamDecoder as Dlt698Decoder


class Device(Protocol):
    # "dlt645", "dlt698" or "cjt188": which frames the device listens to; fixed per model
    protocol: ClassVar[str]
    baudrate: int

    def respond(self, request: Any) -> Answer | None: ...


@dataclass(frozen=True)
class Scheduled:
    """Bytes to put on the line at ``at`` (event-loop time), sent at ``baudrate``."""

    at: float
    data: bytes
    baudrate: int


@dataclass(frozen=True)
class LineFormat:
    """What the master's port is set to, when the transport can tell (a pty knows its rate;
    parity is not checked because some pty drivers do not keep the parity flag)."""

    baudrate: int


def char_time(baudrate: int, char_bits: float = 11) -> float:
    return char_bits / baudrate


class SimLine:
    """Devices sharing one line, and the line's behaviour (local echo, pacing)."""

    def __init__(
        self,
        devices: Iterable[Device] = (),
        *,
        baudrate: int = 2400,
        char_bits: float = 11,
        pace: bool = False,
        echo: bool = False,
        latency_s: float = 0.0,
        gap_s: float = 0.0,
    ) -> None:
        self.devices: list[Device] = list(devices)
        self.baudrate = baudrate
        self.char_bits = char_bits
        self.pace = pace
        self.echo = echo
        self.latency_s = latency_s  # paced: the adapter's latency timer (bytes in bursts)
        self.gap_s = gap_s  # paced: idle time after every byte

    def add(self, device: Device) -> Device:
        self.devices.append(device)
        return device

    def session(self) -> LineSession:
        """Fresh framing state for one connection to the line."""
        return LineSession(self)


class LineSession:
    def __init__(self, line: SimLine) -> None:
        self.line = line
        self._dlt645 = Dlt645Decoder()
        self._cjt188 = Cjt188Decoder()
        self._dlt698 = Dlt698Decoder()
        self._rx_end = 0.0
        self.requests = 0

    def feed(self, data: bytes, now: float, fmt: LineFormat | None = None) -> list[Scheduled]:
        """Bytes from the master, arrived at ``now``; returns what the line sends back."""
        line = self.line
        rate = fmt.baudrate if fmt is not None else line.baudrate
        out: list[Scheduled] = []
        if line.echo:
            out.append(Scheduled(now, bytes(data), rate))
        if line.pace:
            self._rx_end = max(now, self._rx_end) + len(data) * char_time(rate, line.char_bits)
            end = self._rx_end
        else:
            end = now
        # The decoders all watch the line: a DL/T 645 frame does not pass as a CJ/T 188 one (the
        # checksums cover different spans) and a 698.45 frame needs two CRCs to match, so
        # devices of all three protocols can share it.
        frames = [("dlt645", f) for f in self._dlt645.feed(data)]
        frames += [("cjt188", f) for f in self._cjt188.feed(data)]
        frames += [("dlt698", f) for f in self._dlt698.feed(data)]
        for protocol, frame in frames:
            self.requests += 1
            answers = [
                a
                for a in (self._ask(d, frame, fmt) for d in line.devices if d.protocol == protocol)
                if a
            ]
            out.extend(self._schedule(answers, end))
        return out

    @staticmethod
    def _ask(device: Device, frame: Any, fmt: LineFormat | None) -> Answer | None:
        if fmt is not None and fmt.baudrate != device.baudrate:
            return None  # at the wrong rate the device hears only garbage
        return device.respond(frame)

    def _schedule(self, answers: list[Answer], end: float) -> list[Scheduled]:
        """Answers that overlap on the wire collide; answers one after another (a slower meter
        starting after a faster one has finished) both arrive intact, as on a real line."""
        out: list[Scheduled] = []
        for group in self._overlapping(answers):
            if len(group) == 1:
                a = group[0]
                out += [Scheduled(end + a.delay + p.offset, p.data, a.baudrate) for p in a.pieces]
                continue
            # Collision: overlapping transmitters; the receiver sees the bits ANDed (a driven 0
            # wins on most transceivers), which breaks every frame.
            start = min(a.delay for a in group)
            streams = [a.data for a in group]
            length = max(len(s) for s in streams)
            garbled = bytearray(b"\xff" * length)
            for s in streams:
                for i, b in enumerate(s):
                    garbled[i] &= b
            out.append(Scheduled(end + start, bytes(garbled), group[0].baudrate))
        return out

    def _overlapping(self, answers: list[Answer]) -> list[list[Answer]]:
        """The answers in groups whose time on the wire overlaps."""

        def span(a: Answer) -> tuple[float, float]:
            first = a.delay + min((p.offset for p in a.pieces), default=0.0)
            last = a.delay + max((p.offset for p in a.pieces), default=0.0)
            return first, last + len(a.data) * char_time(a.baudrate, self.line.char_bits)

        groups: list[list[Answer]] = []
        reach = -1.0
        for a in sorted(answers, key=lambda a: span(a)[0]):
            first, last = span(a)
            if groups and first < reach:
                groups[-1].append(a)
                reach = max(reach, last)
            else:
                groups.append([a])
                reach = last
        return groups


__all__ = ["Device", "LineFormat", "LineSession", "Scheduled", "SimLine", "char_time"]
