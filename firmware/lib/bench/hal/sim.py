"""Simulated board: edges, counts and UART bytes are injected by tests or the bench simulator.

MicroPython-safe (no machine import). A simulator passes a ManualClock (bench.clock; wrap
period 2**30 like a 32-bit board) that only moves when it says so; without one (the unix port
as a fake board) the system clock runs. Injection API, timestamps in µs of the clock, never
going backwards (a ManualClock is moved to t_us first):

    hal.count("ref", n, t_us)       n reference pulses arrived up to t_us (counts over an
                                    interval: reference rates are far too high for per-edge
                                    events); "timebase" likewise for the external time base
    hal.edge("meter", pos, t_us)    a meter pulse edge on position pos at t_us (fires the same
                                    handler a Pin IRQ would); "second" for the clock pulse
    hal.uart(pos).responder = fn    fn(request bytes) -> reply bytes (the simulated meter)
    hal.uart(pos).inject(data)      bytes arriving on the RS-485 line unasked

Feed counts up to an edge's time before the edge: the handler snapshots the counter then.
The link runs over stdin/stdout (bench.stdio) unless the caller passes its own streams.
"""

from bench.clock import ManualClock, SystemClock, sleep_ms
from bench.edges import EdgeCapture, EdgeRing
from bench.rs485 import Rs485
from bench.softchannel import SoftChannel
from meterproto.link.messages import (
    CAP_DEBOUNCE,
    CAP_ERROR,
    CAP_HW_GATE,
    CAP_OUTPUTS,
    CAP_PERIOD,
    CAP_RS485,
    CAP_TIMEBASE,
    CAP_WINDOW,
    FN_PERIOD,
    INPUT_METER,
    INPUT_SECOND,
)

COUNTER_MOD = 1 << 32  # like a hardware counter
OUTPUTS_PER_POSITION = 2
INPUT_NAMES = {"meter": INPUT_METER, "second": INPUT_SECOND}


class SimPin:
    def __init__(self, value=0):
        self._value = value
        self.history = []

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = 1 if v else 0
        self.history.append(self._value)
        return None


class SimUart:
    """machine.UART-shaped; ``responder`` plays the meter."""

    def __init__(self):
        self.rx = bytearray()
        self.written = bytearray()
        self.responder = None
        self.settings = {}

    def init(self, **kwargs):
        self.settings = kwargs

    def inject(self, data):
        self.rx.extend(data)

    def write(self, data):
        self.written.extend(data)
        if self.responder is not None:
            reply = self.responder(bytes(data))
            if reply:
                self.rx.extend(reply)
        return len(data)

    def flush(self):
        pass

    def any(self):
        return len(self.rx)

    def read(self, n=-1):
        if not self.rx:
            return None
        if n < 0 or n > len(self.rx):
            n = len(self.rx)
        out = bytes(self.rx[:n])
        self.rx[:n] = b""
        return out


class SimHal:
    board = "sim"
    # CAP_HW_GATE: injected edges are handled with no interrupt latency (the counter is read
    # at the edge's own instant), which is what the capability promises a clock test.
    caps = (
        CAP_ERROR
        | CAP_PERIOD
        | CAP_WINDOW
        | CAP_RS485
        | CAP_OUTPUTS
        | CAP_TIMEBASE
        | CAP_DEBOUNCE
        | CAP_HW_GATE
    )
    tick_hz = 1000000

    def __init__(self, positions=4, clock=None, streams=None, **_cfg):
        self.positions = positions
        self.clock = clock if clock is not None else SystemClock()
        self._streams = streams
        self._counts = {"ref": 0, "timebase": 0}
        self._captures = {}
        self._channels = {}
        self._uarts = []
        self._rs485 = []
        self._outputs = {}
        self.resets = []
        self.wdt_fed = 0
        read_ref = self._read_ref
        read_tb = self._read_timebase
        for pos in range(positions):
            for name, inp in INPUT_NAMES.items():
                counter = read_ref if name == "meter" else read_tb
                self._captures[(pos, inp)] = EdgeCapture(EdgeRing(64), self.clock.ticks_us, counter)
            uart = SimUart()
            self._uarts.append(uart)
            self._rs485.append(Rs485(uart, SimPin(), self.clock, sleep_ms, self.sleep_us))
            for out in range(OUTPUTS_PER_POSITION):
                self._outputs[(pos, out)] = SimPin()

    # -- injection API ---------------------------------------------------------------------
    def _manual(self):
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise ValueError("timestamps need a ManualClock")
        return clock

    def set_time(self, t_us):
        self._manual().set_us(t_us)

    def count(self, name, n, t_us=None):
        if t_us is not None:
            self._manual().set_us(t_us)
        self._counts[name] += n

    def edge(self, name, position, t_us=None):
        if t_us is not None:
            self._manual().set_us(t_us)
        self._captures[(position, INPUT_NAMES[name])].handler(None)

    def uart(self, position):
        return self._uarts[position]

    def _read_ref(self):
        return self._counts["ref"] % COUNTER_MOD

    def _read_timebase(self):
        return self._counts["timebase"] % COUNTER_MOD

    # -- HAL interface -----------------------------------------------------------------------
    def gate_channel(self, position, kind):
        inp = INPUT_SECOND if kind == FN_PERIOD else INPUT_METER
        key = (position, inp)
        if key not in self._channels:
            self._channels[key] = SoftChannel(self._captures[key], self.clock, COUNTER_MOD)
        return self._channels[key]

    def edge_capture(self, position, inp):
        return self._captures[(position, inp)]

    def rs485(self, position):
        return self._rs485[position]

    def output(self, position, output):
        return self._outputs.get((position, output))

    async def link_streams(self):
        if self._streams is not None:
            return self._streams
        from bench.stdio import open_stdio

        return await open_stdio()

    def wdt(self, timeout_ms):
        """The board's watchdog where the port has one (the fake board's machine module),
        else this object counts feeds (the in-process simulator, tests)."""
        try:
            import machine

            if hasattr(machine, "WDT"):
                return machine.WDT(timeout=timeout_ms)
        except ImportError:
            pass
        return self

    def feed(self):
        self.wdt_fed += 1

    def reset(self, hard):
        """Like a board: the program ends. On the unix port machine.soft_reset() ends the
        process, which the fake board turns into a soft reboot."""
        self.resets.append(hard)
        try:
            import machine

            machine.soft_reset()
        except (ImportError, AttributeError):
            pass
        raise SystemExit(0)

    def mem_free(self):
        try:
            import gc

            return gc.mem_free()
        except (ImportError, AttributeError):
            return 0

    def sleep_us(self, us):
        clock = self.clock
        if isinstance(clock, ManualClock):
            clock.advance_us(us)
