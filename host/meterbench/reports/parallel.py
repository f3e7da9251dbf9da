"""Rendering many documents on every core: one job per document and format.

A batch of 24 meters is ~150 documents; each PDF costs fpdf2 a fraction of a second (layout,
its own glyph subset), all independent of each other. Workers are separate processes started
with ``forkserver`` (a clean process that imported the renderers once, so no thread or lock of
the caller is copied). A file's bytes depend only on its document and the shared font, so the
results are the same as rendering one after another, which is what one worker, or a handful
of jobs, does.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
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


def render_jobs(
    jobs: Sequence[Job],
    fonts: PdfFonts | None,
    font_css: str | None,
    workers: int | None = None,
) -> list[bytes]:
    """The bytes of every job, in the order given."""
    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(jobs) < PARALLEL_FROM:
        return _render_chunk(jobs, fonts, font_css)
    # Jobs dealt round-robin (big batch report and small notices spread evenly), a few
    # chunks per worker so one slow chunk does not leave the others idle.
    count = min(len(jobs), workers * 4)
    chunks = [list(range(k, len(jobs), count)) for k in range(count)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    out: list[bytes] = [b""] * len(jobs)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            (chunk, pool.submit(_render_chunk, [jobs[i] for i in chunk], fonts, font_css))
            for chunk in chunks
        ]
        for chunk, future in futures:
            for index, data in zip(chunk, future.result(), strict=True):
                out[index] = data
    return out
