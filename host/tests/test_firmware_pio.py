"""The rp2 PIO programs, cycle by cycle in rp2040-pio-emulator.

Given edge trains, the gated counts must be exact up to the inherent +-1 reference count per
reading, readings must tile time with no gap (totals within +-1 over many readings), at every
reference rate up to the documented maximum (f_sys / MAX_REF_DIVISOR with phases of at least
MIN_PHASE_CYCLES); and the same check must fail for a signal faster than the programs can
follow, so it can tell a working program from a broken one.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "firmware" / "lib"), str(Path(__file__).parent)]

import pio_bench as pb  # noqa: E402
from bench.hal import rp2_pio  # noqa: E402

METER = pb.square(257, 120, 11)  # a meter pulse every 257 cycles (scaled down in time)


def test_programs_fit_their_pio_blocks() -> None:
    # The layout of bench.hal.boards: the gate alone in one block, counter and clock together.
    assert len(pb.GATE.opcodes) <= 32
    assert len(pb.COUNTER.opcodes) + len(pb.CLOCK.opcodes) <= 32


def test_assembler_encodings() -> None:
    # Spot checks against the RP2040 datasheet encodings.
    gate = pb.GATE.opcodes
    assert gate[0] == 0x80A0  # pull block
    assert gate[1] == 0xA027  # mov x, osr
    assert gate[3] == 0xA0C7  # mov isr, osr
    assert gate[5:7] == [0x2020, 0xA047]  # wait 0 pin 0; mov y, osr
    assert gate[7] == 0x00C5  # jmp pin 5
    assert 0xE001 in gate and 0xE000 in gate  # set pins, 1 / 0
    assert pb.COUNTER.opcodes[5:7] == [0xA0C1, 0x8000]  # mov isr, x; push noblock
    assert pb.COUNTER.opcodes[2] == 0x00C5  # jmp pin 5


@pytest.mark.parametrize(("skip", "pulses"), [(0, 1), (1, 2), (2, 3)])
def test_gate_flips_at_skip_plus_one_then_every_n(skip: int, pulses: int) -> None:
    cycles = 257 * (skip + 3 * pulses + 2)
    flips = pb.boundaries(pb.run_gate(METER, skip, pulses, cycles))
    edges = pb.rising_edges(METER, cycles)
    expected = edges[skip::pulses][: len(flips)]
    assert len(flips) >= 3
    latency = {f - e for f, e in zip(flips, expected, strict=True)}
    assert len(latency) == 1 and latency.pop() <= 6  # same small delay at every boundary


def _check_exact(ref_period: int, high: int, phase: int, pulses: int = 1) -> bool:
    cycles = 257 * (pulses * 8 + 1)
    flips, counts, ticks, ideal = pb.measure(
        pb.square(ref_period, high, phase), METER, pulses, cycles
    )
    assert len(ideal) >= 6
    ok = len(counts) >= len(ideal) and all(
        abs(c - i) <= 1 for c, i in zip(counts, ideal, strict=False)
    )
    n = len(ideal)
    return ok and abs(sum(counts[:n]) - sum(ideal)) <= 1


@pytest.mark.parametrize(
    ("high", "phase"),
    [
        (rp2_pio.MIN_PHASE_CYCLES, 0),
        (rp2_pio.MAX_REF_DIVISOR // 2, 3),
        (rp2_pio.MAX_REF_DIVISOR - rp2_pio.MIN_PHASE_CYCLES, 7),
    ],
)
def test_counts_exact_at_documented_maximum_rate(high: int, phase: int) -> None:
    assert _check_exact(rp2_pio.MAX_REF_DIVISOR, high, phase)


@pytest.mark.parametrize("ref_period", [13, 29, 64])
def test_counts_exact_at_lower_rates(ref_period: int) -> None:
    assert _check_exact(ref_period, ref_period // 2, 1, pulses=2)


def test_counts_go_wrong_above_what_the_program_can_follow() -> None:
    assert not _check_exact(4, 2, 0)


def test_clock_counts_gate_length_in_half_cycles() -> None:
    cycles = 257 * 9
    flips, _counts, ticks, _ideal = pb.measure(pb.square(20, 10), METER, 1, cycles)
    gates = [b - a for a, b in zip(flips, flips[1:], strict=False)]
    assert len(ticks) >= len(gates) >= 6
    for t, g in zip(ticks, gates, strict=False):
        assert abs(2 * t - g) <= 4  # 2 cycles per tick, +-2 ticks at the boundary


def test_error_from_pio_counts() -> None:
    # Meter period 257 cycles, reference period 13 cycles, N = 4: a perfect meter would give
    # N * 257 / 13 = 79.08 counts per reading; the error is recovered within +-1 count.
    cycles = 257 * 30
    _f, counts, _t, _i = pb.measure(pb.square(13, 6), METER, 4, cycles)
    expected = 4 * 257 / 13
    assert counts and all(abs(c - expected) <= 1 for c in counts)
    assert abs(sum(counts) / len(counts) - expected) < 1 / len(counts) + 1e-9


# -- debounce: minimum pulse width in the gate program ----------------------------------------


def _with_glitches(
    base: pb.Callable[[int], int], at: list[int], width: int = 1
) -> pb.Callable[[int], int]:
    """``base`` plus one-cycle (or ``width``-cycle) high glitches at the given cycles."""
    return lambda c: 1 if base(c) or any(a <= c < a + width for a in at) else 0


def _with_bounce(period: int, high: int, phase: int, bounce: int) -> pb.Callable[[int], int]:
    """A meter signal whose every rising edge is a contact bounce: high for ``bounce`` cycles,
    then low for ``bounce`` cycles, before the level settles high for ``high`` cycles."""

    def signal(c: int) -> int:
        k = (c - phase) % period
        if k < 2 * bounce:
            return 1 if k < bounce else 0
        return 1 if k < 2 * bounce + high else 0

    return signal


def _flips(signal: pb.Callable[[int], int], cycles: int, width: int = 0) -> list[int]:
    return pb.boundaries(pb.run_gate(signal, 0, 1, cycles, width))


def test_an_8_ns_glitch_is_not_a_pulse() -> None:
    cycles = 257 * 6
    clean = _flips(METER, cycles)
    # One-cycle glitches (8 ns at 125 MHz) in the low phase of the meter signal.
    glitchy = _with_glitches(METER, [257 * k + 200 for k in range(5)])
    assert len(clean) >= 4
    assert _flips(glitchy, cycles) == clean  # W = 0 already rejects them
    debounced = _flips(METER, cycles, width=3)
    assert _flips(glitchy, cycles, width=3) == debounced
    assert debounced[-3:] == [f + 6 for f in clean[-3:]]  # the flip comes 2 cycles per loop later


def test_bounce_below_the_width_is_rejected_and_above_it_counted() -> None:
    cycles = 400 * 7
    clean = pb.square(400, 150, 20)
    bouncy = _with_bounce(400, 150, 20, 12)  # 12 cycles high, 12 low, then high
    n_clean = len(_flips(clean, cycles, width=8))
    assert n_clean >= 5
    # W = 8: a level must last 2 * 9 = 18 cycles, the 12-cycle bounce does not count.
    assert len(_flips(bouncy, cycles, width=8)) == n_clean
    # Without debounce each bounce is an extra pulse: with N = 1 the gate flips twice as often.
    assert len(_flips(bouncy, cycles, width=0)) >= 2 * n_clean - 1


def test_width_from_microseconds() -> None:
    assert rp2_pio.width_loops(0, 125_000_000) == 0
    # 1 ms at 125 MHz = 125 000 cycles = 62 500 loops of 2 cycles: W = 62 499.
    assert rp2_pio.width_loops(1000, 125_000_000) == 62_499
    assert rp2_pio.width_loops(1, 150_000_000) == 74  # RP2350 at 150 MHz


def test_counts_exact_with_debounce_on() -> None:
    cycles = 257 * 9
    gate = pb.run_gate(METER, 0, 1, cycles, width=20)
    flips = pb.boundaries(gate)
    ref = pb.square(13, 6)
    counts = pb.readings(pb.run_counter(pb.COUNTER, ref, gate, cycles).snapshots)
    edges = pb.rising_edges(ref, cycles)
    ideal = [sum(1 for e in edges if a < e <= b) for a, b in zip(flips, flips[1:], strict=False)]
    assert len(ideal) >= 6
    assert all(abs(c - i) <= 1 for c, i in zip(counts, ideal, strict=False))


# -- reference absent --------------------------------------------------------------------------


def test_reference_absent_for_a_reading_puts_the_raw_counter_out_of_step() -> None:
    """Why the HAL watches for it: with no reference edge for a whole reading the counter
    misses two gate flips, so it pushes fewer snapshots than the clock does and pairing them
    in order would merge readings (bench.hal.rp2.Rp2Channel detects this)."""
    cycles = 257 * 10
    gate = pb.run_gate(METER, 0, 1, cycles)
    flips = pb.boundaries(gate)
    present = pb.square(13, 6)

    def absent(c: int) -> int:
        return 0 if flips[2] - 5 <= c <= flips[4] + 5 else present(c)

    count = pb.run_counter(pb.COUNTER, absent, gate, cycles)
    clock = pb.run_counter(pb.CLOCK, absent, gate, cycles)
    assert len(clock.snapshots) >= len(flips) - 1
    assert len(count.snapshots) == len(clock.snapshots) - 2
