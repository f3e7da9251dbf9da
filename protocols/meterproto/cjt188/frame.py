"""CJ/T 188 link frame: model, encoder and stream decoder. MicroPython-safe.

Wire layout (after any number of FEH wake-up bytes):
``68 T A0..A6 C L DATA CS 16``, frame length 13 + L. There is no +33H scrambling. CS is the byte
sum from 68H through the last DATA byte. Unlike DL/T 645 there is no second 68H, so a candidate
is checked by its address digits, its length, CS and 16H; on any failure the search resumes one
byte after the candidate's 68H. L itself may be 16H (a 901F water-meter reply has L = 16H) and
68H, 16H or FEH may occur anywhere inside a frame, so nothing is ever cut at the first 16H.
"""

# ruff: noqa: UP031  (MicroPython-safe: %-formatting works on every MicroPython build)

from meterproto.compat import const, to_hex
from meterproto.dlt645.frame import (  # one typed error for the whole package
    DecodeError,
    EncodeError,
    address_is_valid,
    address_to_text,
)
from meterproto.stream import HuntingDecoder

__all__ = [
    "DecodeError",
    "EncodeError",
    "Frame",
    "StreamDecoder",
    "address_from_text",
    "address_is_valid",
    "address_to_text",
    "checksum",
    "decode_frame",
    "encode_frame",
]

START = const(0x68)
END = const(0x16)
PREAMBLE_BYTE = const(0xFE)
HEADER_LEN = const(11)  # 68 T A0..A6 C L
MIN_FRAME_LEN = const(13)
MAX_DATA_LEN = const(255)
MAX_FRAME_LEN = const(268)
ADDRESS_LEN = const(7)

WILDCARD_BYTE = const(0xAA)
WILDCARD_ADDRESS = b"\xaa\xaa\xaa\xaa\xaa\xaa\xaa"

# Meter type T
TYPE_COLD_WATER = const(0x10)
TYPE_HOT_WATER = const(0x11)
TYPE_DRINKING_WATER = const(0x12)
TYPE_RECLAIMED_WATER = const(0x13)
TYPE_HEAT = const(0x20)
TYPE_HEAT_COOLING = const(0x21)
TYPE_GAS = const(0x30)
TYPE_ELECTRICITY = const(0x40)
TYPE_ANY = const(0xAA)

# Control code bits
DIR_RESPONSE = const(0x80)
ABNORMAL = const(0x40)
FUNCTION_MASK = const(0x3F)

# Function codes (C & 3FH)
FN_READ_DATA = const(0x01)
FN_READ_ADDRESS = const(0x03)
FN_WRITE_DATA = const(0x04)
FN_READ_KEY_VERSION = const(0x09)
FN_WRITE_ADDRESS = const(0x15)
FN_WRITE_MOTOR_SYNC = const(0x16)


def address_from_text(text, pad=0x00):
    """Digits as written (most significant first) -> 7 wire-order bytes (A0 first).

    A shorter address is padded in the high digits with ``pad`` (00H, or AAH for a wildcard).
    ``aa`` digit pairs stand for the AAH wildcard byte.
    """
    text = str(text).strip().lower()
    if len(text) % 2:
        text = "0" + text
    if len(text) > 2 * ADDRESS_LEN:
        raise EncodeError("address has more than 14 digits: " + text)
    raw = bytearray()
    for i in range(len(text) - 2, -1, -2):
        pair = text[i : i + 2]
        if pair == "aa":
            raw.append(WILDCARD_BYTE)
            continue
        if not ("0" <= pair[0] <= "9" and "0" <= pair[1] <= "9"):
            raise EncodeError("address digits must be 0-9 or aa: " + text)
        raw.append(int(pair[0]) << 4 | int(pair[1]))
    while len(raw) < ADDRESS_LEN:
        raw.append(pad)
    return bytes(raw)


def checksum(data, start=0, end=None):
    """Byte sum modulo 256 of data[start:end]."""
    if end is None:
        end = len(data)
    return sum(data[start:end]) & 0xFF


class Frame:
    """One CJ/T 188 frame: meter type T, address (7 wire-order bytes), control code, DATA.

    ``raw`` holds the wire bytes from 68H to 16H when the frame was decoded.
    """

    def __init__(self, meter_type, address, control, data=b"", raw=None):
        self.meter_type = meter_type
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
        """D6: communication status abnormal (the meter refused or failed the request)."""
        return bool(self.control & ABNORMAL)

    @property
    def function(self):
        return self.control & FUNCTION_MASK

    # -- address ----------------------------------------------------------------------
    @property
    def address_text(self):
        return address_to_text(self.address)

    @property
    def is_wildcard(self):
        return WILDCARD_BYTE in self.address

    # -- encoding ---------------------------------------------------------------------
    def encode(self, preamble=2):
        return encode_frame(self.meter_type, self.address, self.control, self.data, preamble)

    def __eq__(self, other):
        return (
            isinstance(other, Frame)
            and self.meter_type == other.meter_type
            and self.address == other.address
            and self.control == other.control
            and self.data == other.data
        )

    def __repr__(self):
        return "Frame(meter_type=0x%02X, address=%s, control=0x%02X, data=%s)" % (
            self.meter_type,
            self.address_text,
            self.control,
            to_hex(self.data),
        )


def encode_frame(meter_type, address, control, data=b"", preamble=2):
    """Build wire bytes: ``FE*preamble 68 T A0..A6 C L DATA CS 16``."""
    address = bytes(address)
    if len(address) != ADDRESS_LEN:
        raise EncodeError("address must be 7 bytes, got %d" % len(address))
    if not 0 <= meter_type <= 0xFF:
        raise EncodeError("meter type out of range: %r" % (meter_type,))
    if not 0 <= control <= 0xFF:
        raise EncodeError("control code out of range: %r" % (control,))
    if len(data) > MAX_DATA_LEN:
        raise EncodeError("DATA longer than 255 bytes: %d" % len(data))
    if preamble < 0:
        raise EncodeError("preamble count must not be negative: %d" % preamble)
    out = bytearray(b"\xfe" * preamble)
    head = len(out)
    out.append(START)
    out.append(meter_type)
    out.extend(address)
    out.append(control)
    out.append(len(data))
    out.extend(data)
    out.append(sum(out[head:]) & 0xFF)
    out.append(END)
    return bytes(out)


def _make_frame(raw):
    return Frame(raw[1], raw[2:9], raw[9], raw[11:-2], raw)


def _check_candidate(buf, i, n, check_address):
    """Classify the candidate starting with 68H at buf[i].

    Returns ``(end, reason)``: end > 0 is the frame's end index (exclusive) when it is complete
    and valid; 0 means more bytes are needed; -1 means it is not a frame, for ``reason``.
    """
    if check_address:
        top = i + 9 if n > i + 9 else n
        for k in range(i + 2, top):
            b = buf[k]
            if b != WILDCARD_BYTE and ((b & 0x0F) > 9 or (b >> 4) > 9):
                return -1, "address is not BCD"
    if n - i < MIN_FRAME_LEN:
        return 0, None
    end = i + MIN_FRAME_LEN + buf[i + 10]
    if end > n:
        return 0, None
    if buf[end - 1] != END:
        return -1, "end byte is not 16H"
    if sum(buf[i : end - 2]) & 0xFF != buf[end - 2]:
        return -1, "checksum mismatch"
    return end, None


def decode_frame(data, check_address=True):
    """Decode exactly one frame (FE preamble allowed, nothing after 16H).

    Raises DecodeError naming what is wrong. Used for single frames given by a person; streams
    go through StreamDecoder.
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
            "frame too short: %d bytes after the preamble, at least 13 needed" % (n - i)
        )
    length = buf[i + 10]
    end = i + MIN_FRAME_LEN + length
    if end > n:
        raise DecodeError(
            "frame truncated: L=%d needs %d bytes, only %d present" % (length, end - i, n - i)
        )
    if check_address and not address_is_valid(buf[i + 2 : i + 9]):
        raise DecodeError("address bytes are not BCD: " + to_hex(buf[i + 2 : i + 9]))
    cs = sum(buf[i : end - 2]) & 0xFF
    if cs != buf[end - 2]:
        raise DecodeError(
            "checksum mismatch: frame says %02XH, computed %02XH" % (buf[end - 2], cs)
        )
    if buf[end - 1] != END:
        raise DecodeError("end byte is %02XH, expected 16H" % buf[end - 1])
    if end < n:
        raise DecodeError("%d unexpected bytes after the end byte 16H" % (n - end))
    return _make_frame(buf[i:end])


class StreamDecoder(HuntingDecoder):
    """Sans-I/O CJ/T 188 stream decoder (see ``meterproto.stream``): skips garbage, FEH
    preambles of any length, wrong CS or end bytes and stray 68H/16H; at most one incomplete
    candidate (under 268 bytes) stays buffered between calls."""

    def __init__(self, check_address=True):
        HuntingDecoder.__init__(self)
        self.check_address = check_address

    def _check(self, buf, i, n):
        return _check_candidate(buf, i, n, self.check_address)

    def _make(self, raw):
        return _make_frame(raw)
