"""PIO programs for gated counting on RP2040 / RP2350 (MicroPython rp2 assembler).

Three state machines per position, reading time in back-to-back gates with no gap:

gate     counts rising edges of the gate input (meter pulses, or second pulses) and flips the
         gate pin at the (skip+1)-th edge and then at every N-th edge. Each flip is a boundary:
         the edge that ends one reading starts the next. TX FIFO: skip, then N-1.
counter  counts rising edges of the counted input (reference pulses, or the time base) in X,
         decrementing from wherever X is, and pushes X (without resetting it) at the first edge
         after each gate flip. jmp_pin = gate pin. Reading k's count = X[k] - X[k+1] mod 2**32.
clock    decrements X every 2 system clocks and pushes X at each gate flip: gate length in
         ticks of f_sys/2 (RP2040 at 125 MHz: 16 ns, 32-bit wrap every 68.7 s; the firmware
         unwraps longer gates with its millisecond uptime).

An edge is attributed to the gate phase the counter sees when it samples the gate pin right
after that edge, so every edge lands in exactly one reading: the sum over readings telescopes.
Resolution is the inherent +-1 count per reading.

MAX_REF_DIVISOR: the counter needs at least that many system clocks per counted-input period
(and 3 for each of its high and low phases); at 125 MHz that is 125e6 / 10 = 12.5 MHz. The
emulator tests (host/tests/test_firmware_pio.py) verify exact counts at that rate and show
counts going wrong when the signal is faster than the boundary path can follow.

Layout: gate (14) and counter (16) share one PIO block (30 of 32 instructions); the clock
counter (10) sits in another block. DSL names are injected by the assembler at run time (and
``set`` there is the PIO instruction, not the builtin, hence the pyright settings below).
"""
# pyright: reportUndefinedVariable=false, reportCallIssue=false
# ruff: noqa: F821

import rp2

MAX_REF_DIVISOR = 10
MIN_PHASE_CYCLES = 3


@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def gate():
    pull(block)
    mov(x, osr)  # skip: the first flip comes at edge skip+1
    pull(block)
    mov(y, osr)  # N - 1
    wrap_target()
    label("lo")
    wait(0, pin, 0)
    wait(1, pin, 0)
    jmp(x_dec, "lo")
    set(pins, 1)
    mov(x, y)
    label("hi")
    wait(0, pin, 0)
    wait(1, pin, 0)
    jmp(x_dec, "hi")
    set(pins, 0)
    mov(x, y)
    wrap()


@rp2.asm_pio(fifo_join=rp2.PIO.JOIN_RX)
def counter():
    wrap_target()
    label("ph0")  # gate low
    wait(0, pin, 0)
    wait(1, pin, 0)
    jmp(pin, "b01")
    jmp(x_dec, "ph0")
    jmp("ph0")  # X wrapped through zero
    label("b01")  # gate went high: snapshot, count this edge in the new reading
    mov(isr, x)
    push(noblock)
    jmp(x_dec, "ph1")
    label("ph1")  # gate high
    wait(0, pin, 0)
    wait(1, pin, 0)
    jmp(pin, "c1")
    mov(isr, x)  # gate went low: snapshot
    push(noblock)
    jmp(x_dec, "ph0")
    wrap()
    label("c1")
    jmp(x_dec, "ph1")
    jmp("ph1")


@rp2.asm_pio(fifo_join=rp2.PIO.JOIN_RX)
def clock():
    wrap_target()
    label("ph0")
    jmp(pin, "b01")
    jmp(x_dec, "ph0")
    jmp("ph0")
    label("b01")
    mov(isr, x)
    push(noblock)
    label("ph1")
    jmp(pin, "c1")
    mov(isr, x)
    push(noblock)
    wrap()
    label("c1")
    jmp(x_dec, "ph1")
    jmp("ph1")
