"""PIO programs for gated counting on RP2040 / RP2350 (MicroPython rp2 assembler).

Three state machines per position, reading time in back-to-back gates with no gap:

gate     counts rising edges of the gate input (meter pulses, or second pulses) and flips the
         gate pin at the (skip+1)-th edge and then at every N-th edge. Each flip is a boundary:
         the edge that ends one reading starts the next. TX FIFO: skip, N-1, then W.
         Debounce: an edge counts only after the input was low for W+1 loops and then high for
         W+1 loops (a loop is 2 system clocks, jmp_pin = the gate input): a glitch (one 8 ns
         cycle) or a contact bounce shorter than the configured minimum pulse width is not a
         pulse; a dip during the rise waits for the next rise, a rise during the low phase
         qualifies the low level again. W = 0 still rejects a one-cycle glitch. The flip
         follows the edge by a constant 2*W+5 cycles, the same at every boundary, so readings
         are unaffected.
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

Layout (bench.hal.boards): the gate program (29 instructions) fills one PIO block, whose four
state machines serve four positions; counter (16) and clock (10) share another block (26 of
32), two positions per block. RP2040 (2 blocks): 2 positions; RP2350 (3 blocks): 4 positions.
DSL names are injected by the assembler at run time (and ``set`` there is the PIO
instruction, not the builtin, hence the pyright settings below).
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
    mov(isr, osr)  # N - 1, kept in ISR (this program never shifts in or pushes)
    pull(block)  # W, kept in OSR
    wrap_target()
    label("lo")  # gate low
    wait(0, pin, 0)
    mov(y, osr)
    label("lo_low")  # low must last W+1 loops
    jmp(pin, "lo")  # high too soon: a bounce, qualify the low level again
    jmp(y_dec, "lo_low")
    label("lo_rise")  # the low level is qualified: wait for a rise
    wait(1, pin, 0)
    mov(y, osr)
    label("lo_high")  # high must last W+1 loops
    jmp(pin, "lo_h")
    jmp("lo_rise")  # low again too soon: a glitch or a bounce, not yet a pulse
    label("lo_h")
    jmp(y_dec, "lo_high")
    jmp(x_dec, "lo")  # a qualified pulse
    set(pins, 1)
    mov(x, isr)
    label("hi")  # gate high: the same
    wait(0, pin, 0)
    mov(y, osr)
    label("hi_low")
    jmp(pin, "hi")
    jmp(y_dec, "hi_low")
    label("hi_rise")
    wait(1, pin, 0)
    mov(y, osr)
    label("hi_high")
    jmp(pin, "hi_h")
    jmp("hi_rise")
    label("hi_h")
    jmp(y_dec, "hi_high")
    jmp(x_dec, "hi")
    set(pins, 0)
    mov(x, isr)
    wrap()


def width_loops(min_pulse_us, freq):
    """W for the gate program: loops of 2 system clocks beyond the first, so that a level
    must last at least min_pulse_us to count."""
    cycles = min_pulse_us * freq // 1000000
    return max(0, (cycles + 1) // 2 - 1)


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
