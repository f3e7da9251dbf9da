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
    assert len(rp2_pio.gate.opcodes) + len(rp2_pio.counter.opcodes) <= 32
    assert len(rp2_pio.clock.opcodes) <= 32


def test_assembler_encodings() -> None:
    # Spot checks against the RP2040 datasheet encodings.
    gate = rp2_pio.gate.opcodes
    assert gate[0] == 0x80A0  # pull block
    assert gate[1] == 0xA027  # mov x, osr
    assert gate[4:7] == [0x2020, 0x20A0, 0x0044]  # wait 0 pin 0; wait 1 pin 0; jmp x-- 4
    assert gate[7] == 0xE001  # set pins, 1
    assert rp2_pio.counter.opcodes[5:7] == [0xA0C1, 0x8000]  # mov isr, x; push noblock
    assert rp2_pio.counter.opcodes[2] == 0x00C5  # jmp pin 5


@pytest.mark.parametrize(("skip", "pulses"), [(0, 1), (1, 2), (2, 3)])
def test_gate_flips_at_skip_plus_one_then_every_n(skip: int, pulses: int) -> None:
    cycles = 257 * (skip + 3 * pulses + 2)
    flips = pb.boundaries(pb.run_gate(METER, skip, pulses, cycles))
    edges = pb.rising_edges(METER, cycles)
    expected = edges[skip::pulses][: len(flips)]
    assert len(flips) >= 3
    latency = {f - e for f, e in zip(flips, expected, strict=True)}
    assert len(latency) == 1 and latency.pop() <= 4  # same small delay at every boundary


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
