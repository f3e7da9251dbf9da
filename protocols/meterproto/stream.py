"""The stream decoder the 68H-framed meter protocols share. MicroPython-safe.

DL/T 645, CJ/T 188 and DL/T 698.45 frames all begin with 68H and end with 16H, and a receiver
must find them by structure and checksum in any stream of bytes: hunt for 68H, classify the
candidate, emit it, wait for more bytes, or resume one byte after its 68H. Only the
classification differs per protocol, so each decoder supplies ``_check(buf, i, n)`` and
``_make(raw)``; buffering, counters and the hunt live here once.
"""


def _can_delete_slices():
    probe = bytearray(b"ab")
    try:
        del probe[:1]
    except TypeError:  # MicroPython bytearrays do not support slice deletion
        return False
    return True


CAN_DELETE_SLICES = _can_delete_slices()
END_REASON = "end byte is not 16H"


class HuntingDecoder:
    """Sans-I/O stream decoder: feed() any chunks, get back every complete valid frame.

    ``_check(buf, i, n)`` classifies the candidate at ``buf[i]`` (a 68H) as ``(end, None)``
    (a valid frame ending before ``end``), ``(0, None)`` (incomplete: wait) or ``(-1, reason)``.
    Between calls at most one incomplete candidate stays buffered, so memory is bounded on
    endless garbage. ``flush()`` gives up on an incomplete candidate (for example after the
    inter-byte gap expired) and returns frames that were hidden behind it.
    """

    checksum_reasons = ("checksum mismatch",)

    def __init__(self):
        self._buf = bytearray()
        self.frames = 0
        self.bad_checksum = 0
        self.bad_end = 0
        self.bad_header = 0
        self.skipped_bytes = 0

    @property
    def pending(self):
        """Number of buffered bytes that are not yet a frame."""
        return len(self._buf)

    def reset(self):
        self.skipped_bytes += len(self._buf)
        self._buf = bytearray()

    def feed(self, chunk):
        self._buf.extend(chunk)
        return self._scan(False)

    def flush(self):
        return self._scan(True)

    def _check(self, buf, i, n):  # pragma: no cover - every protocol supplies it
        raise NotImplementedError

    def _make(self, raw):  # pragma: no cover - every protocol supplies it
        raise NotImplementedError

    def _reject(self, reason):
        self.skipped_bytes += 1
        if reason in self.checksum_reasons:
            self.bad_checksum += 1
        elif reason == END_REASON:
            self.bad_end += 1
        elif reason is not None:
            self.bad_header += 1

    def _trim(self, pos):
        """Drop the bytes before ``pos``; they are frames already handed out or garbage."""
        if not pos:
            return
        if CAN_DELETE_SLICES:
            del self._buf[:pos]
        else:
            self._buf = self._buf[pos:]

    def _scan(self, final):
        buf = self._buf
        n = len(buf)
        out = []
        pos = 0
        while True:
            i = buf.find(b"\x68", pos)
            if i < 0:
                self.skipped_bytes += n - pos
                pos = n
                break
            if i > pos:
                self.skipped_bytes += i - pos
            end, reason = self._check(buf, i, n)
            if end > 0:
                out.append(self._make(bytes(buf[i:end])))
                self.frames += 1
                pos = end
                continue
            if end == 0 and not final:
                pos = i
                break
            self._reject(reason)
            pos = i + 1
        self._trim(pos)
        return out
