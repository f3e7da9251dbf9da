"""Pieces both board HALs build the same way from a pin map. Touches machine; boards only."""

from machine import UART, Pin

from bench.clock import sleep_ms
from bench.rs485 import Rs485


def make_rs485(spec, clock, sleep_us, echo):
    """Rs485 for a position spec with ``uart`` = (id, tx, rx) and ``de``, or None."""
    if "uart" not in spec:
        return None
    uart_id, tx, rx = spec["uart"]
    uart = UART(uart_id, baudrate=2400, bits=8, parity=0, stop=1, tx=Pin(tx), rx=Pin(rx))
    de = Pin(spec["de"], Pin.OUT, value=0) if spec.get("de") is not None else None
    return Rs485(uart, de, clock, sleep_ms, sleep_us, echo=echo)


def make_outputs(spec):
    return [Pin(n, Pin.OUT, value=0) for n in spec.get("outputs", ())]


async def uart_link(uart_id, baudrate):
    """Host link on a hardware UART (RS-485 or a USB-serial adapter) instead of USB CDC."""
    import asyncio

    uart = UART(uart_id, baudrate=baudrate, timeout=0)
    return asyncio.StreamReader(uart), asyncio.StreamWriter(uart, {})
