"""Cycle-by-cycle runs of the firmware's gate / counter / clock PIO programs with pioemu.

The gate program runs first on the meter signal; its gate pin timeline then drives the two
counter programs (they only read it), which is exactly the coupling on the chip. Inputs follow
pioemu's convention (the emulator has no in_base): the watched input is GPIO 0 and the gate pin
is GPIO 1 (set_base of the gate program, jmp_pin of the counters).
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import pio_asm

pio_asm.install()

import pioemu  # noqa: E402
from bench.hal import rp2_pio  # noqa: E402

MASK32 = 0xFFFFFFFF

GATE = pio_asm.assembled(rp2_pio.gate)
COUNTER = pio_asm.assembled(rp2_pio.counter)
CLOCK = pio_asm.assembled(rp2_pio.clock)


def square(period: int, high: int, phase: int = 0) -> Callable[[int], int]:
    """A periodic 0/1 signal: high for ``high`` of every ``period`` cycles."""
    return lambda c: 1 if (c - phase) % period < high else 0


def rising_edges(signal: Callable[[int], int], cycles: int) -> list[int]:
    return [c for c in range(1, cycles) if signal(c) and not signal(c - 1)]


def run_gate(
    meter: Callable[[int], int], skip: int, pulses: int, cycles: int, width: int = 0
) -> list[int]:
    """Gate pin level per cycle; ``width``: the gate program's W (debounce loops)."""
    prog = GATE
    state = pioemu.State(transmit_fifo=deque([skip, pulses - 1, width]), pin_directions=0b10)
    levels = [-1] * cycles

    def source(clock: int) -> int:
        return meter(clock)

    for _before, after in pioemu.emulate(
        prog.opcodes,
        stop_when=lambda _op, s: s.clock >= cycles - 1,
        initial_state=state,
        input_source=source,
        jmp_pin=0,  # the gate input: debounce checks that it stays at its level
        set_base=1,
        set_count=1,
        wrap_target=prog.wrap_target,
        wrap_top=prog.wrap_top,
    ):
        levels[after.clock] = (after.pin_values >> 1) & 1
    levels[0] = 0
    for c in range(1, cycles):  # a cycle the emulator did not report keeps the last level
        if levels[c] < 0:
            levels[c] = levels[c - 1]
    return levels


@dataclass
class CounterRun:
    snapshots: list[int]  # X values pushed, in order
    cycles: list[int]  # the cycle each was pushed at


def run_counter(
    prog: pio_asm.Program, signal: Callable[[int], int], gate: list[int], cycles: int
) -> CounterRun:
    pushed: list[int] = []
    at: list[int] = []

    def source(clock: int) -> int:
        c = min(clock, cycles - 1)
        return signal(c) | (gate[c] << 1)

    for _before, after in pioemu.emulate(
        prog.opcodes,
        stop_when=lambda _op, s: s.clock >= cycles - 1,
        initial_state=pioemu.State(),
        input_source=source,
        jmp_pin=1,
        wrap_target=prog.wrap_target,
        wrap_top=prog.wrap_top,
    ):
        while after.receive_fifo:
            pushed.append(after.receive_fifo.popleft())
            at.append(after.clock)
    return CounterRun(pushed, at)


def boundaries(gate: list[int]) -> list[int]:
    """Cycles at which the gate pin changed."""
    return [c for c in range(1, len(gate)) if gate[c] != gate[c - 1]]


def readings(snapshots: list[int]) -> list[int]:
    """Per-reading counts from down-counter snapshots (mod 2**32)."""
    return [(a - b) & MASK32 for a, b in zip(snapshots, snapshots[1:], strict=False)]


def measure(
    ref: Callable[[int], int],
    meter: Callable[[int], int],
    pulses: int,
    cycles: int,
    skip: int = 0,
) -> tuple[list[int], list[int], list[int], list[int]]:
    """(gate boundaries, counter readings, clock readings, ideal counts per reading)."""
    gate = run_gate(meter, skip, pulses, cycles)
    flips = boundaries(gate)
    counts = readings(run_counter(COUNTER, ref, gate, cycles).snapshots)
    ticks = readings(run_counter(CLOCK, ref, gate, cycles).snapshots)
    edges = rising_edges(ref, cycles)
    ideal = [sum(1 for e in edges if a < e <= b) for a, b in zip(flips, flips[1:], strict=False)]
    return flips, counts, ticks, ideal
