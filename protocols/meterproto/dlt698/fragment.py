"""DL/T 698.45 link-layer fragmentation: split an APDU over frames and put it back together.

Host-only. A fragmented frame has the C-field fragment bit set and starts its user data with a
2-byte fragment header (low byte first): bits 0-11 the fragment number, bits 14-15 the kind
(00 first, 11 middle, 01 last, 10 acknowledgement). The receiver acknowledges every fragment
but the last with an acknowledgement frame carrying the number it took; the sender then sends
the next one. A fragment out of sequence is an error, never silently glued on.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterproto.dlt645.frame import DecodeError, EncodeError
from meterproto.dlt698.frame import FRAGMENT, Frame

FIRST = 0
LAST = 1
ACK = 2
MIDDLE = 3
KIND_NAMES = {FIRST: "first", LAST: "last", ACK: "acknowledgement", MIDDLE: "middle"}
MAX_NUMBER = 0x0FFF
HEADER = 2


@dataclass(frozen=True)
class Fragment:
    number: int
    kind: int
    data: bytes = b""

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    def encode(self) -> bytes:
        """Fragment header plus data (the user data of one fragmented frame)."""
        if not 0 <= self.number <= MAX_NUMBER:
            raise EncodeError(f"fragment number must be 0..{MAX_NUMBER}: {self.number}")
        if self.kind not in KIND_NAMES:
            raise EncodeError(f"fragment kind must be 0..3: {self.kind}")
        word = self.number | (self.kind << 14)
        return bytes((word & 0xFF, word >> 8)) + bytes(self.data)


def parse_fragment(payload: bytes) -> Fragment:
    """User data of a frame with the fragment bit -> Fragment; DecodeError when impossible."""
    if len(payload) < HEADER:
        raise DecodeError("fragmented frame shorter than its 2-byte fragment header")
    word = payload[0] | (payload[1] << 8)
    if word & 0x3000:
        raise DecodeError("fragment header reserved bits 12-13 are set")
    kind = word >> 14
    data = bytes(payload[HEADER:])
    if kind == ACK and data:
        raise DecodeError("a fragment acknowledgement carries no data")
    if kind != ACK and not data:
        raise DecodeError("a data fragment carries no data")
    return Fragment(word & MAX_NUMBER, kind, data)


def user_data_size(frame_size: int, sa_len: int) -> int:
    """APDU bytes one frame of ``frame_size`` bytes (68H to 16H, as CONNECT negotiates them)
    can carry with a ``sa_len``-byte server address: the frame less 68H, L, C, AF, SA, CA,
    HCS, FCS and 16H."""
    return frame_size - (11 + sa_len)


def split(apdu: bytes, size: int) -> list[Fragment]:
    """The fragments of ``apdu`` with at most ``size`` bytes of user data per frame (fragment
    header included). An APDU that fits one frame (``len(apdu) <= size``) is sent as it is,
    unfragmented, so splitting it is an EncodeError."""
    if size <= HEADER:
        raise EncodeError(f"a fragment needs more than {HEADER} bytes of user data: {size}")
    if len(apdu) <= size:
        raise EncodeError("an APDU that fits one frame is not fragmented")
    step = size - HEADER
    parts = [apdu[i : i + step] for i in range(0, len(apdu), step)]
    if len(parts) - 1 > MAX_NUMBER:
        raise EncodeError(f"APDU of {len(apdu)} bytes needs more than 4096 fragments")
    out = []
    for i, part in enumerate(parts):
        kind = FIRST if i == 0 else LAST if i == len(parts) - 1 else MIDDLE
        out.append(Fragment(i, kind, bytes(part)))
    return out


def fragment_frame(template: Frame, fragment: Fragment) -> Frame:
    """``template`` (address, C, CA) carrying one fragment, with the fragment bit set."""
    return Frame(
        template.address,
        template.control | FRAGMENT,
        fragment.encode(),
        template.ca,
        template.address_type,
        template.logical_address,
    )


def acknowledgement(number: int) -> Fragment:
    return Fragment(number, ACK)


class Reassembler:
    """Collects the fragments of one APDU in order. ``accept`` returns the whole APDU after the
    last fragment, None while more are expected; DecodeError for a fragment out of sequence or
    an APDU longer than ``limit``."""

    def __init__(self, limit: int = 65536) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self.expected: int | None = None  # number of the next fragment, None when idle

    @property
    def active(self) -> bool:
        return self.expected is not None

    def reset(self) -> None:
        self._parts, self._size, self.expected = [], 0, None

    def accept(self, fragment: Fragment) -> bytes | None:
        if fragment.kind == ACK:
            raise DecodeError("an acknowledgement is not part of an APDU")
        if fragment.kind == FIRST:
            self.reset()
            if fragment.number != 0:
                raise DecodeError(f"first fragment numbered {fragment.number}, expected 0")
        elif self.expected is None:
            raise DecodeError(f"{fragment.kind_name} fragment without a first one")
        elif fragment.number != self.expected:
            expected = self.expected
            self.reset()
            raise DecodeError(f"fragment {fragment.number} out of sequence, expected {expected}")
        self._size += len(fragment.data)
        if self._size > self.limit:
            self.reset()
            raise DecodeError(f"fragmented APDU longer than {self.limit} bytes")
        self._parts.append(fragment.data)
        if fragment.kind == LAST:
            whole = b"".join(self._parts)
            self.reset()
            return whole
        self.expected = (fragment.number + 1) & MAX_NUMBER
        return None


__all__ = [
    "ACK",
    "FIRST",
    "LAST",
    "MIDDLE",
    "Fragment",
    "Reassembler",
    "acknowledgement",
    "fragment_frame",
    "parse_fragment",
    "split",
    "user_data_size",
]
