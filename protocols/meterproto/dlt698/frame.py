"""DL/T 698.45 link frame: model, encoder and stream decoder. MicroPython-safe.

Wire layout (after any number of FEH wake-up bytes):
``68 L(2) C AF SA(1..16) CA HCS(2) APDU FCS(2) 16``. L (low byte first) counts the bytes between
68H and 16H, excluding both. HCS is CRC-16/X-25 over L..CA, FCS is CRC-16/X-25 over L..APDU
(HCS included); both are sent low byte first. The CRCs are binary, so 68H, 16H and FEH occur
inside frames: a candidate is checked by its header (length rules, then HCS as soon as the header
is in), then FCS and 16H, and on any failure the search resumes one byte after its 68H. Checking
HCS early means a stray 68H with a huge L never holds up the frames behind it for long.
"""

# ruff: noqa: UP031  (MicroPython-safe: %-formatting works on every MicroPython build)

from meterproto.compat import const, to_hex
from meterproto.crc import crc16_x25
from meterproto.dlt645.frame import (  # one typed error for the whole package
    DecodeError,
    EncodeError,
    address_to_text,
)
from meterproto.stream import HuntingDecoder

__all__ = [
    "DecodeError",
    "EncodeError",
    "Frame",
    "StreamDecoder",
    "address_from_text",
    "address_to_text",
    "decode_frame",
    "encode_frame",
]

START = const(0x68)
END = const(0x16)
PREAMBLE_BYTE = const(0xFE)
LENGTH_MASK = const(0x3FFF)
LENGTH_UNIT_KB = const(0x4000)  # bit 14: length in kilobytes [uncertain]; not supported
LENGTH_RESERVED = const(0x8000)
MAX_LENGTH = const(0x3FFF)  # largest L the 14-bit field can say
MIN_SA_LEN = const(1)
MAX_SA_LEN = const(16)

# Control field bits
DIR_SERVER = const(0x80)  # DIR: 1 = sent by the server (meter)
PRM_CLIENT = const(0x40)  # PRM: 1 = the exchange was started by the client
FRAGMENT = const(0x20)
SCRAMBLED = const(0x08)  # SC: APDU scrambled (not supported by this codec)
FUNCTION_MASK = const(0x07)
FN_LINK = const(1)  # link management: login, heartbeat, logout
FN_USER_DATA = const(3)

# Address type (AF bits 6-7)
ADDR_SINGLE = const(0)
ADDR_WILDCARD = const(1)
ADDR_GROUP = const(2)
ADDR_BROADCAST = const(3)
ADDRESS_TYPE_NAMES = ("single", "wildcard", "group", "broadcast")


def address_from_text(text, length=6):
    """Digits as written (most significant first) -> ``length`` wire-order bytes (low first).

    Hex digits are allowed, since 698 wildcard addresses use ``a`` digits; a shorter text is
    padded with 0 in the high digits.
    """
    text = str(text).strip().lower()
    if len(text) % 2:
        text = "0" + text
    if len(text) > 2 * length:
        raise EncodeError("address has more than %d digits: %s" % (2 * length, text))
    while len(text) < 2 * length:
        text = "00" + text
    raw = bytearray()
    for i in range(len(text) - 2, -1, -2):
        try:
            raw.append(int(text[i : i + 2], 16))
        except ValueError:
            raise EncodeError("address digits must be hex digits: " + text) from None
    return bytes(raw)


def make_af(sa_len, address_type=ADDR_SINGLE, logical_address=0):
    """AF byte from the SA length (1..16), address type (0..3) and logical address (0..3)."""
    if not MIN_SA_LEN <= sa_len <= MAX_SA_LEN:
        raise EncodeError("server address must be 1..16 bytes, got %d" % sa_len)
    if not 0 <= address_type <= 3:
        raise EncodeError("address type must be 0..3: %r" % (address_type,))
    if not 0 <= logical_address <= 3:
        raise EncodeError("logical address must be 0..3: %r" % (logical_address,))
    return (address_type << 6) | (logical_address << 4) | (sa_len - 1)


class Frame:
    """One DL/T 698.45 link frame: SA (wire-order bytes), control C, AF fields, CA, APDU bytes.

    ``raw`` holds the wire bytes from 68H to 16H when the frame was decoded.
    """

    def __init__(
        self,
        address,
        control,
        apdu=b"",
        ca=0,
        address_type=ADDR_SINGLE,
        logical_address=0,
        raw=None,
    ):
        self.address = bytes(address)
        self.control = control
        self.apdu = bytes(apdu)
        self.ca = ca
        self.address_type = address_type
        self.logical_address = logical_address
        self.raw = raw

    # -- control field ----------------------------------------------------------------
    @property
    def dir(self):
        """DIR bit: 1 when the frame was sent by the server (meter)."""
        return 1 if self.control & DIR_SERVER else 0

    @property
    def prm(self):
        """PRM bit: 1 when the exchange was started by the client."""
        return 1 if self.control & PRM_CLIENT else 0

    @property
    def is_response(self):
        """A response answers the side that started the exchange: DIR == PRM (C3H, 01H)."""
        return self.dir == self.prm

    @property
    def direction(self):
        return "response" if self.dir == self.prm else "request"

    @property
    def fragment(self):
        return bool(self.control & FRAGMENT)

    @property
    def sc(self):
        return bool(self.control & SCRAMBLED)

    @property
    def function(self):
        return self.control & FUNCTION_MASK

    # -- length and address field -----------------------------------------------------
    @property
    def length(self):
        """L: the bytes between 68H and 16H, both excluded."""
        return 9 + len(self.address) + len(self.apdu)

    @property
    def sa_length(self):
        return len(self.address)

    @property
    def af(self):
        return make_af(len(self.address), self.address_type, self.logical_address)

    @property
    def address_text(self):
        return address_to_text(self.address)

    @property
    def address_type_name(self):
        return ADDRESS_TYPE_NAMES[self.address_type & 3]

    # -- encoding ---------------------------------------------------------------------
    def encode(self, preamble=4):
        return encode_frame(
            self.address,
            self.control,
            self.apdu,
            self.ca,
            self.address_type,
            self.logical_address,
            preamble,
        )

    def __eq__(self, other):
        return (
            isinstance(other, Frame)
            and self.address == other.address
            and self.control == other.control
            and self.apdu == other.apdu
            and self.ca == other.ca
            and self.address_type == other.address_type
            and self.logical_address == other.logical_address
        )

    def __repr__(self):
        return "Frame(address=%s, control=0x%02X, af=0x%02X, ca=0x%02X, apdu=%s)" % (
            self.address_text,
            self.control,
            self.af,
            self.ca,
            to_hex(self.apdu),
        )


def encode_frame(
    address, control, apdu=b"", ca=0, address_type=ADDR_SINGLE, logical_address=0, preamble=4
):
    """Build wire bytes: ``FE*preamble 68 L C AF SA CA HCS APDU FCS 16`` (HCS, FCS computed)."""
    address = bytes(address)
    af = make_af(len(address), address_type, logical_address)
    if not 0 <= control <= 0xFF:
        raise EncodeError("control field out of range: %r" % (control,))
    if not 0 <= ca <= 0xFF:
        raise EncodeError("client address out of range: %r" % (ca,))
    length = 9 + len(address) + len(apdu)
    if length > MAX_LENGTH:
        raise EncodeError("frame too long: L=%d, at most %d" % (length, MAX_LENGTH))
    if preamble < 0:
        raise EncodeError("preamble count must not be negative: %d" % preamble)
    out = bytearray(b"\xfe" * preamble)
    head = len(out) + 1
    out.append(START)
    out.append(length & 0xFF)
    out.append(length >> 8)
    out.append(control)
    out.append(af)
    out.extend(address)
    out.append(ca)
    hcs = crc16_x25(out, 0xFFFF, head)
    out.append(hcs & 0xFF)
    out.append(hcs >> 8)
    out.extend(apdu)
    fcs = crc16_x25(out, 0xFFFF, head)
    out.append(fcs & 0xFF)
    out.append(fcs >> 8)
    out.append(END)
    return bytes(out)


def _make_frame(raw):
    af = raw[4]
    sa_end = 5 + (af & 0x0F) + 1
    return Frame(
        raw[5:sa_end],
        raw[3],
        raw[sa_end + 3 : -3],
        raw[sa_end],
        af >> 6,
        (af >> 4) & 3,
        raw,
    )


def _check_candidate(buf, i, n, max_length):
    """Classify the candidate starting with 68H at buf[i].

    Returns ``(end, reason)``: end > 0 is the frame's end index (exclusive) when it is complete
    and valid; 0 means more bytes are needed; -1 means it is not a frame, for ``reason``.
    """
    avail = n - i
    if avail < 5:
        if avail >= 3 and buf[i + 2] & LENGTH_UNIT_KB:
            return -1, "length unit bit set"
        if avail >= 3 and buf[i + 2] & (LENGTH_RESERVED >> 8):
            return -1, "reserved length bit set"
        return 0, None
    word = buf[i + 1] | (buf[i + 2] << 8)
    if word & LENGTH_UNIT_KB:
        return -1, "length unit bit set"
    if word & LENGTH_RESERVED:
        return -1, "reserved length bit set"
    length = word & LENGTH_MASK
    sa_len = (buf[i + 4] & 0x0F) + 1
    if length < 9 + sa_len:
        return -1, "length too small for the header"
    if length > max_length:
        return -1, "length over the limit"
    hcs_at = i + 6 + sa_len
    if n < hcs_at + 2:
        return 0, None
    hcs = crc16_x25(buf, 0xFFFF, i + 1, hcs_at)
    if buf[hcs_at] != hcs & 0xFF or buf[hcs_at + 1] != hcs >> 8:
        return -1, "HCS mismatch"
    end = i + length + 2
    if end > n:
        return 0, None
    if buf[end - 1] != END:
        return -1, "end byte is not 16H"
    fcs = crc16_x25(buf, 0xFFFF, i + 1, end - 3)
    if buf[end - 3] != fcs & 0xFF or buf[end - 2] != fcs >> 8:
        return -1, "FCS mismatch"
    return end, None


def decode_frame(data, max_length=MAX_LENGTH):
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
    if n - i < 5:
        raise DecodeError("frame too short: %d bytes after the preamble" % (n - i))
    word = buf[i + 1] | (buf[i + 2] << 8)
    if word & LENGTH_UNIT_KB:
        raise DecodeError("length unit bit (kilobytes) is set: not supported")
    if word & LENGTH_RESERVED:
        raise DecodeError("reserved bit 15 of the length field is set")
    length = word & LENGTH_MASK
    sa_len = (buf[i + 4] & 0x0F) + 1
    if length < 9 + sa_len:
        raise DecodeError(
            "length L=%d too small: a %d-byte server address needs at least %d"
            % (length, sa_len, 9 + sa_len)
        )
    if length > max_length:
        raise DecodeError("length L=%d over the limit %d" % (length, max_length))
    end = i + length + 2
    if end > n:
        raise DecodeError(
            "frame truncated: L=%d needs %d bytes, only %d present" % (length, end - i, n - i)
        )
    hcs_at = i + 6 + sa_len
    hcs = crc16_x25(buf, 0xFFFF, i + 1, hcs_at)
    got = buf[hcs_at] | (buf[hcs_at + 1] << 8)
    if got != hcs:
        raise DecodeError("HCS mismatch: frame says %04XH, computed %04XH" % (got, hcs))
    fcs = crc16_x25(buf, 0xFFFF, i + 1, end - 3)
    got = buf[end - 3] | (buf[end - 2] << 8)
    if got != fcs:
        raise DecodeError("FCS mismatch: frame says %04XH, computed %04XH" % (got, fcs))
    if buf[end - 1] != END:
        raise DecodeError("end byte is %02XH, expected 16H" % buf[end - 1])
    if end < n:
        raise DecodeError("%d unexpected bytes after the end byte 16H" % (n - end))
    return _make_frame(buf[i:end])


class StreamDecoder(HuntingDecoder):
    """Sans-I/O DL/T 698.45 stream decoder (see ``meterproto.stream``): skips garbage, FEH
    preambles, wrong HCS, FCS or end bytes and stray 68H/16H; at most one incomplete candidate
    (``max_length + 2`` bytes; lower ``max_length`` on a controller) stays buffered.
    ``bad_header`` counts 68H followed by an impossible length or a wrong HCS."""

    checksum_reasons = ("FCS mismatch",)

    def __init__(self, max_length=MAX_LENGTH):
        HuntingDecoder.__init__(self)
        self.max_length = max_length

    def _check(self, buf, i, n):
        return _check_candidate(buf, i, n, self.max_length)

    def _make(self, raw):
        return _make_frame(raw)
