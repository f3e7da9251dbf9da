"""Controller link message table and payload codec. MicroPython-safe.

One table (``TABLE``) is imported by the firmware and the host alike: each row is
``(id, name, struct format, field names)``. Formats are little-endian ``struct`` formats using
only ``b B h H i I q Q`` and ``Ns``; a format ending in ``*`` means the rest of the payload is raw
bytes for the last field name (RS-485 data, log text). ``Ns`` fields are NUL-padded text: they
decode with trailing NULs removed, so their values must not end in NUL themselves.

Type ranges: 01H-7FH requests (host -> controller), 80H-BFH replies (SEQ echoes the request),
C0H-FFH events (controller -> host, SEQ from the controller's own counter). Every request gets
exactly one reply: its own reply message when it has one (HELLO, STATUS_GET, RS485_XFER), else
ACK, or NAK with a reason. Until a host has said HELLO since boot, every request other than
HELLO, STATUS_GET and RESET is refused with NAK_NO_HELLO, so a host that missed a restart finds
out at its next request instead of talking to a controller that lost its state.

Result events (readings, window pulses and window ends) carry a 64-bit ``result_id``: the boot
id in the high 32 bits and a per-boot counter in the low 32 bits, so ids never repeat across
restarts. The controller resends each result until the host acknowledges that very id with
RESULT_ACK (a list of ids, in any order), so a lost frame never loses a reading and a host that
restarted (and knows nothing of earlier ids) still acknowledges exactly what it received.

Version 2.0 (from 1.0): result ids with the boot id, RESULT_ACK by id, NAK_NO_HELLO, 64-bit
counts in readings (unwrapped beyond 2**32), INPUT_CONFIG as a minimum pulse width in µs per
input, HELLO_REPLY.failsafe_ms, reading flag RF_INVALID.
"""

import struct

from meterproto.compat import const
from meterproto.link.frame import (
    MAX_PAYLOAD,
    EncodeError,
    LinkError,
    decode_frame,
    encode_frame,
)

# Protocol version: major in the high byte (incompatible changes), minor in the low byte.
PROTOCOL_VERSION = const(0x0200)


def version_major(version):
    return version >> 8


# -- message ids ------------------------------------------------------------------------
# requests
HELLO = const(0x01)
RESET = const(0x02)
STATUS_GET = const(0x03)
ERR_START = const(0x10)
PERIOD_START = const(0x11)
WINDOW_START = const(0x12)
STOP = const(0x13)
RS485_CONFIG = const(0x20)
RS485_XFER = const(0x21)
OUTPUT_SET = const(0x22)
INPUT_CONFIG = const(0x23)
RESULT_ACK = const(0x30)
# replies
ACK = const(0x80)
NAK = const(0x81)
HELLO_REPLY = const(0x82)
STATUS = const(0x83)
RS485_REPLY = const(0x84)
# events
ERR_READING = const(0xC0)
PERIOD_READING = const(0xC1)
WINDOW_PULSE = const(0xC2)
WINDOW_END = const(0xC3)
HEARTBEAT = const(0xC4)
LOG = const(0xC5)

# -- NAK reasons ------------------------------------------------------------------------
NAK_UNKNOWN_TYPE = const(1)  # no such message type (or not a request)
NAK_BAD_LENGTH = const(2)  # payload length does not match the message's format
NAK_BAD_CRC = const(3)  # header valid, CRC failed: SEQ and TYPE are those of the damaged frame
NAK_BAD_VALUE = const(4)  # a field is out of range (detail: field index)
NAK_BAD_POSITION = const(5)  # no such position on this controller
NAK_BUSY = const(6)  # the function is running; stop it first
NAK_UNSUPPORTED = const(7)  # this board lacks the capability
NAK_BAD_STATE = const(8)  # not possible now (e.g. safe mode)
NAK_INTERNAL = const(9)  # the handler failed; the controller keeps running
NAK_VERSION = const(10)  # incompatible protocol major version
NAK_NO_HELLO = const(11)  # no HELLO since the controller booted: say HELLO first

NAK_REASONS = {
    NAK_UNKNOWN_TYPE: "unknown message type",
    NAK_BAD_LENGTH: "bad payload length",
    NAK_BAD_CRC: "bad CRC",
    NAK_BAD_VALUE: "value out of range",
    NAK_BAD_POSITION: "no such position",
    NAK_BUSY: "busy",
    NAK_UNSUPPORTED: "not supported by this board",
    NAK_BAD_STATE: "not possible in this state",
    NAK_INTERNAL: "internal error",
    NAK_VERSION: "incompatible protocol version",
    NAK_NO_HELLO: "no HELLO since the controller booted",
}

# -- capability bits (HELLO_REPLY.caps) ----------------------------------------------------
CAP_ERROR = const(0x01)  # gated error measurement
CAP_PERIOD = const(0x02)  # period measurement against a time base input
CAP_WINDOW = const(0x04)  # pulse windows with timestamps
CAP_RS485 = const(0x08)  # RS-485 pass-through to meters
CAP_OUTPUTS = const(0x10)  # per-position relays / valves
CAP_HW_GATE = const(0x20)  # gating in hardware: +-1 reference count, no IRQ latency
CAP_TIMEBASE = const(0x40)  # an external time base input is wired
CAP_DEBOUNCE = const(0x80)  # INPUT_CONFIG minimum pulse width (debounce) on the inputs

# -- controller flags (HELLO_REPLY.flags, STATUS.flags) --------------------------------------
FLAG_SAFE_MODE = const(0x01)  # booted in safe mode: measurement functions refused
FLAG_WDT = const(0x02)  # hardware watchdog running
FLAG_HOST = const(0x04)  # a host has said HELLO since boot

# -- field values -----------------------------------------------------------------------------
RESET_SOFT = const(0)
RESET_HARD = const(1)
RESET_SAFE = const(2)  # reboot into safe mode
RESET_REPL = const(3)  # maintenance: leave the link for the REPL (mpremote), watchdog kept fed

FN_ERROR = const(0x01)  # STOP.functions bits
FN_PERIOD = const(0x02)
FN_WINDOW = const(0x04)
FN_ALL = const(0xFF)
ALL_POSITIONS = const(0xFF)

INPUT_METER = const(0)  # WINDOW_START.input
INPUT_SECOND = const(1)

PARITY_NONE = const(0)  # RS485_CONFIG.parity
PARITY_EVEN = const(1)
PARITY_ODD = const(2)

FRAMING_RAW = const(0)  # RS485_XFER.framing: reply ends at the timeout / idle gap
FRAMING_DLT645 = const(1)  # reply ends with a complete DL/T 645 frame

RS485_OK = const(0)  # RS485_REPLY.status
RS485_TIMEOUT = const(1)  # no complete reply before the timeout; data holds what arrived
RS485_ECHO_MISMATCH = const(2)  # local echo differed from what was sent (collision)

RF_OVERRUN = const(0x01)  # reading flags: edges were lost, do not use the reading
RF_LAST = const(0x02)  # last reading of a finite series
RF_INVALID = const(0x04)  # count not trustworthy: input absent, or wrapped beyond unwrapping
WF_STOPPED = const(0x01)  # window-end flags: stopped by the host before its duration
WF_OVERRUN = const(0x02)
WF_TRUNCATED = const(0x04)  # more pulses than max_events: later ones only counted

LOG_DEBUG = const(10)
LOG_INFO = const(20)
LOG_WARNING = const(30)
LOG_ERROR = const(40)

_STATUS_FMT = "<IIIIHHHHHHHHIIB"
_STATUS_FIELDS = (
    "uptime_ms",
    "boot_id",
    "rx_frames",
    "tx_frames",
    "bad_crc",
    "bad_frames",
    "unknown",
    "naks",
    "results_pending",
    "results_dropped",
    "overruns",
    "errors",
    "active",
    "mem_free",
    "flags",
)
_READING_FMT = "<QBIHQQIB"

# (id, name, struct format, field names)
TABLE = (
    (HELLO, "HELLO", "<HIH", ("protocol", "host_caps", "heartbeat_ms")),
    (RESET, "RESET", "<B", ("mode",)),
    (STATUS_GET, "STATUS_GET", "<", ()),
    (ERR_START, "ERR_START", "<BHHH", ("position", "pulses", "readings", "skip")),
    (PERIOD_START, "PERIOD_START", "<BHHH", ("position", "cycles", "readings", "skip")),
    (WINDOW_START, "WINDOW_START", "<BBIH", ("position", "input", "duration_ms", "max_events")),
    (STOP, "STOP", "<BB", ("position", "functions")),
    (RS485_CONFIG, "RS485_CONFIG", "<BIBBB", ("position", "baudrate", "bits", "parity", "stop")),
    (RS485_XFER, "RS485_XFER", "<BBH*", ("position", "framing", "timeout_ms", "data")),
    (OUTPUT_SET, "OUTPUT_SET", "<BBB", ("position", "output", "state")),
    (INPUT_CONFIG, "INPUT_CONFIG", "<BBI", ("position", "input", "min_pulse_us")),
    (RESULT_ACK, "RESULT_ACK", "<*", ("ids",)),  # packed 64-bit result ids (pack_result_ids)
    (ACK, "ACK", "<B", ("req_type",)),
    (NAK, "NAK", "<BBH", ("req_type", "reason", "detail")),
    (
        HELLO_REPLY,
        "HELLO_REPLY",
        "<HIBBIII12s16s16s16sI",
        (
            "protocol",
            "caps",
            "positions",
            "flags",
            "boot_id",
            "tick_hz",
            "mpy",
            "mp_version",
            "fw_version",
            "fw_hash",
            "board",
            "failsafe_ms",
        ),
    ),
    (STATUS, "STATUS", _STATUS_FMT, _STATUS_FIELDS),
    (RS485_REPLY, "RS485_REPLY", "<BB*", ("position", "status", "data")),
    (
        ERR_READING,
        "ERR_READING",
        _READING_FMT,
        ("result_id", "position", "index", "pulses", "ref_count", "gate_ticks", "t_ms", "flags"),
    ),
    (
        PERIOD_READING,
        "PERIOD_READING",
        _READING_FMT,
        (
            "result_id",
            "position",
            "index",
            "cycles",
            "timebase_count",
            "gate_ticks",
            "t_ms",
            "flags",
        ),
    ),
    (WINDOW_PULSE, "WINDOW_PULSE", "<QBBIQ", ("result_id", "position", "input", "n", "t_us")),
    (
        WINDOW_END,
        "WINDOW_END",
        "<QBBIQB",
        ("result_id", "position", "input", "count", "duration_us", "flags"),
    ),
    (HEARTBEAT, "HEARTBEAT", _STATUS_FMT, _STATUS_FIELDS),
    (LOG, "LOG", "<B*", ("level", "text")),
)

# Result events: buffered by the controller until RESULT_ACK names their result_id.
RESULT_TYPES = (ERR_READING, PERIOD_READING, WINDOW_PULSE, WINDOW_END)
RESULT_ID_SIZE = const(8)
MAX_ACK_IDS = const(64)  # ids per RESULT_ACK (512-byte payload limit leaves room to spare)


def result_id(boot_id, n):
    """The link id of the n-th result of a boot: unique across reboots."""
    return ((boot_id & 0xFFFFFFFF) << 32) | (n & 0xFFFFFFFF)


def result_boot(rid):
    """The boot id a result id belongs to."""
    return rid >> 32


def pack_result_ids(ids):
    """RESULT_ACK.ids payload for up to MAX_ACK_IDS ids."""
    if len(ids) > MAX_ACK_IDS:
        raise EncodeError("at most %d ids per RESULT_ACK" % MAX_ACK_IDS)
    return b"".join(struct.pack("<Q", i) for i in ids)


def unpack_result_ids(data):
    """Ids from a RESULT_ACK.ids payload; LinkError for a ragged length."""
    if len(data) % RESULT_ID_SIZE:
        raise LinkError("RESULT_ACK: %d bytes is not a list of ids" % len(data))
    return [struct.unpack_from("<Q", data, k)[0] for k in range(0, len(data), RESULT_ID_SIZE)]


_LIMITS = {
    "b": (-0x80, 0x7F),
    "B": (0, 0xFF),
    "h": (-0x8000, 0x7FFF),
    "H": (0, 0xFFFF),
    "i": (-0x80000000, 0x7FFFFFFF),
    "I": (0, 0xFFFFFFFF),
    "q": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
    "Q": (0, 0xFFFFFFFFFFFFFFFF),
}


class UnknownMessage(LinkError):
    """A frame whose type is not in the table."""


def is_request(msg_type):
    return msg_type < 0x80


def is_reply(msg_type):
    return 0x80 <= msg_type < 0xC0


def is_event(msg_type):
    return msg_type >= 0xC0


def _field_codes(fmt):
    """Per-field struct codes of a format: 'B', 'H', ... or an int (the size of an 's' field)."""
    codes = []
    count = ""
    for ch in fmt[1:]:
        if "0" <= ch <= "9":
            count += ch
        elif ch == "s":
            codes.append(int(count or "1"))
            count = ""
        elif ch in _LIMITS:
            for _ in range(int(count or "1")):
                codes.append(ch)
            count = ""
        else:
            raise ValueError("unsupported struct code %r in %r" % (ch, fmt))
    return tuple(codes)


class MessageSpec:
    """One table row, prepared for encoding and decoding."""

    def __init__(self, msg_type, name, fmt, fields):
        self.msg_type = msg_type
        self.name = name
        self.tail = None
        if fmt.endswith("*"):
            fmt = fmt[:-1]
            self.tail = fields[-1]
            fields = fields[:-1]
        self.fmt = fmt
        self.fields = tuple(fields)
        self.codes = _field_codes(fmt)
        self.size = struct.calcsize(fmt)
        if len(self.codes) != len(self.fields):
            raise ValueError("%s: format %r does not match its fields" % (name, fmt))
        if self.size > MAX_PAYLOAD:
            raise ValueError("%s: fixed part exceeds the maximum payload" % name)

    @property
    def field_names(self):
        """All field names in wire order, the tail last."""
        if self.tail is None:
            return self.fields
        return self.fields + (self.tail,)


def _build_specs():
    by_type = {}
    by_name = {}
    for row in TABLE:
        spec = MessageSpec(row[0], row[1], row[2], row[3])
        if spec.msg_type in by_type or spec.name in by_name:
            raise ValueError("duplicate message " + spec.name)
        by_type[spec.msg_type] = spec
        by_name[spec.name] = spec
    return by_type, by_name


SPECS, SPECS_BY_NAME = _build_specs()


def spec_for(msg_type):
    """The MessageSpec for a type id or name; UnknownMessage if there is none."""
    spec = SPECS_BY_NAME.get(msg_type) if isinstance(msg_type, str) else SPECS.get(msg_type)
    if spec is None:
        raise UnknownMessage("unknown message type %r" % (msg_type,))
    return spec


def _as_bytes(name, value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise EncodeError("%s must be bytes or str, got %r" % (name, value))


def encode_payload(msg_type, fields):
    """Payload bytes for a message from a dict of its fields (all of them, no others)."""
    spec = spec_for(msg_type)
    values = []
    for k, name in enumerate(spec.fields):
        if name not in fields:
            raise EncodeError("%s: missing field %s" % (spec.name, name))
        value = fields[name]
        code = spec.codes[k]
        if isinstance(code, int):
            value = _as_bytes(name, value)
            if len(value) > code:
                raise EncodeError("%s.%s longer than %d bytes" % (spec.name, name, code))
        else:
            if not isinstance(value, int) or isinstance(value, bool):
                raise EncodeError("%s.%s must be an int, got %r" % (spec.name, name, value))
            lo, hi = _LIMITS[code]
            if not lo <= value <= hi:
                raise EncodeError("%s.%s out of range: %d" % (spec.name, name, value))
        values.append(value)
    expected = len(spec.fields) + (spec.tail is not None)
    if len(fields) != expected:
        extra = [k for k in fields if k not in spec.field_names]
        raise EncodeError("%s: unknown fields %r" % (spec.name, extra))
    payload = struct.pack(spec.fmt, *values)
    if spec.tail is not None:
        if spec.tail not in fields:
            raise EncodeError("%s: missing field %s" % (spec.name, spec.tail))
        payload += _as_bytes(spec.tail, fields[spec.tail])
    if len(payload) > MAX_PAYLOAD:
        raise EncodeError("%s: payload longer than %d bytes" % (spec.name, MAX_PAYLOAD))
    return payload


def decode_payload(msg_type, payload):
    """Dict of fields from payload bytes; LinkError when the length does not fit the format."""
    spec = spec_for(msg_type)
    n = len(payload)
    if n < spec.size or (spec.tail is None and n != spec.size):
        raise LinkError("%s: payload is %d bytes, format needs %d" % (spec.name, n, spec.size))
    values = struct.unpack_from(spec.fmt, payload, 0)
    fields = {}
    for k, name in enumerate(spec.fields):
        value = values[k]
        if isinstance(spec.codes[k], int):
            value = value.rstrip(b"\x00")
        fields[name] = value
    if spec.tail is not None:
        fields[spec.tail] = bytes(payload[spec.size :])
    return fields


class Message:
    """A decoded message: type id, sequence number and a dict of fields (``msg["name"]``)."""

    def __init__(self, msg_type, seq, fields):
        self.msg_type = msg_type
        self.seq = seq
        self.fields = fields

    @property
    def name(self):
        spec = SPECS.get(self.msg_type)
        return spec.name if spec else "0x%02X" % self.msg_type

    def __getitem__(self, key):
        return self.fields[key]

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def encode(self):
        return encode(self.msg_type, self.seq, **self.fields)

    def __eq__(self, other):
        return (
            isinstance(other, Message)
            and self.msg_type == other.msg_type
            and self.seq == other.seq
            and self.fields == other.fields
        )

    def __repr__(self):
        return "Message(%s, seq=%d, %r)" % (self.name, self.seq, self.fields)


def encode(msg_type, seq, **fields):
    """Wire bytes of one message frame: ``encode(ERR_START, 7, position=0, pulses=10, ...)``."""
    spec = spec_for(msg_type)
    return encode_frame(spec.msg_type, seq, encode_payload(spec.msg_type, fields))


def parse(frame):
    """Message from a decoded Frame; UnknownMessage or LinkError for a bad type or length."""
    return Message(frame.msg_type, frame.seq, decode_payload(frame.msg_type, frame.payload))


def decode(data):
    """Message from the wire bytes of exactly one frame."""
    return parse(decode_frame(data))
