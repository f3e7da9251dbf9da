"""Safe mode after repeated crashes. MicroPython-safe.

Every boot increments a counter in ``bootstate.json`` (atomic save); a boot that keeps running
for ``healthy_after_ms`` resets it. When ``max_bad_boots`` boots in a row never became healthy,
or a ``SAFE`` file exists (``mpremote fs touch :SAFE``), the controller starts in safe mode: the
link answers HELLO, STATUS and RESET but refuses measurement functions; a watchdog left running
by the previous boot is fed by a timer (bench.hal.keepalive); and a Ctrl-C between link frames
hands the port to the REPL, so stock mpremote gets in.
"""

from bench import config

STATE_FILE = "bootstate.json"
SAFE_FILE = "SAFE"


class BootState:
    def __init__(self, state_path=STATE_FILE, safe_path=SAFE_FILE, max_bad_boots=3):
        self.state_path = state_path
        self.safe_path = safe_path
        self.max_bad_boots = max_bad_boots
        self.boot_id = 0
        self.bad_boots = 0
        self.safe = False
        self.reason = ""
        self.healthy = False

    def begin(self, force_safe=False):
        """Record this boot and decide on safe mode; call once, early."""
        state = config.load(self.state_path) if self._exists(self.state_path) else {}
        self.boot_id = int(state.get("boot_id", 0)) + 1
        self.bad_boots = int(state.get("bad_boots", 0))
        if force_safe or state.get("safe_next"):
            self.safe, self.reason = True, "requested"
        elif self._exists(self.safe_path):
            self.safe, self.reason = True, "SAFE file"
        elif self.bad_boots >= self.max_bad_boots:
            self.safe, self.reason = True, "%d crashed boots" % self.bad_boots
        self._save(self.bad_boots + 1, False)
        return self

    def mark_healthy(self):
        """The app has run long enough: this boot was good."""
        if not self.healthy:
            self.healthy = True
            self._save(0, False)

    def request_safe_next(self):
        """Make the next boot a safe-mode boot (link RESET mode SAFE)."""
        self._save(self.bad_boots + (0 if self.healthy else 1), True)

    def _save(self, bad_boots, safe_next):
        data = {"schema": 1, "boot_id": self.boot_id, "bad_boots": bad_boots}
        if safe_next:
            data["safe_next"] = True
        config.save(data, self.state_path)

    @staticmethod
    def _exists(path):
        return config.exists(path)
