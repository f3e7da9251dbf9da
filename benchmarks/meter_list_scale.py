"""Meter-list checking scale: rows per second at 1k, 10k and 40k rows.

Reads and checks generated CSV lists (UTF-8 with BOM, as Excel saves them) the way ``run``
does: ``load_meters`` and the bus-address check against a bench with every position on one
bus. Prints rows/s per size and the 40k/1k ratio of rows/s: about 1 means linear time; a
quadratic check shows as a ratio near 1/40. Not a test (machine speed varies).

    python benchmarks/meter_list_scale.py [--sizes 1000 10000 40000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from meterbench.runner.meters import check_meters_against_bench, load_meters

REPO = Path(__file__).resolve().parents[1]
TYPE = "1p-class2-5-60a"


def write_list(folder: Path, rows: int) -> Path:
    lines = ["position,type,serial,asset,address,customer"]
    lines += [
        f"{p},{TYPE},S{p:07d},A{p:07d},{100000000000 + p},供电公司" for p in range(1, rows + 1)
    ]
    path = folder / f"meters-{rows}.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    return path


def check(path: Path, rows: int) -> float:
    """Seconds to read and check one list."""
    bench = SimpleNamespace(
        positions=[SimpleNamespace(number=p, bus="M1") for p in range(1, rows + 1)]
    )
    start = time.perf_counter()
    meters = load_meters(path)
    check_meters_against_bench(bench, meters, path)
    elapsed = time.perf_counter() - start
    assert len(meters) == rows
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 40_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(REPO / "bench_configs" / "meter_types", folder / "meter_types")
        rates: dict[int, float] = {}
        for rows in args.sizes:
            path = write_list(folder, rows)
            best = min(check(path, rows) for _ in range(args.repeat))
            rates[rows] = rows / best
            print(f"{rows:>7} rows: {best:8.3f} s  {rates[rows]:>10.0f} rows/s")
        first, last = args.sizes[0], args.sizes[-1]
        print(
            f"rows/s at {last} / rows/s at {first}: {rates[last] / rates[first]:.2f} (1 = linear)"
        )


if __name__ == "__main__":
    main()
