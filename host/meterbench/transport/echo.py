"""Local-echo removal: adapters and IR heads that return the master's own request.

The canceller strips the echo of the request just sent from the front of the received stream.
It only drops bytes once the echoed part reaches past the request's control code: a reply can
never match that far, because its control code has the direction bit set. A shorter match is
released to the frame decoder, which skips it as a broken candidate, so a partial echo (cut
short, or with its start lost) never hides the reply. Echoed frames that slip past are still
dropped by the bus, because a frame with D7 = 0 is never taken as a reply.
"""

from __future__ import annotations


class EchoCanceller:
    """Strip the echo of ``sent`` from the front of the incoming stream, chunk by chunk."""

    def __init__(self, sent: bytes, decisive: int) -> None:
        """``decisive``: how many leading bytes of ``sent`` must match before they are dropped
        (up to and including the request's control code)."""
        self._sent = bytes(sent)
        self._decisive = max(1, min(decisive, len(self._sent)))
        self._pos = 0
        self._held = bytearray()
        self._active = bool(self._sent)
        self.removed = 0

    @property
    def active(self) -> bool:
        return self._active

    def filter(self, chunk: bytes) -> bytes:
        """Bytes of ``chunk`` that are not echo (held bytes are released when they prove not
        to be)."""
        if not self._active:
            return chunk
        out = bytearray()
        for i, b in enumerate(chunk):
            if self._pos < len(self._sent) and b == self._sent[self._pos]:
                self._held.append(b)
                self._pos += 1
                if self._pos == len(self._sent):
                    self._drop_held()
                    self._active = False
                    out += chunk[i + 1 :]
                    return bytes(out)
                continue
            # Mismatch: either an echo that stopped short, or no echo at all.
            if self._pos >= self._decisive:
                self._drop_held()
            else:
                out += self._held
                self._held.clear()
            self._active = False
            out += chunk[i:]
            return bytes(out)
        return bytes(out)

    def release(self) -> bytes:
        """Bytes still held (a short echo-like prefix at the end of the input)."""
        if self._pos >= self._decisive:
            self._drop_held()
            return b""
        held = bytes(self._held)
        self._held.clear()
        return held

    def _drop_held(self) -> None:
        self.removed += len(self._held)
        self._held.clear()
