"""ESP32 HAL: PCNT units count the reference and the time base; the meter and second-pulse IRQs
snapshot them (software gating, bench.softchannel).

ESP32 pin IRQs are soft (scheduled), so a gate edge is stamped tens of µs to ms late and the
counter read late by the same amount: fine for windows and coarse checks, not for class 0.2
error measurement or clock tests (the host refuses a clock test without CAP_HW_GATE). Use an
rp2 board for precise gating.

Counting limit (enforced, see bench.widecount): the 16-bit PCNT is extended in the service
loop, so the counted inputs may run at most ``count_max_hz`` (config, default 200 kHz: a VM
stall of up to 120 ms is then harmless). A faster input (a 10 MHz time base), or a longer
stall, flags the readings it touches (RF_OVERRUN) instead of losing 32 000 counts silently.

ESP32-C3/C2 have no PCNT: the build refuses them (meterbench firmware build --arch).
"""

import esp32
import machine
from machine import Pin

from bench.clock import SystemClock, sleep_us
from bench.edges import EdgeCapture, EdgeRing
from bench.hal.boards import BOARDS
from bench.hal.common import make_outputs, make_rs485, uart_link
from bench.softchannel import SoftChannel
from bench.widecount import WideCount
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

PCNT_LIMIT = 32000  # the unit counts 0 .. PCNT_LIMIT - 1 and wraps to 0
DEFAULT_COUNT_MAX_HZ = 200000


class PcntInput:
    """One PCNT unit counting rising edges of a pin, extended by WideCount."""

    def __init__(self, unit, pin, clock, max_hz):
        self.pcnt = esp32.PCNT(
            unit,
            channel=0,
            pin=pin,
            rising=esp32.PCNT.INCREMENT,
            falling=esp32.PCNT.IGNORE,
            max=PCNT_LIMIT,
        )
        self.pcnt.value(0)
        self.pcnt.start()
        self.wide = WideCount(self.pcnt.value, PCNT_LIMIT, clock, max_hz)
        self.value = self.wide.value  # bound once: read from the edge IRQ


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
        count_max_hz=DEFAULT_COUNT_MAX_HZ,
        **_cfg,
    ):
        spec = BOARDS[board_name]
        self.board = board_name
        self.clock = SystemClock()
        pos_specs = spec["positions"][: positions or len(spec["positions"])]
        self.positions = len(pos_specs)
        self._link = (link, spec.get("link", {}).get("uart"), link_baudrate)
        ref = PcntInput(0, Pin(spec["ref"], Pin.IN), self.clock, count_max_hz)
        timebase = PcntInput(1, Pin(spec["timebase"], Pin.IN), self.clock, count_max_hz)
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
                self._channels[(pos, inp)] = SoftChannel(cap, self.clock, None, counter.wide)
            self._rs485.append(make_rs485(p, self.clock, sleep_us, rs485_echo))
            self._outputs.append(make_outputs(p))

    def service(self, now_ms):
        """Every service pass: fold the PCNT progress in (see bench.widecount)."""
        for counter in self._counters:
            counter.wide.update()

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
