"""Controller link framing: frame codec and stream decoder. MicroPython-safe.

Wire layout (all multi-byte fields little-endian)::

    offset  size  field
    0       1     START   A5H
    1       2     LEN     payload length, 0..MAX_PAYLOAD
    3       1     SEQ     sequence number 0..255 (a reply echoes its request's SEQ)
    4       1     TYPE    message type (see meterproto.link.messages)
    5       1     HCHK    low byte of CRC-16/X-25 over bytes 0..4
    6       LEN   PAYLOAD
    6+LEN   2     CRC     CRC-16/X-25 over bytes 0..5+LEN, low byte first

Why the header check byte: a garbage A5H followed by a large bogus LEN would otherwise make the
receiver wait for up to MAX_PAYLOAD bytes before the CRC can reject it, hiding the frames that
follow. With HCHK a false start is rejected as soon as 6 bytes are in (it survives with
probability 1/256, and LEN must also be in range), so resync after garbage costs a few bytes and
a false frame additionally has to pass the 16-bit CRC.

Frames are found by structure and CRC only, never by timing. A candidate that fails any check is
abandoned one byte after its START, so an A5H inside a frame never hides a real frame.
"""

from meterproto.compat import const
from meterproto.crc import crc16_x25

START = const(0xA5)
HEADER_LEN = const(6)
CRC_LEN = const(2)
OVERHEAD = const(8)
MAX_PAYLOAD = const(512)
MAX_FRAME = const(520)  # OVERHEAD + MAX_PAYLOAD
MAX_REJECTS = const(8)


class LinkError(ValueError):
    """Bytes that are not a valid link frame or message."""


class EncodeError(ValueError):
    """A frame or message that cannot be put on the wire as asked."""


def header_check(buf, i=0):
    """HCHK for the 5 header bytes starting at buf[i] (START, LEN lo, LEN hi, SEQ, TYPE)."""
    return crc16_x25(buf, 0xFFFF, i, i + 5) & 0xFF


class Frame:
    """One link frame: message type, sequence number and raw payload bytes."""

    def __init__(self, msg_type, seq, payload=b""):
        self.msg_type = msg_type
        self.seq = seq
        self.payload = bytes(payload)

    def encode(self):
        return encode_frame(self.msg_type, self.seq, self.payload)

    def __eq__(self, other):
        return (
            isinstance(other, Frame)
            and self.msg_type == other.msg_type
            and self.seq == other.seq
            and self.payload == other.payload
        )

    def __repr__(self):
        return "Frame(type=0x%02X, seq=%d, payload=%d bytes)" % (
            self.msg_type,
            self.seq,
            len(self.payload),
        )


def encode_frame(msg_type, seq, payload=b""):
    """Wire bytes for one frame."""
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise EncodeError("payload longer than %d bytes: %d" % (MAX_PAYLOAD, n))
    if not 0 <= seq <= 0xFF:
        raise EncodeError("sequence number out of range: %r" % (seq,))
    if not 0 <= msg_type <= 0xFF:
        raise EncodeError("message type out of range: %r" % (msg_type,))
    out = bytearray(OVERHEAD + n)
    out[0] = START
    out[1] = n & 0xFF
    out[2] = n >> 8
    out[3] = seq
    out[4] = msg_type
    out[5] = header_check(out)
    out[HEADER_LEN : HEADER_LEN + n] = payload
    crc = crc16_x25(out, 0xFFFF, 0, HEADER_LEN + n)
    out[HEADER_LEN + n] = crc & 0xFF
    out[HEADER_LEN + n + 1] = crc >> 8
    return bytes(out)


def _payload_len(buf, i):
    return buf[i + 1] | (buf[i + 2] << 8)


def decode_frame(data):
    """Decode exactly one frame; raise LinkError naming what is wrong."""
    buf = bytes(data)
    n = len(buf)
    if n < OVERHEAD:
        raise LinkError("frame too short: %d bytes, at least %d needed" % (n, OVERHEAD))
    if buf[0] != START:
        raise LinkError("frame does not start with A5H (found %02XH)" % buf[0])
    length = _payload_len(buf, 0)
    if length > MAX_PAYLOAD:
        raise LinkError("LEN %d exceeds the maximum payload %d" % (length, MAX_PAYLOAD))
    if header_check(buf) != buf[5]:
        raise LinkError("header check mismatch")
    if n != OVERHEAD + length:
        raise LinkError("LEN %d needs %d bytes, got %d" % (length, OVERHEAD + length, n))
    end = HEADER_LEN + length
    crc = buf[end] | (buf[end + 1] << 8)
    if crc16_x25(buf, 0xFFFF, 0, end) != crc:
        raise LinkError("CRC mismatch")
    return Frame(buf[4], buf[3], buf[HEADER_LEN:end])


class LinkDecoder:
    """Sans-I/O stream decoder: feed() any chunks, get back every complete valid Frame.

    Never raises on input bytes. Skips garbage, rejects false starts at the header check, and
    keeps at most one incomplete candidate (fewer than MAX_FRAME bytes) between calls, so memory
    is bounded whatever arrives. Frames whose header was valid but whose CRC failed are counted
    and their (seq, type) kept in a short list (``pop_rejects``) so a server can NAK them at once
    instead of letting the sender time out.
    """

    def __init__(self):
        self._buf = bytearray()
        self._rejects = []
        self.frames = 0
        self.bad_crc = 0
        self.bad_header = 0
        self.skipped_bytes = 0

    @property
    def pending(self):
        """Buffered bytes that are not yet a frame."""
        return len(self._buf)

    def reset(self):
        self.skipped_bytes += len(self._buf)
        self._buf = bytearray()

    def pop_rejects(self):
        """(seq, msg_type) of frames that failed only their CRC since the last call."""
        out = self._rejects
        self._rejects = []
        return out

    def feed(self, chunk):
        self._buf.extend(chunk)
        return self._scan(False)

    def flush(self):
        """Give up on the incomplete candidate (the inter-byte gap expired, the sender reset)
        and return the frames hidden behind it; nothing stays buffered."""
        out = self._scan(True)
        self.reset()
        return out

    def _scan(self, final):
        buf = self._buf
        n = len(buf)
        out = []
        pos = 0
        while True:
            i = buf.find(b"\xa5", pos)
            if i < 0:
                self.skipped_bytes += n - pos
                pos = n
                break
            self.skipped_bytes += i - pos
            pos = i
            if n - i < HEADER_LEN:
                if final:
                    self.skipped_bytes += 1
                    pos = i + 1
                    continue
                break
            length = _payload_len(buf, i)
            if length > MAX_PAYLOAD or header_check(buf, i) != buf[i + 5]:
                self.bad_header += 1
                self.skipped_bytes += 1
                pos = i + 1
                continue
            end = i + HEADER_LEN + length
            if end + CRC_LEN > n:
                if final:
                    self.skipped_bytes += 1
                    pos = i + 1
                    continue
                break
            crc = buf[end] | (buf[end + 1] << 8)
            if crc16_x25(buf, 0xFFFF, i, end) != crc:
                self.bad_crc += 1
                if len(self._rejects) < MAX_REJECTS:
                    self._rejects.append((buf[i + 3], buf[i + 4]))
                self.skipped_bytes += 1
                pos = i + 1
                continue
            out.append(Frame(buf[i + 4], buf[i + 3], bytes(buf[i + HEADER_LEN : end])))
            self.frames += 1
            pos = end + CRC_LEN
        if pos:
            # Slice assignment, not del: MicroPython's bytearray has no item deletion.
            buf[:pos] = b""
        return out
