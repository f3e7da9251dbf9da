"""Bench-controller firmware: board-independent logic. Never imports machine, rp2 or esp32;
clocks, pins, counters and UARTs come from a HAL (bench.hal.*) and are passed in. The version
lives in bench.buildinfo (rewritten by ``meterbench firmware build``)."""
