"""DL/T 645-2007 / -1997 link frame: model, encoder and stream decoder. MicroPython-safe.

Wire layout (after any number of FEH wake-up bytes):
``68 A0..A5 68 C L DATA(+33H each) CS 16``. CS is the byte sum from the first 68H through the
last DATA byte. Frames are found by structure and checksum only, never by timing: the decoder
hunts for 68H, checks the second 68H, the address digits, the length, CS and 16H, and on any
failure resumes one byte after the candidate's first 68H, so a 68H, 16H or FEH inside a frame
never truncates or hides it.
"""

from meterproto.compat import const, to_hex
from meterproto.stream import HuntingDecoder

START = const(0x68)
END = const(0x16)
PREAMBLE_BYTE = const(0xFE)
SCRAMBLE = const(0x33)
HEADER_LEN = const(10)  # 68 A0..A5 68 C L
MIN_FRAME_LEN = const(12)
MAX_DATA_LEN = const(255)
MAX_FRAME_LEN = const(267)
# Limits the standard puts on what a sender may send (receivers accept up to 255).
MAX_READ_REPLY_LEN = const(200)
MAX_WRITE_REQUEST_LEN = const(50)

WILDCARD_BYTE = const(0xAA)
BROADCAST_ADDRESS = b"\x99\x99\x99\x99\x99\x99"
WILDCARD_ADDRESS = b"\xaa\xaa\xaa\xaa\xaa\xaa"

# Control code bits
DIR_RESPONSE = const(0x80)
ABNORMAL = const(0x40)
FOLLOW_UP = const(0x20)
FUNCTION_MASK = const(0x1F)

VERSION_2007 = "dlt645-2007"
VERSION_1997 = "dlt645-1997"

# Function codes that exist only in DL/T 645-1997 (read, read subsequent, re-read, write,
# write address, change baud, change password, demand clear).
FUNCTIONS_1997 = (0x01, 0x02, 0x03, 0x04, 0x0A, 0x0C, 0x0F, 0x10)


class DecodeError(ValueError):
    """The one error type the protocol decoders raise for bad bytes."""


class EncodeError(ValueError):
    """A frame or value that cannot be put on the wire as asked."""


def _make_tables():
    up = bytearray(256)
    down = bytearray(256)
    for b in range(256):
        up[b] = (b + SCRAMBLE) & 0xFF
        down[b] = (b - SCRAMBLE) & 0xFF
    return bytes(up), bytes(down)


_SCRAMBLE_TABLE, _UNSCRAMBLE_TABLE = _make_tables()
_HAS_TRANSLATE = hasattr(b"", "translate")


def scramble(plain):
    """Add 33H to every byte, modulo 256 (plain -> wire)."""
    if _HAS_TRANSLATE:
        return bytes(plain).translate(_SCRAMBLE_TABLE)
    table = _SCRAMBLE_TABLE
    return bytes([table[b] for b in plain])


def unscramble(wire):
    """Subtract 33H from every byte, modulo 256 (wire -> plain)."""
    if _HAS_TRANSLATE:
        return bytes(wire).translate(_UNSCRAMBLE_TABLE)
    table = _UNSCRAMBLE_TABLE
    return bytes([table[b] for b in wire])


def _valid_address_byte(b):
    return b == WILDCARD_BYTE or ((b & 0x0F) <= 9 and (b >> 4) <= 9)


def address_is_valid(address):
    """True when every address byte is two BCD digits or the wildcard AAH."""
    return all(_valid_address_byte(b) for b in address)


def address_to_text(address):
    """Wire-order address bytes -> digits as a person writes them, most significant first.

    Wildcard bytes come out as ``aa``: ``AA AA AA AA AA AA`` -> ``"aaaaaaaaaaaa"``.
    """
    return to_hex(bytes(reversed(bytes(address))))


def address_from_text(text, pad=0x00):
    """Digits as written (most significant first) -> 6 wire-order bytes.

    A shorter address is padded in the high digits: with 0 for DL/T 645-2007, or with AAH for a
    1997 or wildcard address (``pad=0xAA``). ``a`` digits stand for the AAH wildcard.
    """
    text = str(text).strip().lower()
    if len(text) % 2:
        text = "0" + text
    if len(text) > 12:
        raise EncodeError("address has more than 12 digits: " + text)
    raw = bytearray()
    for i in range(len(text) - 2, -1, -2):
        pair = text[i : i + 2]
        if pair == "aa":
            raw.append(WILDCARD_BYTE)
            continue
        if not ("0" <= pair[0] <= "9" and "0" <= pair[1] <= "9"):
            raise EncodeError("address digits must be 0-9 or aa: " + text)
        raw.append(int(pair[0]) << 4 | int(pair[1]))
    while len(raw) < 6:
        raw.append(pad)
    return bytes(raw)


def checksum(data, start=0, end=None):
    """Byte sum modulo 256 of data[start:end]."""
    if end is None:
        end = len(data)
    return sum(data[start:end]) & 0xFF


class Frame:
    """One DL/T 645 frame: address (6 wire-order bytes), control code, plain DATA (33H removed).

    ``raw`` holds the wire bytes from the first 68H to 16H when the frame was decoded.
    """

    def __init__(self, address, control, data=b"", raw=None):
        self.address = bytes(address)
        self.control = control
        self.data = bytes(data)
        self.raw = raw

    # -- control code -----------------------------------------------------------------
    @property
    def is_response(self):
        return bool(self.control & DIR_RESPONSE)

    @property
    def direction(self):
        return "response" if self.control & DIR_RESPONSE else "request"

    @property
    def abnormal(self):
        return bool(self.control & ABNORMAL)

    @property
    def follow_up(self):
        return bool(self.control & FOLLOW_UP)

    @property
    def function(self):
        return self.control & FUNCTION_MASK

    @property
    def version(self):
        """ "dlt645-1997" for the 1997-only function codes, else "dlt645-2007".

        03H is both the 1997 re-read (no data) and the 2007 security command (DI + more).
        """
        fn = self.control & FUNCTION_MASK
        if fn == 0x03:
            return VERSION_2007 if len(self.data) >= 4 else VERSION_1997
        if fn in FUNCTIONS_1997:
            return VERSION_1997
        return VERSION_2007

    # -- address ----------------------------------------------------------------------
    @property
    def address_text(self):
        return address_to_text(self.address)

    @property
    def is_broadcast(self):
        return self.address == BROADCAST_ADDRESS

    @property
    def is_wildcard(self):
        return WILDCARD_BYTE in self.address

    # -- encoding ---------------------------------------------------------------------
    def encode(self, preamble=4):
        return encode_frame(self.address, self.control, self.data, preamble)

    def __eq__(self, other):
        return (
            isinstance(other, Frame)
            and self.address == other.address
            and self.control == other.control
            and self.data == other.data
        )

    def __repr__(self):
        return "Frame(address=%s, control=0x%02X, data=%s)" % (
            self.address_text,
            self.control,
            to_hex(self.data),
        )


def encode_frame(address, control, data=b"", preamble=4):
    """Build wire bytes: ``FE*preamble 68 A 68 C L DATA+33H CS 16``."""
    address = bytes(address)
    if len(address) != 6:
        raise EncodeError("address must be 6 bytes, got %d" % len(address))
    if not 0 <= control <= 0xFF:
        raise EncodeError("control code out of range: %r" % (control,))
    if len(data) > MAX_DATA_LEN:
        raise EncodeError("DATA longer than 255 bytes: %d" % len(data))
    out = bytearray(b"\xfe" * preamble)
    head = len(out)
    out.append(START)
    out.extend(address)
    out.append(START)
    out.append(control)
    out.append(len(data))
    out.extend(scramble(data))
    out.append(sum(out[head:]) & 0xFF)
    out.append(END)
    return bytes(out)


def _valid_address_bytes():
    return bytes([b for b in range(256) if _valid_address_byte(b)])


_VALID_ADDRESS_BYTES = _valid_address_bytes()


def _address_ok(buf, start, stop):
    if _HAS_TRANSLATE:  # CPython: delete every valid byte in C; anything left is invalid
        return not buf[start:stop].translate(None, _VALID_ADDRESS_BYTES)
    for k in range(start, stop):
        b = buf[k]
        if b != WILDCARD_BYTE and ((b & 0x0F) > 9 or (b >> 4) > 9):
            return False
    return True


def _head_plausible(buf, i, n, check_address):
    """Whether the incomplete candidate at buf[i] may still become a frame: its second 68H
    (when received) is there and its address digits so far are BCD or AAH. Checking this before
    waiting keeps junk that happens to contain 68H from holding the stream up."""
    if n - i > 7 and buf[i + 7] != START:
        return False
    return not check_address or _address_ok(buf, i + 1, min(i + 7, n))


def decode_frame(data, check_address=True):
    """Decode exactly one frame (FE preamble allowed, nothing after 16H but spaces of FE).

    Raises DecodeError naming what is wrong. Used for single frames given by a person
    (``meterbench decode``); streams go through StreamDecoder.
    """
    buf = bytes(data)
    i = 0
    n = len(buf)
    while i < n and buf[i] == PREAMBLE_BYTE:
        i += 1
    if i >= n:
        raise DecodeError("no frame: only FEH preamble bytes" if n else "no frame: empty input")
    if buf[i] != START:
        raise DecodeError("frame does not start with 68H (found %02XH at byte %d)" % (buf[i], i))
    if n - i < MIN_FRAME_LEN:
        raise DecodeError(
            "frame too short: %d bytes after the preamble, at least 12 needed" % (n - i)
        )
    if buf[i + 7] != START:
        raise DecodeError("second 68H missing at byte %d (found %02XH)" % (i + 7, buf[i + 7]))
    length = buf[i + 9]
    end = i + MIN_FRAME_LEN + length
    if end > n:
        raise DecodeError(
            "frame truncated: L=%d needs %d bytes, only %d present" % (length, end - i, n - i)
        )
    if check_address and not address_is_valid(buf[i + 1 : i + 7]):
        raise DecodeError("address bytes are not BCD: " + to_hex(buf[i + 1 : i + 7]))
    cs = sum(buf[i : end - 2]) & 0xFF
    if cs != buf[end - 2]:
        raise DecodeError(
            "checksum mismatch: frame says %02XH, computed %02XH" % (buf[end - 2], cs)
        )
    if buf[end - 1] != END:
        raise DecodeError("end byte is %02XH, expected 16H" % buf[end - 1])
    if end < n:
        raise DecodeError("%d unexpected bytes after the end byte 16H" % (n - end))
    raw = buf[i:end]
    return Frame(raw[1:7], raw[8], unscramble(raw[10:-2]), raw)


class StreamDecoder(HuntingDecoder):
    """Sans-I/O DL/T 645 stream decoder (see ``meterproto.stream``): skips garbage, FEH
    preambles of any length, wrong CS or end bytes and stray 68H/16H; at most one incomplete
    candidate (under 267 bytes) stays buffered between calls. The scan is inlined here rather
    than using the shared one: it runs once per candidate on every reply a bench reads."""

    def __init__(self, check_address=True):
        HuntingDecoder.__init__(self)
        self.check_address = check_address

    def _scan(self, final):
        buf = self._buf
        n = len(buf)
        out = []
        pos = 0
        check_address = self.check_address
        find = buf.find
        while True:
            i = find(b"\x68", pos)
            if i < 0:
                self.skipped_bytes += n - pos
                pos = n
                break
            if i > pos:
                self.skipped_bytes += i - pos
            # Fast path, inlined because it runs once per candidate: a complete candidate
            # with both 68H, the 16H end byte, a matching CS and BCD address digits.
            end = i + MIN_FRAME_LEN + buf[i + 9] if n - i >= MIN_FRAME_LEN else n + 1
            if end <= n:
                if buf[i + 7] != START:
                    pos = i + 1
                    self.skipped_bytes += 1
                    continue
                if buf[end - 1] != END:
                    self.bad_end += 1
                elif sum(buf[i : end - 2]) & 0xFF != buf[end - 2]:
                    self.bad_checksum += 1
                elif not check_address or _address_ok(buf, i + 1, i + 7):
                    raw = bytes(buf[i:end])
                    out.append(Frame(raw[1:7], raw[8], unscramble(raw[10:-2]), raw))
                    self.frames += 1
                    pos = end
                    continue
                pos = i + 1
                self.skipped_bytes += 1
                continue
            # Incomplete: wait for more bytes unless the head already rules it out.
            if not final and _head_plausible(buf, i, n, check_address):
                pos = i
                break
            pos = i + 1
            self.skipped_bytes += 1
        self._trim(pos)
        return out
