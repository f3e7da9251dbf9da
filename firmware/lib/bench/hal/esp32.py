"""ESP32 HAL: PCNT counters (machine.Counter) count the reference and time base; the meter and
second-pulse IRQs snapshot them (software gating, bench.softchannel).

ESP32 pin IRQs are soft (scheduled), so a gate edge is stamped tens of µs to ms late and the
counter read late by the same amount: fine for windows and coarse checks, not for class 0.2
error measurement. No CAP_HW_GATE; use an rp2 board for precise gating.
"""

import machine
from machine import Counter, Pin

from bench.clock import SystemClock, sleep_us
from bench.edges import EdgeCapture, EdgeRing
from bench.hal.boards import BOARDS
from bench.hal.common import make_outputs, make_rs485, uart_link
from bench.softchannel import SoftChannel
from meterproto.link.messages import (
    CAP_DEBOUNCE,
    CAP_ERROR,
    CAP_OUTPUTS,
    CAP_PERIOD,
    CAP_RS485,
    CAP_TIMEBASE,
    CAP_WINDOW,
    FN_PERIOD,
    INPUT_METER,
    INPUT_SECOND,
)


class Esp32Hal:
    caps = (
        CAP_ERROR | CAP_PERIOD | CAP_WINDOW | CAP_RS485 | CAP_OUTPUTS | CAP_TIMEBASE | CAP_DEBOUNCE
    )
    tick_hz = 1000000

    def __init__(
        self,
        board_name="esp32-devkit",
        link="usb",
        link_baudrate=115200,
        positions=None,
        rs485_echo=False,
        **_cfg,
    ):
        spec = BOARDS[board_name]
        self.board = board_name
        self.clock = SystemClock()
        pos_specs = spec["positions"][: positions or len(spec["positions"])]
        self.positions = len(pos_specs)
        self._link = (link, spec.get("link", {}).get("uart"), link_baudrate)
        ref = Counter(0, src=Pin(spec["ref"], Pin.IN), edge=Counter.RISING)
        timebase = Counter(1, src=Pin(spec["timebase"], Pin.IN), edge=Counter.RISING)
        self._counters = (ref, timebase)
        self._captures = {}
        self._channels = {}
        self._rs485 = []
        self._outputs = []
        for pos, p in enumerate(pos_specs):
            for inp, name, counter in (
                (INPUT_METER, "meter", ref),
                (INPUT_SECOND, "second", timebase),
            ):
                cap = EdgeCapture(EdgeRing(64), self.clock.ticks_us, counter.value)
                Pin(p[name], Pin.IN).irq(handler=cap.handler, trigger=Pin.IRQ_RISING)
                self._captures[(pos, inp)] = cap
                self._channels[(pos, inp)] = SoftChannel(cap, self.clock, 1 << 32)
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
        return machine.WDT(timeout=timeout_ms)

    def reset(self, hard):
        if hard:
            machine.reset()
        machine.soft_reset()

    def mem_free(self):
        import gc

        return gc.mem_free()

    def sleep_us(self, us):
        sleep_us(us)
