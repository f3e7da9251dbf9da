"""The bus manager: one per physical bus (one RS-485 line, one serial-server port).

It owns everything that must be done once per line rather than once per meter: the lock that
keeps meters on a half-duplex line from being addressed at the same time, the deadline of each
transaction, retries, local-echo removal, matching replies to requests, the trace of the last
raw frames, and reconnection when the port vanishes.

Deadlines come from the protocol's timing and the wire time at the bus rate, per attempt:
the request's own time on the wire, then up to Td_max (+ a host margin and any network delay)
for the first reply byte, then the expected reply's wire time; a gap longer than Tb inside the
reply ends the attempt. A silent meter therefore costs its attempts and nothing else; only an
OS-level failure of the port (unplugged adapter, closed socket) triggers a reconnect, which
runs in the background with exponential back-off while transactions wait a bounded time for it.

Frames are found by structure and checksum only. Timing decides when to give up, never where a
frame starts or ends.

A reply carries no transaction number, so the bus makes sure only one request can be answered
at any time: an attempt listens for the whole response window of the meters on the line (the
bench's ``response_delay_max_s``, at least the protocol's Td max), so a slow meter's reply is
taken by the request it answers and never by the next one. When a request was left without its
reply (a timeout, or the caller gave up mid-attempt), the bus waits out one more window before
it sends anything else, and whatever arrives meanwhile, with no request outstanding, is
discarded and traced, never matched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from meterbench.transport.dialects import Dialect
from meterbench.transport.echo import EchoCanceller
from meterbench.transport.errors import (
    BadFrame,
    CorruptReply,
    PortLostError,
    PortOpenError,
    ReplyTimeout,
    TransportError,
)
from meterbench.transport.port import AsyncPort
from meterbench.transport.settings import SerialSettings
from meterbench.transport.trace import RX, TX, TraceBuffer
from meterbench.waits import within

_RAW_KEEP = 1024  # bytes of an attempt's input kept for hidden-frame recovery
_RAW_LIMIT = 4096


class Port(Protocol):
    """What the bus needs of an open endpoint (``AsyncPort``, or an in-memory simulated line)."""

    @property
    def lost(self) -> bool: ...

    @property
    def error(self) -> BaseException | None: ...

    async def read(self, timeout: float) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    def reset_input(self) -> None: ...

    def set_baudrate(self, baudrate: int) -> None: ...

    async def close(self) -> None: ...


PortOpener = Callable[[str, SerialSettings, bool], Awaitable[Port]]


async def open_port(url: str, settings: SerialSettings, exclusive: bool) -> Port:
    """The default opener: a real endpoint by URL."""
    return await AsyncPort.open(url, settings, exclusive=exclusive)


@dataclass(frozen=True)
class BusTiming:
    """Per-bus timing policy. ``td_max``/``tb`` None take the protocol's figures.

    ``response_window``: the longest any meter on this bus may take to answer (the bench's
    ``response_delay_max_s``); an attempt listens at least this long, and after a request was
    left unanswered nothing is sent until a whole window has passed without one."""

    td_max: float | None = None
    tb: float | None = None
    response_window: float | None = None
    margin: float = 0.1  # host latency: USB adapters buffer up to 16 ms, plus OS scheduling
    network_delay: float = 0.0  # one way, for serial servers and DTUs (counted both ways)
    retries: int = 2
    reconnect_delay: float = 0.1
    reconnect_delay_max: float = 5.0
    reconnect_grace: float = 2.0  # how long a transaction waits for a vanished port


@dataclass
class Exchange:
    """One request and how to recognise its reply.

    ``match`` is called with every reply frame (D7 = 1) decoded during the attempt: True takes
    it, False ignores it (a stale reply or another meter's), raising BadFrame marks the
    attempt corrupt. ``match`` None means no reply is expected (broadcasts).
    """

    request: bytes
    dialect: Dialect
    match: Callable[[Any], bool] | None
    reply_len: int = 216  # longest expected reply frame in bytes, preamble included
    label: str = ""
    retries: int | None = None
    switch_baudrate: int | None = None  # switch the bus rate after a normal reply (17H)


@dataclass
class BusStats:
    transactions: int = 0
    attempts: int = 0
    timeouts: int = 0
    corrupt: int = 0
    echo_bytes: int = 0
    ignored_frames: int = 0
    port_losses: int = 0
    reconnects: int = 0
    late_discarded: int = 0  # frames that arrived with no request outstanding
    quiet_waits: int = 0  # times the bus waited out a window before sending
    timeout_wait_s: float = 0.0  # wall seconds spent in attempts that got no reply at all


@dataclass
class _Attempt:
    frame: Any = None
    corrupt: str = ""  # why the attempt saw only unusable replies
    seen: set[bytes] = field(default_factory=set)


class Bus:
    """Serialised, deadline-bound request/reply transactions on one line."""

    def __init__(
        self,
        url: str,
        settings: SerialSettings | None = None,
        *,
        timing: BusTiming | None = None,
        name: str | None = None,
        trace_size: int = 200,
        exclusive: bool = True,
        opener: PortOpener = open_port,
    ) -> None:
        self.url = url
        self._settings = settings or SerialSettings()
        self.timing = timing or BusTiming()
        self.name = name or url
        self.exclusive = exclusive
        self._opener = opener
        self._quiet_until = 0.0  # nothing is sent before this (loop time): a reply may be due
        self._last_tx_end = 0.0  # when the last request left the line
        self._overran = False  # an attempt of the current transaction got no reply in time
        self.trace = TraceBuffer(trace_size, self.name)
        self.stats = BusStats()
        self._port: Port | None = None
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._reconnector: asyncio.Task[None] | None = None
        self._closing = False

    # -- life cycle -------------------------------------------------------------------------
    @property
    def settings(self) -> SerialSettings:
        return self._settings

    @property
    def is_open(self) -> bool:
        return self._port is not None and not self._port.lost

    async def open(self) -> Bus:
        """Open the port now; a bad port is reported at once (no back-off on the first open)."""
        self._closing = False
        if self._port is None:
            self._port = await self._opener(self.url, self._settings, self.exclusive)
            self._ready.set()
            self.trace.event(f"opened {self.url} at {self._settings}")
        return self

    async def close(self) -> None:
        self._closing = True
        if self._reconnector is not None:
            self._reconnector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnector
            self._reconnector = None
        port, self._port = self._port, None
        self._ready.clear()
        if port is not None:
            await port.close()

    async def __aenter__(self) -> Bus:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def set_baudrate(self, baudrate: int) -> None:
        async with self._lock:
            self._apply_baudrate(baudrate)

    def _apply_baudrate(self, baudrate: int) -> None:
        self._settings = self._settings.with_baudrate(baudrate)
        if self._port is not None and not self._port.lost:
            self._port.set_baudrate(baudrate)
        self.trace.event(f"rate switched to {self._settings}")

    # -- deadlines --------------------------------------------------------------------------
    def _td_max(self, dialect: Dialect) -> float:
        return dialect.td_max if self.timing.td_max is None else self.timing.td_max

    def response_window(self, dialect: Dialect) -> float:
        """How long after its request a reply may still come: the meters' declared window,
        never less than the protocol's Td max."""
        window = self.timing.response_window
        td_max = self._td_max(dialect)
        return td_max if window is None else max(td_max, window)

    def _tb(self, dialect: Dialect) -> float:
        return dialect.tb if self.timing.tb is None else self.timing.tb

    def attempt_limit(self, ex: Exchange) -> float:
        """The longest one attempt can take, in seconds."""
        t = self.timing
        wire = self._settings.wire_time
        window = self.response_window(ex.dialect)
        first = wire(len(ex.request)) + window + t.margin + 2 * t.network_delay
        if ex.match is None:
            return wire(len(ex.request)) + ex.dialect.td_min + t.margin
        return first + self._tb(ex.dialect) + wire(ex.reply_len) + t.margin

    def budget(self, ex: Exchange) -> float:
        """The longest a whole transaction can take: a quiet wait for an earlier request's
        reply, every attempt, and one reconnect wait."""
        retries = self.timing.retries if ex.retries is None else ex.retries
        quiet = 2 * self._quiet_span(ex.dialect)  # the longest wait for an overrun reply
        return quiet + (retries + 1) * self.attempt_limit(ex) + self.timing.reconnect_grace

    def _quiet_span(self, dialect: Dialect) -> float:
        t = self.timing
        return self.response_window(dialect) + t.margin + 2 * t.network_delay

    # -- transactions -----------------------------------------------------------------------
    async def transact(self, ex: Exchange) -> Any:
        """Send ``ex.request`` and return the matching reply frame (None for broadcasts).

        Raises ReplyTimeout, CorruptReply or PortLostError; never takes longer than
        ``budget(ex)``. A port lost in the middle of an attempt does not use up a retry (the
        request never had its chance): the bus waits for the port instead, within the budget.
        """
        retries = self.timing.retries if ex.retries is None else ex.retries
        loop = asyncio.get_running_loop()
        async with self._lock:
            self.stats.transactions += 1
            end = loop.time() + self.budget(ex)
            last_start = end - self.attempt_limit(ex)  # an attempt must be able to finish
            await self._wait_quiet(ex.dialect)
            try:
                return await self._attempts(ex, retries, last_start)
            finally:
                if self._overran:
                    # A reply did not come within the window. Should it come after all (a meter
                    # out of its specification), or the reply of a retry sent after it, it must
                    # not meet a later request: wait out two more windows from the last request.
                    self._quiet_until = max(
                        self._quiet_until, self._last_tx_end + 2 * self._quiet_span(ex.dialect)
                    )

    async def _attempts(self, ex: Exchange, retries: int, last_start: float) -> Any:
        loop = asyncio.get_running_loop()
        self._overran = False
        corrupt = ""
        done = 0
        while done <= retries:
            port = await self._wait_port(last_start)
            self.stats.attempts += 1
            if done:
                self.trace.event(f"retry {done} of {retries}: {ex.label}")
            began = loop.time()
            try:
                result = await self._attempt(port, ex)
            except PortLostError as exc:
                self._port_lost(port, exc)
                if loop.time() >= last_start:
                    raise
                continue
            done += 1
            if ex.match is None:
                return None
            if result.frame is not None:
                if ex.switch_baudrate is not None and not result.frame.abnormal:
                    self._apply_baudrate(ex.switch_baudrate)
                return result.frame
            corrupt = result.corrupt
            if corrupt:
                self.stats.corrupt += 1
            else:
                self.stats.timeouts += 1
                self.stats.timeout_wait_s += loop.time() - began
                self._overran = True
        if corrupt:
            raise CorruptReply(
                f"{ex.label or 'request'}: no usable reply after {done} attempt(s) ({corrupt})",
                done,
            )
        raise ReplyTimeout(f"{ex.label or 'request'}: no reply after {done} attempt(s)", done)

    async def _wait_quiet(self, dialect: Dialect) -> None:
        """Before sending: wait until no earlier request can still be answered, discarding
        (and tracing) whatever arrives meanwhile."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._quiet_until:
            return
        self.stats.quiet_waits += 1
        self.trace.event(
            f"waiting {self._quiet_until - loop.time():.3f} s: an earlier request may still "
            "be answered"
        )
        decoder = dialect.decoder()
        while (left := self._quiet_until - loop.time()) > 0:
            port = self._port
            if port is None or port.lost:
                await asyncio.sleep(left)
                break
            try:
                chunk = await port.read(left)
            except PortLostError:
                break  # the attempt's own wait for the port deals with it
            if chunk:
                self._discard(dialect, decoder.feed(chunk))
        self._discard(dialect, decoder.flush())

    def _discard(self, dialect: Dialect, frames: list[Any]) -> None:
        for frame in frames:
            raw = bytes(frame.raw)
            self.stats.late_discarded += 1
            self.trace.add(
                RX, raw, dialect.secret_positions(raw), "late, no request outstanding: discarded"
            )

    async def _attempt(self, port: Port, ex: Exchange) -> _Attempt:
        loop = asyncio.get_running_loop()
        dialect = ex.dialect
        secrets = dialect.secret_positions(ex.request)
        result = _Attempt()
        port.reset_input()  # flush: nothing received before the request can be its reply
        decoder = dialect.decoder()
        echo = EchoCanceller(ex.request, dialect.control_index(ex.request) + 1)
        raw = bytearray()
        self.trace.add(TX, ex.request, secrets, ex.label)
        started = loop.time()
        tx_end = started + self._settings.wire_time(len(ex.request))
        self._last_tx_end = tx_end
        try:
            await port.write(ex.request)
            return await self._listen(port, ex, result, decoder, echo, raw, secrets, tx_end)
        except asyncio.CancelledError:
            # The caller gave up with the request on the line: its reply may still come.
            self._quiet_until = max(
                self._quiet_until,
                tx_end + self._quiet_span(dialect),
            )
            raise

    async def _listen(
        self,
        port: Port,
        ex: Exchange,
        result: _Attempt,
        decoder: Any,
        echo: EchoCanceller,
        raw: bytearray,
        secrets: list[int],
        tx_end: float,
    ) -> _Attempt:
        loop = asyncio.get_running_loop()
        dialect = ex.dialect
        t = self.timing
        if ex.match is None:
            await asyncio.sleep(max(0.0, tx_end - loop.time()) + dialect.td_min)
            self._trace_echo(ex, echo, secrets, await port.read(0))
            return result
        tb = self._tb(dialect)
        first_deadline = tx_end + self.response_window(dialect) + t.margin + 2 * t.network_delay
        cap = last_rx = 0.0
        bad = 0
        while True:
            now = loop.time()
            until = first_deadline if not last_rx else max(first_deadline, min(last_rx + tb, cap))
            if now >= until:
                break
            chunk = await port.read(until - now)
            if not chunk:
                continue
            data = self._trace_echo(ex, echo, secrets, chunk)
            if not data:
                continue
            now = loop.time()
            if not last_rx:
                cap = max(now + tb, first_deadline) + self._settings.wire_time(ex.reply_len)
                cap += t.margin
            last_rx = now
            raw += data
            if len(raw) > _RAW_LIMIT:
                del raw[:-_RAW_KEEP]
            if self._consider(decoder.feed(data), ex, result):
                return result
            if decoder.bad_checksum + decoder.bad_end > bad:
                bad = decoder.bad_checksum + decoder.bad_end
                result.corrupt = result.corrupt or "checksum or end byte wrong"
            if decoder.pending and self._consider(self._probe(dialect, bytes(raw)), ex, result):
                return result
        # Out of time: anything hidden behind a broken candidate is the last chance.
        if self._consider(decoder.flush(), ex, result):
            return result
        unframed = decoder.bad_checksum + decoder.bad_end > bad
        if unframed and not result.corrupt:
            result.corrupt = "checksum or end byte wrong"
        if raw and not result.seen:
            shown = "" if secrets else " " + raw[:64].hex(" ").upper()
            self.trace.add(RX, b"", note=f"{len(raw)} bytes, no frame{shown}")
        return result

    def _trace_echo(
        self, ex: Exchange, echo: EchoCanceller, secrets: list[int], chunk: bytes
    ) -> bytes:
        before = echo.removed
        data = echo.filter(chunk)
        removed = echo.removed - before
        if removed:
            self.stats.echo_bytes += removed
            echoed = ex.request[before : before + removed]
            shifted = [p - before for p in secrets if before <= p < before + removed]
            self.trace.add(RX, echoed, shifted, "local echo, removed")
        return data

    @staticmethod
    def _probe(dialect: Dialect, raw: bytes) -> list[Any]:
        """Frames anywhere in ``raw``, even behind an incomplete candidate that will never
        complete (a cut-off echo or frame whose length byte asks for more than will come)."""
        probe = dialect.decoder()
        frames = probe.feed(bytes(raw))
        return frames + probe.flush()

    def _consider(self, frames: list[Any], ex: Exchange, result: _Attempt) -> bool:
        assert ex.match is not None
        secrets_of = ex.dialect.secret_positions
        for frame in frames:
            raw = bytes(frame.raw)
            if raw in result.seen:
                continue
            result.seen.add(raw)
            if not frame.is_response:
                self.stats.ignored_frames += 1
                self.trace.add(RX, raw, secrets_of(raw), "request frame (echo?), ignored")
                continue
            try:
                taken = ex.match(frame)
            except BadFrame as exc:
                result.corrupt = str(exc)
                self.trace.add(RX, raw, secrets_of(raw), f"unusable: {exc}")
                continue
            if taken:
                result.frame = frame
                self.trace.add(RX, raw, secrets_of(raw), "reply")
                return True
            self.stats.ignored_frames += 1
            self.trace.add(RX, raw, secrets_of(raw), "not the reply (stale or another meter)")
        return False

    # -- reconnection -----------------------------------------------------------------------
    async def _wait_port(self, end: float) -> Port:
        """The open port; while it is being reopened, wait for it until ``end``."""
        loop = asyncio.get_running_loop()
        while True:
            port = self._port
            if port is not None and not port.lost:
                return port
            if port is not None:
                self._port_lost(port, port.error)
            if self._closing:
                raise PortLostError(f"bus {self.name} is closed")
            if self._reconnector is None:
                raise PortLostError(f"bus {self.name} is not open")
            remaining = end - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await within(self._ready.wait(), remaining)
            except TimeoutError:
                raise PortLostError(f"{self.url} is gone and did not come back in time") from None

    def _port_lost(self, port: Port, error: BaseException | None) -> None:
        if self._port is not port:
            return
        self._port = None
        self._ready.clear()
        self.stats.port_losses += 1
        self.trace.event(f"port lost: {error or 'read failed'}; reopening with back-off")
        if not self._closing:
            self._reconnector = asyncio.get_running_loop().create_task(
                self._reconnect(port), name=f"reconnect {self.url}"
            )

    async def _reconnect(self, old: Port) -> None:
        await old.close()
        delay = self.timing.reconnect_delay
        tries = 0
        while not self._closing:
            await asyncio.sleep(delay)
            tries += 1
            try:
                port = await self._opener(self.url, self._settings, self.exclusive)
            except PortOpenError as exc:
                if tries == 1 or tries % 10 == 0:
                    self.trace.event(f"reopen try {tries} failed: {exc}")
                delay = min(delay * 2, self.timing.reconnect_delay_max)
                continue
            self._port = port
            self.stats.reconnects += 1
            self.trace.event(f"reopened {self.url} after {tries} tries")
            self._reconnector = None
            self._ready.set()
            return


__all__ = [
    "Bus",
    "BusStats",
    "BusTiming",
    "Exchange",
    "Port",
    "PortOpener",
    "TransportError",
    "open_port",
]
