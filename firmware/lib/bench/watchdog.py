"""Feed the hardware watchdog only while every supervised task is alive. MicroPython-safe.

Tasks call ``beat(name)``; ``check(now_ms)`` feeds the WDT only if each registered task beat
within ``stale_ms``. A wedged task therefore ends in a hardware reset, whereas a timer feeding
the WDT would keep a dead controller alive forever.
"""


class Supervisor:
    def __init__(self, wdt, stale_ms):
        self.wdt = wdt
        self.stale_ms = stale_ms
        self._beats = {}
        self.starved = 0

    def register(self, name, now_ms):
        self._beats[name] = now_ms

    def beat(self, name, now_ms):
        self._beats[name] = now_ms

    def healthy(self, now_ms):
        return all(now_ms - last <= self.stale_ms for last in self._beats.values())

    def check(self, now_ms):
        """Feed if healthy; returns whether it fed."""
        if self.healthy(now_ms):
            if self.wdt is not None:
                self.wdt.feed()
            return True
        self.starved += 1
        return False
