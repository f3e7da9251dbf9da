"""The host link over the REPL port's stdin/stdout, as asyncio streams (MicroPython).

On a board (USB CDC) and on the unix port behind a pty this is the same code. Ctrl-C handling
is switched off while the link runs (a 03H byte inside a frame would raise
KeyboardInterrupt) and restored on exit; nothing else may print while it runs.
"""

import sys

try:
    import micropython
except ImportError:  # CPython
    micropython = None


def kbd_intr(char):
    if micropython is not None and hasattr(micropython, "kbd_intr"):
        micropython.kbd_intr(char)


class StdinReader:
    """``await read(n)``: at least one byte, then whatever else is ready, up to n.

    MicroPython's ``sys.stdin.buffer.read(n)`` waits for all n bytes, so a plain StreamReader
    would sit on a short request. Wait for one byte the asyncio way, then drain what the poller
    says is ready without blocking.
    """

    def __init__(self):
        import asyncio
        import select

        self._in = sys.stdin.buffer
        self._first = asyncio.StreamReader(self._in)
        self._poll = select.poll()
        self._poll.register(self._in, select.POLLIN)

    async def read(self, n):
        first = await self._first.read(1)
        if not first:
            return first
        buf = bytearray(first)
        while len(buf) < n and self._poll.poll(0):
            b = self._in.read(1)
            if not b:
                break
            buf.extend(b)
        return bytes(buf)


async def open_stdio():
    """(reader, writer) on stdin/stdout. MicroPython only: CPython callers (the in-process
    simulator, tests) hand the server their own streams instead."""
    import asyncio

    return StdinReader(), asyncio.StreamWriter(sys.stdout.buffer, {})
