"""Results kept until the host acknowledges them. MicroPython-safe.

Every result event gets the next result id of this boot: the boot id in the high 32 bits, a
counter in the low 32 bits (meterproto.link.result_id), so ids never repeat across restarts and
a host can tell a new result from a resent one whatever happened in between. The server sends a
result at once and again every ``resend_ms`` until a RESULT_ACK names its id; ids are
acknowledged one by one, in any order, so a host that restarted (and knows nothing of earlier
ids) acknowledges exactly what it received. Ids of another boot are ignored. When the buffer is
full the oldest unacknowledged result is dropped and counted: losing old data beats stopping
measurement, and STATUS shows it.
"""

from meterproto.link.messages import result_id


class ResultBuffer:
    def __init__(self, capacity=64, resend_ms=500, boot_id=0):
        self.capacity = capacity
        self.resend_ms = resend_ms
        self.boot_id = boot_id
        self.next_n = 1
        self.added = 0
        self.dropped = 0
        self._items = []  # [result_id, msg_type, fields, last_sent_ms or None]

    def __len__(self):
        return len(self._items)

    def add(self, msg_type, fields):
        """Store a result; fields must not contain result_id (it is assigned here)."""
        rid = result_id(self.boot_id, self.next_n)
        self.next_n += 1
        self.added += 1
        fields["result_id"] = rid
        if len(self._items) >= self.capacity:
            self._items.pop(0)
            self.dropped += 1
        self._items.append([rid, msg_type, fields, None])
        return rid

    def ack(self, ids):
        """Forget the results with these ids; returns how many were released."""
        if not ids:
            return 0
        wanted = set(ids)
        keep = [item for item in self._items if item[0] not in wanted]
        released = len(self._items) - len(keep)
        self._items = keep
        return released

    def due(self, now_ms, limit=8):
        """Results to send now (never sent, or not acknowledged within resend_ms), oldest
        first, at most ``limit`` per call so one resend burst cannot starve replies."""
        out = []
        for item in self._items:
            last = item[3]
            if last is None or now_ms - last >= self.resend_ms:
                item[3] = now_ms
                out.append((item[1], item[2]))
                if len(out) >= limit:
                    break
        return out
