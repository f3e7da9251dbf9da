"""Document rendering: a batch's records, certificates, notices and report, serial against
parallel, in one run.

Takes a results database with a completed run (``meterbench demo`` leaves one: a 24-meter
batch), builds every document of the run once, then writes them all (HTML and PDF) twice:
with one worker (serial, in this process) and with one worker per core. Prints wall seconds
for each, the ratio, and whether both gave the same files byte for byte.

    meterbench demo --out /tmp/demo        # once, if there is no database yet
    python benchmarks/render_documents.py /tmp/demo/results.db [--run RUN_ID] [--workers N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from meterbench.reports import load_context
from meterbench.reports.parallel import default_workers
from meterbench.reports.render import (
    certificate_documents,
    report_documents,
    shared_fonts,
    write_documents,
)
from meterbench.results import ResultsStore


def timed_write(docs: list, out: Path, workers: int) -> tuple[float, list[Path]]:
    start = time.perf_counter()
    paths = write_documents(docs, out, ["html", "pdf"], workers=workers)
    return time.perf_counter() - start, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("db", type=Path, help="results database with a completed run")
    parser.add_argument("--run", help="run id (default: the latest run)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--lang", default="zh")
    args = parser.parse_args()

    with ResultsStore.open(args.db, create=False) as store:
        run_id = args.run or store.list_runs()[-1].run_id
        ctx = load_context(store, run_id, args.lang)
    start = time.perf_counter()
    docs = report_documents(ctx) + certificate_documents(ctx)[0]
    built = time.perf_counter() - start
    print(f"run {run_id}: {len(ctx.meters)} meters, {len(docs)} documents built in {built:.2f} s")
    with tempfile.TemporaryDirectory(prefix="meterbench-render-") as tmp:
        # The font subset is cut once per process and character set, whichever way the
        # documents are then written: cut it before timing either.
        shared_fonts(docs, ["html", "pdf"])
        serial, serial_paths = timed_write(docs, Path(tmp) / "serial", 1)
        parallel, parallel_paths = timed_write(docs, Path(tmp) / "parallel", args.workers)
        same = [p.read_bytes() for p in serial_paths] == [p.read_bytes() for p in parallel_paths]
    files = len(serial_paths)
    print(f"serial (1 worker)       : {serial:6.2f} s wall for {files} files")
    print(f"parallel ({args.workers} workers)    : {parallel:6.2f} s wall for {files} files")
    print(f"ratio serial/parallel   : {serial / parallel:.2f}x   identical files: {same}")


if __name__ == "__main__":
    main()
