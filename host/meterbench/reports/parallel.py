"""Rendering many documents on every core: one job per document and format.

A batch of 24 meters is ~150 documents; each PDF costs fpdf2 a fraction of a second (layout,
its own glyph subset), all independent of each other. Workers are separate processes started
with ``forkserver`` (a clean process that imported the renderers once, so no thread or lock of
the caller is copied). A file's bytes depend only on its document and the shared font, so the
results are the same as rendering one after another, which is what one worker, or a handful
of jobs, does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from meterbench.reports.document import Document
from meterbench.reports.fonts import PdfFonts

# Fewer jobs than this are rendered in this process: starting workers would cost more.
PARALLEL_FROM = 8
PRELOAD = ["meterbench.reports.parallel", "meterbench.reports.pdf", "meterbench.reports.html"]


@dataclass(frozen=True, slots=True)
class Job:
    doc: Document
    fmt: str  # "html" or "pdf"


def render_job(job: Job, fonts: PdfFonts | None, font_css: str | None) -> bytes:
    """One file's bytes."""
    if job.fmt == "pdf":
        from meterbench.reports.pdf import render_pdf

        return render_pdf(job.doc, fonts)
    from meterbench.reports.html import render_html

    return render_html(job.doc, font_css).encode("utf-8")


def _render_chunk(jobs: Sequence[Job], fonts: PdfFonts | None, font_css: str | None) -> list[bytes]:
    return [render_job(job, fonts, font_css) for job in jobs]


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def render_pool(jobs: int, workers: int | None = None) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for ``jobs`` jobs, started at once: they start (a process, the
    renderers' imports) while the caller still cuts the font. None: render in this process."""
    workers = default_workers() if workers is None else workers
    if workers <= 1 or jobs < PARALLEL_FROM:
        yield None
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # A pool starts a worker per job submitted, up to its size; the first start waits
        # for the fork server to import the renderers: a thread waits for that instead.
        starting = threading.Thread(target=_start, args=(pool, workers), daemon=True)
        starting.start()
        try:
            yield pool
        finally:
            starting.join()


def _start(pool: ProcessPoolExecutor, workers: int) -> None:
    # A pool that cannot start its workers fails the real jobs too, which say why.
    with contextlib.suppress(Exception):
        for _ in range(workers):
            pool.submit(_started)


def _started() -> None:
    """A worker's first job: nothing but being there."""


def render_jobs(
    jobs: Sequence[Job],
    fonts: PdfFonts | None,
    font_css: str | None,
    pool: ProcessPoolExecutor | None = None,
) -> list[bytes]:
    """The bytes of every job, in the order given (in ``pool``'s workers when given)."""
    if pool is None:
        return _render_chunk(jobs, fonts, font_css)
    # Longest first, one job at a time: whichever worker is free takes the next one, so
    # the batch report does not come last and the workers finish together.
    order = sorted(range(len(jobs)), key=lambda i: _cost(jobs[i]), reverse=True)
    futures = [(i, pool.submit(render_job, *_inputs(jobs[i], fonts, font_css))) for i in order]
    out: list[bytes] = [b""] * len(jobs)
    for index, future in futures:
        out[index] = future.result()
    return out


def _inputs(
    job: Job, fonts: PdfFonts | None, font_css: str | None
) -> tuple[Job, PdfFonts | None, str | None]:
    """A job with what its format needs: the web font (~100 kB) goes to HTML jobs only."""
    if job.fmt == "pdf":
        return job, fonts, None
    return job, None, font_css


def _cost(job: Job) -> int:
    """A rough rendering cost: a PDF's layout costs far more than an HTML page's."""
    return len(job.doc.text()) * (20 if job.fmt == "pdf" else 1)
