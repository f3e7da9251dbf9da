"""RS-485 pass-through to a meter: direction pin, local echo, reply delimited by structure.

MicroPython-safe; the UART (machine.UART-shaped: write, any, read, optional flush and init),
the DE pin (value()), the clock and sleeps are injected. Transaction:
clear stale RX -> DE high -> write -> wait out the bytes (asyncio sleep for the bulk, then
flush() and one more character time) -> DE low -> drop the local echo if the transceiver's
receiver stays on -> read until a complete DL/T 645 frame (FRAMING_DLT645) or until the line
has been idle for IDLE_CHARS character times after data (FRAMING_RAW), within the timeout.
"""

from meterproto.dlt645.frame import StreamDecoder
from meterproto.link.messages import (
    FRAMING_DLT645,
    FRAMING_RAW,
    PARITY_EVEN,
    PARITY_NONE,
    PARITY_ODD,
    RS485_ECHO_MISMATCH,
    RS485_OK,
    RS485_TIMEOUT,
)

IDLE_CHARS = 4
MAX_REPLY = 512
_UART_PARITY = {PARITY_NONE: None, PARITY_EVEN: 0, PARITY_ODD: 1}


def char_time_us(baudrate, bits=8, parity=PARITY_NONE, stop=1):
    """One character on the wire in microseconds (start + data + parity + stop bits)."""
    nbits = 1 + bits + (0 if parity == PARITY_NONE else 1) + stop
    return (1000000 * nbits + baudrate - 1) // baudrate


class Rs485:
    def __init__(self, uart, de, clock, sleep_ms, sleep_us, echo=False):
        self.uart = uart
        self.de = de
        self.clock = clock
        self.sleep_ms = sleep_ms
        self.sleep_us = sleep_us
        self.echo = echo
        self.baudrate = 2400
        self.char_us = char_time_us(2400, 8, PARITY_EVEN, 1)
        self.transactions = 0
        self.timeouts = 0
        self._lock = None  # one transaction at a time on this line (created in the loop)
        if de is not None:
            de.value(0)

    def configure(self, baudrate, bits, parity, stop):
        """Line settings for this position's meter; ValueError for impossible ones."""
        if parity not in _UART_PARITY or bits not in (7, 8) or stop not in (1, 2):
            raise ValueError("unsupported line settings")
        if not 300 <= baudrate <= 1000000:
            raise ValueError("unsupported baud rate")
        self.uart.init(baudrate=baudrate, bits=bits, parity=_UART_PARITY[parity], stop=stop)
        self.baudrate = baudrate
        self.char_us = char_time_us(baudrate, bits, parity, stop)

    def _drain_rx(self):
        n = self.uart.any()
        while n:
            self.uart.read(n)
            n = self.uart.any()

    async def _send(self, data):
        de = self.de
        if de is not None:
            de.value(1)
        self.uart.write(data)
        tx_ms = len(data) * self.char_us // 1000
        if tx_ms > 2:
            await self.sleep_ms(tx_ms - 2)  # let other tasks run while the bytes go out
        if hasattr(self.uart, "flush"):
            self.uart.flush()
        self.sleep_us(self.char_us)  # margin: the last stop bit has left the shifter
        if de is not None:
            de.value(0)

    async def _read(self, want, deadline_ms, framing):
        """Bytes until the framing says done; returns (complete, data)."""
        clock = self.clock
        got = bytearray()
        decoder = StreamDecoder() if framing == FRAMING_DLT645 else None
        idle_ms = (IDLE_CHARS * self.char_us + 999) // 1000
        last_rx = None
        while True:
            n = self.uart.any()
            now = clock.ticks_ms()
            if want and n > want - len(got):
                n = want - len(got)
            if n:
                chunk = self.uart.read(n) or b""
                got.extend(chunk)
                last_rx = now
                if want and len(got) >= want:
                    return True, bytes(got)
                if decoder is not None:
                    frames = decoder.feed(chunk)
                    if frames:
                        return True, frames[0].raw
                if len(got) >= MAX_REPLY:
                    return framing == FRAMING_RAW, bytes(got[:MAX_REPLY])
            elif (
                framing == FRAMING_RAW
                and not want
                and last_rx is not None
                and clock.diff(now, last_rx) >= idle_ms
            ):
                return True, bytes(got)
            if clock.diff(deadline_ms, now) <= 0:
                return False, bytes(got)
            await self.sleep_ms(1)

    async def transact(self, data, framing, timeout_ms):
        """Send one request, return (status, reply bytes); concurrent calls queue up."""
        if framing not in (FRAMING_RAW, FRAMING_DLT645):
            raise ValueError("unknown framing")
        if self._lock is None:
            import asyncio

            self._lock = asyncio.Lock()
        async with self._lock:
            return await self._transact(data, framing, timeout_ms)

    async def _transact(self, data, framing, timeout_ms):
        self.transactions += 1
        self._drain_rx()
        await self._send(data)
        deadline = self.clock.add(self.clock.ticks_ms(), timeout_ms)
        if self.echo:
            ok, echo = await self._read(len(data), deadline, FRAMING_RAW)
            if echo != bytes(data):
                return RS485_ECHO_MISMATCH, echo
        ok, reply = await self._read(0, deadline, framing)
        if not ok:
            self.timeouts += 1
            return RS485_TIMEOUT, reply
        return RS485_OK, reply
