"""Maximum reference rate of the rp2 gated counter, measured cycle by cycle in pioemu.

For each reference period P (in system clocks) and several duty cycles and phases, runs the
gate/counter programs and checks that every reading is within +-1 of the ideal count and the
total over all readings within +-1 (no gap). Prints the smallest P that passes for every duty
cycle with phases of at least MIN_PHASE_CYCLES, and the documented limit for comparison.

Run: .venv/bin/python benchmarks/pio_max_rate.py   (about half a minute)
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "host" / "tests"), str(ROOT / "firmware" / "lib")]

import pio_bench as pb  # noqa: E402
from bench.hal import rp2_pio  # noqa: E402


def exact(period: int, high: int, phase: int) -> bool:
    meter = pb.square(257, 120, 11)
    flips, counts, _ticks, ideal = pb.measure(pb.square(period, high, phase), meter, 1, 257 * 9)
    n = len(ideal)
    return (
        len(counts) >= n
        and all(abs(c - i) <= 1 for c, i in zip(counts, ideal, strict=False))
        and abs(sum(counts[:n]) - sum(ideal)) <= 1
    )


def main() -> None:
    lo = rp2_pio.MIN_PHASE_CYCLES
    smallest = None
    for period in range(16, 3, -1):
        highs = sorted({h for h in (lo, period // 2, period - lo) if lo <= h <= period - lo})
        if not highs:
            highs = [period // 2]
        ok = all(exact(period, h, ph) for h in highs for ph in (0, 1, 2, 5))
        print(f"period {period:2d} cycles, high {highs}: {'exact' if ok else 'WRONG'}")
        if ok:
            smallest = period
    f_sys = 125_000_000
    print(f"smallest exact period: {smallest} cycles = {f_sys / smallest / 1e6:.1f} MHz at 125 MHz")
    print(
        f"documented maximum: f_sys/{rp2_pio.MAX_REF_DIVISOR} = "
        f"{f_sys / rp2_pio.MAX_REF_DIVISOR / 1e6:.1f} MHz at 125 MHz "
        f"(each phase >= {rp2_pio.MIN_PHASE_CYCLES} cycles)"
    )


if __name__ == "__main__":
    main()
