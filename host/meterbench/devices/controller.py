"""Link client for a bench controller: requests matched to replies by sequence number.

Why this shape: the controller answers every request with exactly one reply frame carrying the
request's SEQ (its own reply type, ACK, or NAK with a reason), and streams result events with
result ids that it resends until acknowledged. So the client needs only: one reader task that
decodes frames, a table of pending requests keyed by SEQ, retries on timeout (a lost frame
costs a resend, never a hang), and a queue of result events deduplicated by result_id and
acknowledged cumulatively. One asyncio stack; the serial port is any pyserial URL.

Benches lose USB ports and controllers restart. A vanished port is reopened under the same URL
with back-off while requests wait a bounded time for it; the controller resends whatever was
not acknowledged, so nothing is lost. A restart shows as a new boot id in the HELLO reply:
``restarts`` counts them, so a caller that started a function can tell it was lost.
``stats`` counts what the link survived, for the run's error log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import serial

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


# Requests that start a function: resent after a lost ACK they find it running (NAK_BUSY).
_STARTS = (m.ERR_START, m.PERIOD_START, m.WINDOW_START)
_PORT_ERRORS = (serial.SerialException, OSError)


@dataclass
class LinkStats:
    """What the link survived: requests sent again, damaged frames, lost ports, restarts."""

    requests: int = 0
    resends: int = 0  # attempts after the first (no reply in time, or NAKed as damaged)
    port_losses: int = 0
    reconnects: int = 0
    restarts: int = 0  # new boot ids seen after the first HELLO
    duplicates: int = 0  # results received again (their acknowledgement was lost)


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
        self._results_seen: set[int] = set()
        self._acked = 0
        self._reader: asyncio.Task[None] | None = None
        self._ack_task: asyncio.Task[None] | None = None
        self.logs: list[link.Message] = []
        self.heartbeat: link.Message | None = None
        self.boot_id: int | None = None

    @classmethod
    async def open(cls, url: str, baudrate: int = 115200, **kwargs: Any) -> ControllerClient:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
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
        for task in (self._ack_task, self._rehello, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ControllerError):
                    await task
        await asyncio.to_thread(self.port.close)

    async def __aenter__(self) -> ControllerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- receiving ---------------------------------------------------------------------------
    def _read_blocking(self) -> bytes:
        return self.port.read(max(1, self.port.in_waiting))

    async def _read_loop(self) -> None:
        while True:
            try:
                data = await asyncio.to_thread(self._read_blocking)
            except _PORT_ERRORS:
                if self.url is None:
                    raise
                await self._reopen()
                continue
            for frame in self._decoder.feed(data):
                try:
                    msg = link.parse(frame)
                except link.LinkError:
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
            if rid > self._acked and rid not in self._results_seen:
                self._results_seen.add(rid)
                self._events.put_nowait(msg)
            else:
                self.stats.duplicates += 1

    async def _reopen(self) -> None:
        """The port vanished (cable, hub, re-enumeration): reopen the same URL with back-off.
        Afterwards a HELLO tells whether the controller restarted meanwhile."""
        self._ready.clear()
        self.stats.port_losses += 1
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.port.close)
        delay = 0.05
        while True:
            await asyncio.sleep(delay)
            try:
                port = await asyncio.to_thread(
                    serial.serial_for_url, self.url, baudrate=self.baudrate, timeout=0.05
                )
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
        last: Exception | None = None
        unanswered = False  # an earlier attempt may have been carried out, its reply lost
        self.stats.requests += 1
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.resends += 1
            if not self._ready.is_set():
                await self._port_back(self.port, last or ControllerError("port lost"))
            seq = self._next_seq()
            future: asyncio.Future[link.Message] = asyncio.get_running_loop().create_future()
            self._pending[seq] = future
            port = self.port
            try:
                wire = link.encode(spec.msg_type, seq, **fields)
                try:
                    await asyncio.to_thread(port.write, wire)
                except _PORT_ERRORS as e:
                    last = e
                    await self._port_back(port, e)
                    continue
                reply = await asyncio.wait_for(future, self.timeout)
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
                if reply["reason"] == m.NAK_BUSY and unanswered and spec.msg_type in _STARTS:
                    return reply  # an earlier attempt started it; only its ACK was lost
                raise NakError(spec.name, reply["reason"], reply["detail"])
            return reply
        raise LinkTimeout(f"{spec.name}: no reply after {self.retries + 1} tries") from last

    async def hello(self, heartbeat_ms: int = 0) -> link.Message:
        """HELLO; a new boot_id means result ids restarted, so forget the old ones."""
        reply = await self.request(
            m.HELLO, protocol=m.PROTOCOL_VERSION, host_caps=0, heartbeat_ms=heartbeat_ms
        )
        if reply["boot_id"] != self.boot_id:
            if self.boot_id is not None:
                self.stats.restarts += 1
            self.boot_id = reply["boot_id"]
            self._results_seen.clear()
            self._acked = 0
        return reply

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
        msg = await asyncio.wait_for(self._events.get(), timeout)
        if self._ack_task is None or self._ack_task.done():
            self._ack_task = asyncio.get_running_loop().create_task(self._ack_loop())
        return msg

    async def _ack_loop(self) -> None:
        with contextlib.suppress(ControllerError):
            while await self._ack_contiguous():
                pass

    async def results(self) -> AsyncIterator[link.Message]:
        while True:
            yield await self.next_result()

    async def _ack_contiguous(self) -> bool:
        """Acknowledge every result received in sequence so far; False when none was new."""
        upto = self._acked
        while upto + 1 in self._results_seen:
            upto += 1
        if upto <= self._acked:
            return False
        self._acked = upto
        self._results_seen = {r for r in self._results_seen if r > upto}
        await self.request(m.RESULT_ACK, upto=upto)
        return True
