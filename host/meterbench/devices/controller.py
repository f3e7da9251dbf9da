"""Link client for a bench controller: requests matched to replies by sequence number.

Why this shape: the controller answers every request with exactly one reply frame carrying the
request's SEQ (its own reply type, ACK, or NAK with a reason), and streams result events with
result ids that it resends until acknowledged. So the client needs only: one reader task that
decodes frames, a table of pending requests keyed by SEQ, retries on timeout (a lost frame
costs a resend, never a hang), and a queue of result events deduplicated by result_id and
acknowledged cumulatively. One asyncio stack; the serial port is any pyserial URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
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


class ControllerClient:
    """Talk to one controller. Use ``async with await ControllerClient.open(url) as c``."""

    def __init__(self, port: serial.SerialBase, *, timeout: float = 1.0, retries: int = 2) -> None:
        self.port = port
        self.timeout = timeout
        self.retries = retries
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
        client = cls(port, **kwargs)
        client.start()
        return client

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        if self._ack_task is not None:
            self._ack_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ack_task
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
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
            data = await asyncio.to_thread(self._read_blocking)
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

    # -- requests ------------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    async def request(self, msg_type: int | str, **fields: Any) -> link.Message:
        """Send a request; return its reply (ACK or the reply message). NakError on NAK."""
        spec = m.spec_for(msg_type)
        last: Exception | None = None
        for _attempt in range(self.retries + 1):
            seq = self._next_seq()
            future: asyncio.Future[link.Message] = asyncio.get_running_loop().create_future()
            self._pending[seq] = future
            try:
                wire = link.encode(spec.msg_type, seq, **fields)
                await asyncio.to_thread(self.port.write, wire)
                reply = await asyncio.wait_for(future, self.timeout)
            except TimeoutError as e:
                last = e
                continue
            finally:
                self._pending.pop(seq, None)
            if reply.msg_type == m.NAK:
                if reply["reason"] == m.NAK_BAD_CRC:
                    last = NakError(spec.name, reply["reason"], reply["detail"])
                    continue  # damaged on the way: send again
                raise NakError(spec.name, reply["reason"], reply["detail"])
            return reply
        raise LinkTimeout(f"{spec.name}: no reply after {self.retries + 1} tries") from last

    async def hello(self, heartbeat_ms: int = 0) -> link.Message:
        """HELLO; a new boot_id means result ids restarted, so forget the old ones."""
        reply = await self.request(
            m.HELLO, protocol=m.PROTOCOL_VERSION, host_caps=0, heartbeat_ms=heartbeat_ms
        )
        if reply["boot_id"] != self.boot_id:
            self.boot_id = reply["boot_id"]
            self._results_seen.clear()
            self._acked = 0
        return reply

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
