"""Results kept until the host acknowledges them. MicroPython-safe.

Every result event gets the next result_id. The server sends it at once and again every
``resend_ms`` until a RESULT_ACK(upto) covers it, so a lost frame costs a resend, never a
reading. The host acknowledges cumulatively (the highest id up to which it has everything) and
ignores duplicates. When the buffer is full the oldest unacknowledged result is dropped and
counted: losing old data beats stopping measurement, and STATUS shows it.
"""


class ResultBuffer:
    def __init__(self, capacity=64, resend_ms=500):
        self.capacity = capacity
        self.resend_ms = resend_ms
        self.next_id = 1
        self.dropped = 0
        self._items = []  # [result_id, msg_type, fields, last_sent_ms or None]

    def __len__(self):
        return len(self._items)

    def add(self, msg_type, fields):
        """Store a result; fields must not contain result_id (it is assigned here)."""
        rid = self.next_id
        self.next_id += 1
        fields["result_id"] = rid
        if len(self._items) >= self.capacity:
            self._items.pop(0)
            self.dropped += 1
        self._items.append([rid, msg_type, fields, None])
        return rid

    def ack(self, upto):
        """Forget every result with id <= upto; returns how many were released."""
        keep = [item for item in self._items if item[0] > upto]
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
