"""RP2040 / RP2350 HAL: PIO state machines gate and count; Pin IRQs stamp window pulses.

Exact gating in hardware (CAP_HW_GATE): see bench.hal.rp2_pio for the programs and the maximum
reference rate. The CPU only drains the joined 8-word RX FIFOs from the service loop every few
ms; boundaries come at most at the meter pulse rate divided by N, so the FIFOs never fill in
practice, and a full FIFO is counted as an overrun (the reading is flagged, not trusted).
"""

import machine
import rp2
from machine import Pin

from bench.clock import SystemClock, sleep_us
from bench.edges import EdgeCapture, EdgeRing
from bench.hal import rp2_pio
from bench.hal.boards import BOARDS
from bench.hal.common import make_outputs, make_rs485, uart_link
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

MASK32 = 0xFFFFFFFF
FIFO_DEPTH = 8


class Rp2Channel:
    """One position's gate, counter and clock state machines for one gate/counted input pair.

    Both channels of a position (error: meter gates reference; period: second pulses gate the
    time base) use the same state machines and gate pin: ``resource`` says so, and the
    controller refuses to run them at once.

    Counted input absent: the counter program only looks at the gate pin when a counted edge
    arrives, so with no edges for a whole reading it misses two gate flips and every later
    reading would pair the wrong snapshots. The clock program pushes at every flip regardless;
    a clock snapshot left without its counter snapshot for ``ref_timeout_ms`` therefore means
    the counted input is absent: the channel restarts its state machines and reports a
    discontinuity (the reading in flight becomes RF_INVALID), never a merged reading.
    """

    count_mod = 1 << 32
    tick_mod = 1 << 32
    # At most one counted edge per MAX_REF_DIVISOR clocks, a tick is 2 clocks.
    max_count_per_tick = (2, rp2_pio.MAX_REF_DIVISOR)

    def __init__(self, sm_ids, gate_input, counted_input, gate_pin, freq, ref_timeout_ms=100):
        self.sm_ids = sm_ids
        self.resource = tuple(sm_ids)
        self.gate_input = gate_input
        self.counted_input = counted_input
        self.gate_pin = gate_pin
        self.freq = freq
        self.ref_timeout_ms = ref_timeout_ms
        self.overruns = 0
        self.restarts = 0
        self._sms = None
        self._params = (0, 1, 0)
        self._counts = []
        self._ticks = []

    def start(self, skip, pulses, min_pulse_us=0):
        self.stop()
        self._params = (skip, pulses, min_pulse_us)
        g, c, k = self.sm_ids
        gate = rp2.StateMachine(
            g,
            rp2_pio.gate,
            freq=self.freq,
            in_base=self.gate_input,
            jmp_pin=self.gate_input,
            set_base=self.gate_pin,
        )
        count = rp2.StateMachine(
            c, rp2_pio.counter, freq=self.freq, in_base=self.counted_input, jmp_pin=self.gate_pin
        )
        clock = rp2.StateMachine(k, rp2_pio.clock, freq=self.freq, jmp_pin=self.gate_pin)
        self._counts = []
        self._ticks = []
        count.active(1)
        clock.active(1)
        gate.put(skip)
        gate.put(pulses - 1)
        gate.put(rp2_pio.width_loops(min_pulse_us, self.freq))
        gate.active(1)
        self._sms = (gate, count, clock)

    def _drain(self, sm, out, coarse_ms):
        n = sm.rx_fifo()
        if n >= FIFO_DEPTH:
            self.overruns += 1
        for _ in range(n):
            x = sm.get()
            out.append((-x) & MASK32 if coarse_ms is None else ((-x) & MASK32, coarse_ms))

    def poll(self, coarse_ms):
        """Boundary snapshots; ``(None, None, coarse_ms)`` marks a restart (see the class)."""
        if self._sms is None:
            return []
        _gate, count, clock = self._sms
        self._drain(count, self._counts, None)
        self._drain(clock, self._ticks, coarse_ms)
        out = []
        while self._counts and self._ticks:
            ticks, ms = self._ticks.pop(0)
            out.append((self._counts.pop(0), ticks, ms))
        if self._ticks and coarse_ms - self._ticks[0][1] >= self.ref_timeout_ms:
            self.restarts += 1
            skip, pulses, width = self._params
            self.start(0, pulses, width)  # the next boundary opens a fresh reading
            out.append((None, None, coarse_ms))
        return out

    def stop(self):
        if self._sms is not None:
            for sm in self._sms:
                sm.active(0)
            self._sms = None


class Rp2Hal:
    caps = (
        CAP_ERROR
        | CAP_PERIOD
        | CAP_WINDOW
        | CAP_RS485
        | CAP_OUTPUTS
        | CAP_HW_GATE
        | CAP_TIMEBASE
        | CAP_DEBOUNCE
    )

    def __init__(
        self,
        board_name="rp2-pico",
        link="usb",
        link_baudrate=115200,
        positions=None,
        rs485_echo=False,
        **_cfg,
    ):
        spec = BOARDS[board_name]
        self.board = board_name
        self.clock = SystemClock()
        freq = machine.freq()
        self.tick_hz = freq // 2
        pos_specs = spec["positions"][: positions or len(spec["positions"])]
        self.positions = len(pos_specs)
        self._link = (link, spec.get("link", {}).get("uart"), link_baudrate)
        ref = Pin(spec["ref"], Pin.IN)
        timebase = Pin(spec["timebase"], Pin.IN)
        self._channels = {}
        self._captures = {}
        self._rs485 = []
        self._outputs = []
        for pos, p in enumerate(pos_specs):
            meter = Pin(p["meter"], Pin.IN)
            second = Pin(p["second"], Pin.IN)
            gate_pin = Pin(p["gate"], Pin.OUT, value=0)
            self._channels[(pos, INPUT_METER)] = Rp2Channel(p["sm"], meter, ref, gate_pin, freq)
            self._channels[(pos, INPUT_SECOND)] = Rp2Channel(
                p["sm"], second, timebase, gate_pin, freq
            )
            for inp, pin in ((INPUT_METER, meter), (INPUT_SECOND, second)):
                cap = EdgeCapture(EdgeRing(64), self.clock.ticks_us)
                pin.irq(handler=cap.handler, trigger=Pin.IRQ_RISING, hard=True)
                self._captures[(pos, inp)] = cap
            self._rs485.append(make_rs485(p, self.clock, sleep_us, rs485_echo))
            self._outputs.append(make_outputs(p))

    def gate_channel(self, position, kind):
        return self._channels[(position, INPUT_SECOND if kind == FN_PERIOD else INPUT_METER)]

    def edge_capture(self, position, inp):
        return self._captures[(position, inp)]

    def rs485(self, position):
        return self._rs485[position]

    def output(self, position, output):
        outs = self._outputs[position]
        return outs[output] if output < len(outs) else None

    async def link_streams(self):
        kind, uart_id, baud = self._link
        if kind == "uart" and uart_id is not None:
            return await uart_link(uart_id, baud)
        from bench.stdio import open_stdio

        return await open_stdio()

    def wdt(self, timeout_ms):
        return machine.WDT(timeout=min(timeout_ms, 8388))

    def reset(self, hard):
        if hard:
            machine.reset()
        machine.soft_reset()

    def mem_free(self):
        import gc

        return gc.mem_free()

    def sleep_us(self, us):
        sleep_us(us)
