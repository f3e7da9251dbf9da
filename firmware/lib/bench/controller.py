"""Measurement functions per position, as the link server asks for them. MicroPython-safe.

Holds which function runs on which position input, starts and stops them on the HAL, and turns
their progress into result events (message type + fields, result_id still missing). Refusals
raise Nak with a reason code; the server turns that into a NAK frame.
"""

from bench.gate import Series
from bench.window import PulseWindow
from meterproto.link.messages import (
    ALL_POSITIONS,
    CAP_DEBOUNCE,
    CAP_ERROR,
    CAP_OUTPUTS,
    CAP_PERIOD,
    CAP_RS485,
    CAP_WINDOW,
    ERR_READING,
    FN_ERROR,
    FN_WINDOW,
    INPUT_METER,
    INPUT_SECOND,
    NAK_BAD_POSITION,
    NAK_BAD_STATE,
    NAK_BAD_VALUE,
    NAK_BUSY,
    NAK_UNSUPPORTED,
    PERIOD_READING,
    WINDOW_END,
    WINDOW_PULSE,
)

MAX_MIN_PULSE_US = 1000000  # longer "debounce" is a configuration mistake, not a filter


class Nak(Exception):
    def __init__(self, reason, detail=0):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


class GateFunction:
    """Error or period measurement on one position: channel boundaries -> reading events."""

    def __init__(self, position, kind, channel, series):
        self.position = position
        self.kind = kind
        self.channel = channel
        self.series = series
        self.done = False
        self._overruns = channel.overruns
        if kind == FN_ERROR:
            self.msg_type, self._pulses, self._count = ERR_READING, "pulses", "ref_count"
        else:
            self.msg_type, self._pulses, self._count = PERIOD_READING, "cycles", "timebase_count"

    def poll(self, now_ms):
        out = []
        snaps = self.channel.poll(now_ms)
        if self.channel.overruns != self._overruns:
            self._overruns = self.channel.overruns
            self.series.mark_overrun()
        for snap in snaps:
            if snap[0] is None:
                # The channel lost step (counted input absent) and restarted: the reading in
                # flight is reported invalid and the next boundary opens a fresh one.
                r = self.series.discontinuity(snap[2])
            else:
                r = self.series.add(snap[0], snap[1], snap[2])
            if r is not None:
                out.append(
                    (
                        self.msg_type,
                        {
                            "position": self.position,
                            "index": r["index"],
                            self._pulses: self.series.pulses,
                            self._count: r["count"],
                            "gate_ticks": r["gate_ticks"],
                            "t_ms": r["t_ms"] & 0xFFFFFFFF,
                            "flags": r["flags"],
                        },
                    )
                )
            if self.series.done:
                self.stop()
                break
        return out

    def stop(self):
        self.channel.stop()
        self.done = True


class WindowFunction:
    def __init__(self, position, inp, capture, window):
        self.position = position
        self.input = inp
        self.capture = capture
        self.window = window
        self.done = False
        capture.enabled = True

    def poll(self, now_ms, stopped=False):
        out = []
        for ev in self.window.poll(stopped):
            if ev[0] == "pulse":
                fields = {"position": self.position, "input": self.input, "n": ev[1], "t_us": ev[2]}
                out.append((WINDOW_PULSE, fields))
            else:
                fields = {
                    "position": self.position,
                    "input": self.input,
                    "count": ev[1],
                    "duration_us": ev[2],
                    "flags": ev[3],
                }
                out.append((WINDOW_END, fields))
        if self.window.done:
            self.capture.enabled = False
            self.done = True
        return out

    def stop(self):
        return self.poll(0, stopped=True)


class Controller:
    def __init__(self, hal, safe=False, min_pulse_us=()):
        self.hal = hal
        self.safe = safe
        # Minimum pulse width (debounce) per position and input, in µs.
        self.min_pulse_us = [[0, 0] for _ in range(hal.positions)]
        for i, v in enumerate(min_pulse_us[: hal.positions]):
            self.min_pulse_us[i][INPUT_METER] = v
        self._active = {}  # (position, fn) -> function object
        self._pending = []  # results from stopped functions, returned by the next poll

    # -- helpers --------------------------------------------------------------------------
    def _check_position(self, position):
        if not 0 <= position < self.hal.positions:
            raise Nak(NAK_BAD_POSITION, position)

    def _require(self, cap):
        if not self.hal.caps & cap:
            raise Nak(NAK_UNSUPPORTED)

    def _check_free(self, position, fn, inp):
        if self.safe:
            raise Nak(NAK_BAD_STATE)
        if (position, fn) in self._active:
            raise Nak(NAK_BUSY, fn)
        for (pos, other), func in self._active.items():
            if pos == position and _input_of(other, func) == inp:
                raise Nak(NAK_BUSY, other)

    def _check_resources(self, position, channel):
        """Two gate functions whose channels share hardware (rp2: one position's state
        machines and gate pin serve both its error and its period function) cannot run at once:
        the second would silently reprogram the first."""
        res = getattr(channel, "resource", None)
        if res is None:
            return
        for (pos, other), func in self._active.items():
            if pos == position and getattr(getattr(func, "channel", None), "resource", 0) == res:
                raise Nak(NAK_BUSY, other)

    def active_mask(self):
        mask = 0
        for pos, _fn in self._active:
            mask |= 1 << pos
        return mask

    def overruns(self):
        total = 0
        for pos in range(self.hal.positions):
            for inp in (INPUT_METER, INPUT_SECOND):
                total += self.hal.edge_capture(pos, inp).ring.overruns
        return total

    # -- functions --------------------------------------------------------------------------
    def gate_start(self, kind, position, pulses, readings, skip):
        self._require(CAP_ERROR if kind == FN_ERROR else CAP_PERIOD)
        self._check_position(position)
        if pulses < 1:
            raise Nak(NAK_BAD_VALUE, 1)
        self._check_free(position, kind, INPUT_METER if kind == FN_ERROR else INPUT_SECOND)
        hal = self.hal
        channel = hal.gate_channel(position, kind)
        self._check_resources(position, channel)
        series = Series(
            pulses,
            readings,
            channel.count_mod,
            channel.tick_mod,
            hal.tick_hz,
            getattr(channel, "max_count_per_tick", None),
        )
        inp = INPUT_METER if kind == FN_ERROR else INPUT_SECOND
        try:
            channel.start(skip, pulses, self.min_pulse_us[position][inp])
        except ValueError:
            raise Nak(NAK_UNSUPPORTED) from None
        self._active[(position, kind)] = GateFunction(position, kind, channel, series)

    def window_start(self, position, inp, duration_ms, max_events):
        self._require(CAP_WINDOW)
        self._check_position(position)
        if inp not in (INPUT_METER, INPUT_SECOND):
            raise Nak(NAK_BAD_VALUE, 1)
        self._check_free(position, FN_WINDOW, inp)
        capture = self.hal.edge_capture(position, inp)
        gap_us = self.min_pulse_us[position][inp]
        window = PulseWindow(self.hal.clock, capture.ring, duration_ms, max_events, gap_us)
        self._active[(position, FN_WINDOW)] = WindowFunction(position, inp, capture, window)

    def stop(self, position, functions):
        if position != ALL_POSITIONS:
            self._check_position(position)
        for key in list(self._active):
            if (position == ALL_POSITIONS or key[0] == position) and key[1] & functions:
                func = self._active.pop(key)
                out = func.stop()
                if out:
                    self._pending.extend(out)

    def input_config(self, position, inp, min_pulse_us):
        """Minimum pulse width for one input of a position (or all, ALL_POSITIONS); takes
        effect at the next start of a function on that input."""
        self._require(CAP_DEBOUNCE)
        if inp not in (INPUT_METER, INPUT_SECOND):
            raise Nak(NAK_BAD_VALUE, 1)
        if min_pulse_us > MAX_MIN_PULSE_US:
            raise Nak(NAK_BAD_VALUE, 2)
        if position == ALL_POSITIONS:
            targets = range(self.hal.positions)
        else:
            self._check_position(position)
            targets = (position,)
        for pos in targets:
            self.min_pulse_us[pos][inp] = min_pulse_us

    def outputs_safe(self):
        """Every output to its safe state (off); returns how many outputs there are."""
        n = 0
        for pos in range(self.hal.positions):
            out = 0
            while True:
                pin = self.hal.output(pos, out)
                if pin is None:
                    break
                pin.value(0)
                n += 1
                out += 1
        return n

    def output_set(self, position, output, state):
        self._require(CAP_OUTPUTS)
        self._check_position(position)
        pin = self.hal.output(position, output)
        if pin is None:
            raise Nak(NAK_BAD_VALUE, 1)
        pin.value(1 if state else 0)

    def _rs485(self, position):
        self._require(CAP_RS485)
        self._check_position(position)
        port = self.hal.rs485(position)
        if port is None:
            raise Nak(NAK_UNSUPPORTED)
        return port

    def rs485_config(self, position, baudrate, bits, parity, stop):
        try:
            self._rs485(position).configure(baudrate, bits, parity, stop)
        except ValueError:
            raise Nak(NAK_BAD_VALUE) from None

    async def rs485_xfer(self, position, framing, timeout_ms, data):
        port = self._rs485(position)
        try:
            status, reply = await port.transact(data, framing, timeout_ms)
        except ValueError:
            raise Nak(NAK_BAD_VALUE, 1) from None
        return {"position": position, "status": status, "data": reply}

    def poll(self, now_ms):
        """Result events produced since the last call."""
        out = self._pending
        self._pending = []
        for key in list(self._active):
            func = self._active[key]
            out.extend(func.poll(now_ms))
            if func.done:
                del self._active[key]
        return out


def _input_of(fn, func):
    if fn == FN_WINDOW:
        return func.input
    return INPUT_METER if fn == FN_ERROR else INPUT_SECOND
