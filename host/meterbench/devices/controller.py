"""Link client for a bench controller: requests matched to replies by sequence number.

Why this shape: the controller answers every request with exactly one reply frame carrying the
request's SEQ (its own reply type, ACK, or NAK with a reason), and streams result events with
result ids that it resends until acknowledged. So the client needs only: one reader task that
decodes frames, a table of pending requests keyed by SEQ, retries on timeout (a lost frame
costs a resend, never a hang), and a queue of result events deduplicated by result_id.

Exactly once, across restarts of either side: a result id carries the controller's boot id, so
ids never repeat. A result is acknowledged by its id once it has been handed to the caller
(``next_result``), never before; ``close()`` sends the outstanding acknowledgements. So a host
that restarts gets again exactly what it had received but not consumed, and a resent result
that was consumed is acknowledged again instead of delivered twice. A controller that restarted
refuses requests with NAK_NO_HELLO until a HELLO: the client then says HELLO (counting the
restart) and sends the request again.

Benches lose USB ports and controllers restart. A vanished port is reopened under the same URL
with back-off while requests wait a bounded time for it; the controller resends whatever was
not acknowledged, so nothing is lost. A restart shows as a new boot id in the HELLO reply:
``restarts`` counts them, so a caller that started a function can tell it was lost.
``stats`` counts what the link survived, for the run's error log. When the controller has a
failsafe (outputs off after host silence, HELLO_REPLY.failsafe_ms) the client keeps the link
busy with STATUS_GET whenever it has sent nothing for a quarter of that time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import serial

from meterbench.transport import memory
from meterbench.transport.errors import TransportError
from meterbench.transport.readiness import readable_fd, wait_readable, write_now
from meterbench.transport.settings import SerialSettings
from meterbench.waits import within
from meterproto import link
from meterproto.link import messages as m


class ControllerError(Exception):
    """The controller could not be reached or refused a request."""


class NakError(ControllerError):
    def __init__(self, request: str, reason: int, detail: int) -> None:
        text = m.NAK_REASONS.get(reason, f"reason {reason}")
        super().__init__(f"{request} refused: {text} (detail {detail})")
        self.reason = reason
        self.detail = detail


class LinkTimeout(ControllerError):
    pass


class VersionMismatch(ControllerError):
    """The controller speaks another major version of the link protocol."""


class SoftGateRefused(ControllerError):
    """A clock (period) test asked of a controller that gates in software (no CAP_HW_GATE)."""


# Requests that start a function: resent after a lost ACK they find it running (NAK_BUSY).
_STARTS = (m.ERR_START, m.PERIOD_START, m.WINDOW_START)
_PORT_ERRORS = (serial.SerialException, OSError, TransportError)


def _connect(url: str, baudrate: int) -> Any:
    """A pyserial port, or for ``mem://`` the in-process end of a simulated controller."""
    if memory.is_memory(url):
        return memory.connect(url, SerialSettings(baudrate, "N"))
    return serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)


@dataclass
class LinkStats:
    """What the link survived: requests sent again, damaged frames, lost ports, restarts."""

    requests: int = 0
    resends: int = 0  # attempts after the first (no reply in time, or NAKed as damaged)
    port_losses: int = 0
    reconnects: int = 0
    restarts: int = 0  # new boot ids seen after the first HELLO
    duplicates: int = 0  # results received again (their acknowledgement was lost)
    rehellos: int = 0  # requests refused for want of a HELLO (a restart not yet seen)


class ControllerClient:
    """Talk to one controller. Use ``async with await ControllerClient.open(url) as c``."""

    def __init__(
        self,
        port: serial.Serial,
        *,
        timeout: float = 1.0,
        retries: int = 4,
        url: str | None = None,
        baudrate: int = 115200,
        reconnect_grace: float = 2.0,
        allow_soft_gate: bool = False,
    ) -> None:
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.url = url  # None: the port cannot be reopened
        self.baudrate = baudrate
        self.reconnect_grace = reconnect_grace  # how long a request waits for a lost port
        self.stats = LinkStats()
        self._ready = asyncio.Event()
        self._ready.set()
        self._rehello: asyncio.Task[None] | None = None
        self._decoder = link.LinkDecoder()
        self._seq = 0
        self._pending: dict[int, asyncio.Future[link.Message]] = {}
        self._events: asyncio.Queue[link.Message] = asyncio.Queue()
        self._queued: set[int] = set()  # received, not yet handed to the caller
        self._consumed: set[int] = set()  # handed to the caller (this boot's ids)
        self._to_ack: set[int] = set()
        self._reader: asyncio.Task[None] | None = None
        self._ack_task: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._last_tx = 0.0
        self.logs: list[link.Message] = []
        self.heartbeat: link.Message | None = None
        self.boot_id: int | None = None
        self.caps: int | None = None
        self.failsafe_ms = 0
        # A clock test on software gating inherits IRQ latency (ESP32: up to ms per gate end):
        # refused unless the caller accepts it knowingly.
        self.allow_soft_gate = allow_soft_gate

    @classmethod
    async def open(cls, url: str, baudrate: int = 115200, **kwargs: Any) -> ControllerClient:
        port = _connect(url, baudrate)
        client = cls(port, url=url, baudrate=baudrate, **kwargs)
        client.start()
        return client

    @property
    def restarts(self) -> int:
        """How often the controller restarted since the first HELLO (a new boot id)."""
        return self.stats.restarts

    @property
    def damaged_frames(self) -> int:
        """Frames from the controller dropped for a bad header or CRC."""
        return self._decoder.bad_crc + self._decoder.bad_header

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        """Acknowledge what was consumed (so a later host is not handed it again), then stop."""
        if self._to_ack and self._reader is not None and not self._reader.done():
            with contextlib.suppress(ControllerError, TimeoutError):
                await within(self._ack_all(), self.timeout * (self.retries + 1))
        for task in (self._keepalive, self._ack_task, self._rehello, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ControllerError):
                    await task
        await self._close_port(self.port)

    async def __aenter__(self) -> ControllerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the port ----------------------------------------------------------------------------
    # A pyserial port with a file descriptor (a serial port, a pty, a socket) is watched by
    # the loop and read only once bytes are there: an idle link costs nothing. One without
    # (rfc2217://) blocks, so it is read from worker threads. An in-process port (a simulated
    # controller on virtual time, ``transport.memory``) is awaited on the loop, as the loop
    # must see every wait to know when all is idle.
    async def _receive(self) -> bytes:
        port = self.port
        receive = getattr(port, "receive", None)
        if receive is not None:
            return await receive()
        fd = readable_fd(port)
        if fd is None:
            return await asyncio.to_thread(self._read_blocking)
        await wait_readable(fd)
        # the bytes are there: this read does not block (a hang-up or error raises)
        return port.read(max(1, port.in_waiting))

    @staticmethod
    async def _send(port: Any, wire: bytes) -> None:
        if memory.is_memory(getattr(port, "url", "")):
            port.send(wire)
            return
        sent = write_now(port, wire)
        if sent < len(wire):  # the port is not taking it now: a thread waits for it
            await asyncio.to_thread(port.write, wire[sent:])

    @staticmethod
    async def _close_port(port: Any) -> None:
        if memory.is_memory(getattr(port, "url", "")):
            await port.close()
        else:
            await asyncio.to_thread(port.close)

    # -- receiving ---------------------------------------------------------------------------
    def _read_blocking(self) -> bytes:
        return self.port.read(max(1, self.port.in_waiting))

    async def _read_loop(self) -> None:
        while True:
            try:
                data = await self._receive()
            except _PORT_ERRORS:
                if self.url is None:
                    raise
                await self._reopen()
                continue
            for frame in self._decoder.feed(data):
                try:
                    msg = link.parse(frame)
                except link.LinkError:
                    msg = _foreign_hello_reply(frame)
                    if msg is None:
                        continue  # a newer controller's message type: ignore, do not crash
                self._route(msg)

    def _route(self, msg: link.Message) -> None:
        if m.is_reply(msg.msg_type):
            future = self._pending.get(msg.seq)
            if future is not None and not future.done():
                future.set_result(msg)
        elif msg.msg_type == m.LOG:
            self.logs.append(msg)
        elif msg.msg_type == m.HEARTBEAT:
            self.heartbeat = msg
        elif msg.msg_type in m.RESULT_TYPES:
            rid = msg["result_id"]
            if rid in self._queued:
                self.stats.duplicates += 1  # resent before we consumed it: ack comes later
            elif rid in self._consumed:
                self.stats.duplicates += 1  # our acknowledgement was lost: say it again
                self._to_ack.add(rid)
                self._kick_acks()
            else:
                self._queued.add(rid)
                self._events.put_nowait(msg)

    async def _reopen(self) -> None:
        """The port vanished (cable, hub, re-enumeration): reopen the same URL with back-off.
        Afterwards a HELLO tells whether the controller restarted meanwhile."""
        self._ready.clear()
        self.stats.port_losses += 1
        with contextlib.suppress(Exception):
            await self._close_port(self.port)
        delay = 0.05
        assert self.url is not None  # the read loop reopens only ports it can
        while True:
            await asyncio.sleep(delay)
            try:
                if memory.is_memory(self.url):
                    port = _connect(self.url, self.baudrate)
                else:
                    port = await asyncio.to_thread(_connect, self.url, self.baudrate)
            except (*_PORT_ERRORS, ValueError):
                delay = min(delay * 2, 2.0)
                continue
            break
        self.port = port
        self._decoder.reset()
        self.stats.reconnects += 1
        self._ready.set()
        self._rehello = asyncio.get_running_loop().create_task(self._hello_quietly())

    async def _hello_quietly(self) -> None:
        with contextlib.suppress(ControllerError):
            await self.hello()

    async def _port_back(self, lost: serial.Serial, why: BaseException) -> None:
        """Wait (bounded) until the reader has replaced the port a write failed on."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reconnect_grace
        while self.port is lost or not self._ready.is_set():
            if loop.time() >= deadline or self.url is None:
                raise LinkTimeout(f"controller port {self.url} is gone: {why}")
            await asyncio.sleep(0.05)

    # -- requests ------------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    async def request(self, msg_type: int | str, **fields: Any) -> link.Message:
        """Send a request; return its reply (ACK or the reply message). NakError on NAK."""
        spec = m.spec_for(msg_type)
        if spec.msg_type == m.PERIOD_START:
            self._check_hw_gate()
        last: Exception | None = None
        unanswered = False  # an earlier attempt may have been carried out, its reply lost
        self.stats.requests += 1
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.resends += 1
            if not self._ready.is_set():
                await self._port_back(self.port, last or ControllerError("port lost"))
            seq = self._next_seq()
            loop = asyncio.get_running_loop()
            future: asyncio.Future[link.Message] = loop.create_future()
            self._pending[seq] = future
            port = self.port
            try:
                wire = link.encode(spec.msg_type, seq, **fields)
                self._last_tx = loop.time()
                try:
                    await self._send(port, wire)
                except _PORT_ERRORS as e:
                    last = e
                    await self._port_back(port, e)
                    continue
                reply = await within(future, self.timeout)
            except TimeoutError as e:
                last = e
                unanswered = True
                continue
            finally:
                self._pending.pop(seq, None)
            if reply.msg_type == m.NAK:
                if reply["reason"] == m.NAK_BAD_CRC:
                    last = NakError(spec.name, reply["reason"], reply["detail"])
                    continue  # damaged on the way: send again
                if reply["reason"] == m.NAK_NO_HELLO and spec.msg_type != m.HELLO:
                    # The controller restarted and we missed it: HELLO (which counts the
                    # restart and forgets the old boot's ids), then the request again.
                    self.stats.rehellos += 1
                    last = NakError(spec.name, reply["reason"], reply["detail"])
                    unanswered = False
                    await self.hello()
                    continue
                if reply["reason"] == m.NAK_BUSY and unanswered and spec.msg_type in _STARTS:
                    return reply  # an earlier attempt started it; only its ACK was lost
                raise NakError(spec.name, reply["reason"], reply["detail"])
            return reply
        raise LinkTimeout(f"{spec.name}: no reply after {self.retries + 1} tries") from last

    def _check_hw_gate(self) -> None:
        if self.caps is None or self.caps & m.CAP_HW_GATE or self.allow_soft_gate:
            return
        raise SoftGateRefused(
            f"controller {self.url or ''} gates in software (no CAP_HW_GATE): a clock test "
            "would carry interrupt latency at both gate ends; use a controller with hardware "
            "gating (rp2) or allow software gating explicitly"
        )

    async def hello(self, heartbeat_ms: int = 0) -> link.Message:
        """HELLO; checks the protocol major, notes caps, boot id and failsafe. A new boot id
        means the controller restarted: its old results are gone, forget their ids."""
        reply = await self.request(
            m.HELLO, protocol=m.PROTOCOL_VERSION, host_caps=0, heartbeat_ms=heartbeat_ms
        )
        theirs = reply["protocol"]
        if m.version_major(theirs) != m.version_major(m.PROTOCOL_VERSION):
            raise VersionMismatch(
                f"controller {self.url or ''} speaks link protocol {theirs:#06x}, this host "
                f"{m.PROTOCOL_VERSION:#06x}: flash firmware built from this version"
            )
        if reply["boot_id"] != self.boot_id:
            if self.boot_id is not None:
                self.stats.restarts += 1
            self.boot_id = reply["boot_id"]
            self._consumed = {r for r in self._consumed if m.result_boot(r) == self.boot_id}
            self._to_ack = {r for r in self._to_ack if m.result_boot(r) == self.boot_id}
        self.caps = reply["caps"]
        self.failsafe_ms = reply["failsafe_ms"]
        if self.failsafe_ms and (self._keepalive is None or self._keepalive.done()):
            self._keepalive = asyncio.get_running_loop().create_task(self._keep_busy())
        return reply

    async def _keep_busy(self) -> None:
        """Keep the controller's failsafe from tripping while the host is merely waiting."""
        loop = asyncio.get_running_loop()
        while True:
            quiet = self.failsafe_ms / 4000
            idle = loop.time() - self._last_tx
            if idle < quiet:
                await asyncio.sleep(quiet - idle)
                continue
            with contextlib.suppress(ControllerError):
                await self.request(m.STATUS_GET)

    async def check_boot(self) -> bool:
        """Ask the controller (HELLO) whether it restarted since the last HELLO."""
        before = self.stats.restarts
        await self.hello()
        return self.stats.restarts != before

    async def status(self) -> link.Message:
        return await self.request(m.STATUS_GET)

    async def reset(self, mode: int = m.RESET_SOFT) -> None:
        await self.request(m.RESET, mode=mode)

    # -- results -------------------------------------------------------------------------------
    async def next_result(self, timeout: float | None = None) -> link.Message:
        """The next new result event (reading, window pulse or end); acknowledges it.

        The acknowledgement goes out in the background, coalesced with later ones, so a burst
        of results is handed over at once instead of one link round trip per result."""
        msg = await within(self._events.get(), timeout)
        rid = msg["result_id"]
        self._queued.discard(rid)
        self._consumed.add(rid)
        self._to_ack.add(rid)
        self._kick_acks()
        return msg

    def _kick_acks(self) -> None:
        if self._ack_task is None or self._ack_task.done():
            self._ack_task = asyncio.get_running_loop().create_task(self._ack_loop())

    async def _ack_loop(self) -> None:
        with contextlib.suppress(ControllerError):
            await self._ack_all()

    async def _ack_all(self) -> None:
        """Acknowledge every consumed result not yet acknowledged, by id."""
        while self._to_ack:
            ids = sorted(self._to_ack)[: m.MAX_ACK_IDS]
            await self.request(m.RESULT_ACK, ids=m.pack_result_ids(ids))
            self._to_ack.difference_update(ids)

    async def results(self) -> AsyncIterator[link.Message]:
        while True:
            yield await self.next_result()


def _foreign_hello_reply(frame: link.Frame) -> link.Message | None:
    """A HELLO_REPLY of another protocol version does not parse, but its first field is
    always the protocol version: enough for hello() to refuse with a clear reason."""
    if frame.msg_type != m.HELLO_REPLY or len(frame.payload) < 2:
        return None
    version = frame.payload[0] | (frame.payload[1] << 8)
    return link.Message(frame.msg_type, frame.seq, {"protocol": version})


async def send_input_config(client: ControllerClient, min_pulse_width_us: int) -> None:
    """Send the bench config's minimum pulse width (debounce) for every meter input.

    Why a helper: the session calls it with one line when it opens a controller. A width of 0
    on a controller without CAP_DEBOUNCE needs nothing; a nonzero width there is refused
    (NakError), a bench configuration error worth stopping for."""
    if not min_pulse_width_us and not (client.caps or 0) & m.CAP_DEBOUNCE:
        return
    await client.request(
        m.INPUT_CONFIG,
        position=m.ALL_POSITIONS,
        input=m.INPUT_METER,
        min_pulse_us=min_pulse_width_us,
    )
