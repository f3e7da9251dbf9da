"""Document rendering: a batch's records, certificates, notices and report, the baseline
against today's paths, in one run.

Takes a results database with a completed run (``meterbench demo`` leaves one: a 24-meter
batch), builds every document of the run once, then writes them all (HTML and PDF) three
times: the baseline (fpdf2's and fontTools' own paths: line breaking, table dry runs, font
writing; one worker), serial (one worker, in this process) and parallel (one worker per
core). Prints wall and CPU seconds for each, the ratios against the baseline, whether all
three gave the same files byte for byte, and the load average (the machine may be shared).

Then the whole job as ``meterbench report``/``demo`` does it, in a fresh process (imports,
loading the run, building the documents, cutting the font, starting the workers, writing
HTML, PDF, CSV and JSON): wall seconds, median of ``--repeat`` runs, once with an empty font
cache (the first batch on a machine: the font is cut) and once with the cut of an earlier
batch with the same characters in the cache (every later batch).

    meterbench demo --out /tmp/demo        # once, if there is no database yet
    python benchmarks/render_documents.py /tmp/demo/results.db [--run RUN_ID] [--workers N]
        [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from meterbench.reports import load_context
from meterbench.reports.parallel import default_workers
from meterbench.reports.pdf import clear_caches, stock_paths
from meterbench.reports.render import (
    certificate_documents,
    report_documents,
    shared_fonts,
    write_documents,
)
from meterbench.results import ResultsStore


def timed_write(
    docs: list, out: Path, workers: int, stock: bool = False
) -> tuple[float, float, list[Path]]:
    """Wall and CPU seconds (of this process: workers are not its children) and the paths."""
    clear_caches()  # every pass starts cold
    wall, cpu = time.perf_counter(), time.process_time()
    with stock_paths() if stock else nullcontext():
        paths = write_documents(docs, out, ["html", "pdf"], workers=workers)
    return time.perf_counter() - wall, time.process_time() - cpu, paths


END_TO_END = """
import sys, time
from pathlib import Path
from meterbench.reports import render_run
from meterbench.results import ResultsStore
if __name__ == "__main__":
    start = time.perf_counter()
    with ResultsStore.open(sys.argv[1], create=False) as store:
        render_run(store, sys.argv[2], Path(sys.argv[3]), lang="zh")
    print(time.perf_counter() - start)
"""


def end_to_end(db: Path, run_id: str, out: Path, cache: Path) -> float:
    """Wall seconds of `render_run` in a fresh process, imports included."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", END_TO_END, str(db), run_id, str(out)],
        check=True,
        capture_output=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
    )
    return time.perf_counter() - start


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("db", type=Path, help="results database with a completed run")
    parser.add_argument("--run", help="run id (default: the latest run)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--lang", default="zh")
    parser.add_argument("--repeat", type=int, default=3, help="end-to-end runs")
    args = parser.parse_args()

    with ResultsStore.open(args.db, create=False) as store:
        run_id = args.run or store.list_runs()[-1].run_id
        ctx = load_context(store, run_id, args.lang)
    start = time.perf_counter()
    docs = report_documents(ctx) + certificate_documents(ctx)[0]
    built = time.perf_counter() - start
    print(f"run {run_id}: {len(ctx.meters)} meters, {len(docs)} documents built in {built:.2f} s")
    print(f"load average before: {load()}  ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="meterbench-render-") as tmp:
        # The font subset is cut once per process and character set, whichever way the
        # documents are then written: cut it before timing any pass.
        shared_fonts(docs, ["html", "pdf"])
        base, base_cpu, base_paths = timed_write(docs, Path(tmp) / "baseline", 1, stock=True)
        serial, serial_cpu, serial_paths = timed_write(docs, Path(tmp) / "serial", 1)
        parallel, _, parallel_paths = timed_write(docs, Path(tmp) / "parallel", args.workers)
        files = [[p.read_bytes() for p in paths] for paths in (serial_paths, parallel_paths)]
        same = all(f == [p.read_bytes() for p in base_paths] for f in files)
        runs = range(args.repeat)
        cold = [
            end_to_end(args.db, run_id, Path(tmp) / f"c{n}", Path(tmp) / f"cache{n}") for n in runs
        ]
        warm = [
            end_to_end(args.db, run_id, Path(tmp) / f"w{n}", Path(tmp) / "cache0") for n in runs
        ]
    count = len(base_paths)
    print(f"load average after : {load()}")
    print(f"baseline (stock fpdf2+fontTools, 1 worker): {base:6.2f} s wall {base_cpu:6.2f} s CPU")
    print(f"serial   (1 worker)                     : {serial:6.2f} s wall {serial_cpu:6.2f} s CPU")
    print(f"parallel ({args.workers} workers)                    : {parallel:6.2f} s wall")
    print(f"{count} files each; identical files in all three: {same}")
    print(f"ratio baseline/serial  : {base / serial:.2f}x wall, {base_cpu / serial_cpu:.2f}x CPU")
    print(f"ratio baseline/parallel: {base / parallel:.2f}x wall")
    print(f"whole job in a fresh process (zh html+pdf+csv+json, {args.workers} workers):")
    for name, walls in (("font cut (empty cache)", cold), ("font cut cached", warm)):
        listed = ", ".join(f"{w:.2f}" for w in walls)
        print(f"  {name:24}: median {statistics.median(walls):.2f} s wall of {listed}")


if __name__ == "__main__":
    main()
