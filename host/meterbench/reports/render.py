"""Which documents a request makes, and writing them: the entry points runner and CLI call.

    with ResultsStore.open(db, create=False) as store:
        paths = render_run(store, run_id, Path("out"), lang="zh")   # everything for a run

All output comes from the stored run alone. File names carry the run id (or the certificate
number), the position and serial number, and the language, so re-rendering overwrites the
same files with the same content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from meterbench.reports.batch import build_batch
from meterbench.reports.certificate import build_certificate
from meterbench.reports.context import ReportContext, load_context
from meterbench.reports.document import Document
from meterbench.reports.errors import (
    LotWithheldError,
    ManualItemMissingError,
    ReportError,
    RunNotClosedError,
    SignatureInvalidError,
)
from meterbench.reports.export import run_export
from meterbench.reports.exporters import FILE_EXPORTERS
from meterbench.reports.integrity import OnBroken
from meterbench.reports.record import build_record
from meterbench.results import ResultsStore, RunStatus
from meterbench.results.signing import PublicKey

Format = Literal["html", "pdf", "csv", "json"]
DOCUMENT_FORMATS: tuple[str, ...] = ("html", "pdf")
EXPORT_FORMATS: tuple[str, ...] = ("csv", "json")
ALL_FORMATS: tuple[str, ...] = DOCUMENT_FORMATS + EXPORT_FORMATS
# From this many PDFs on, cutting the font once beats letting each PDF parse all of it.
SUBSET_FROM = 2


def write_documents(
    docs: Sequence[Document],
    out_dir: Path,
    formats: Iterable[str],
    *,
    workers: int | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[Path]:
    """Write each document in each of ``formats`` (html, pdf); return the paths.

    The font is cut once, for all documents and both formats. Documents are rendered in
    ``workers`` processes (default: one per core), or in ``pool``'s, started by the caller
    (`parallel.render_pool`); each file's bytes do not depend on where or in which order it
    was rendered, so parallel and serial give the same files."""
    # Imported here: exports and error paths do not pay for the PDF and font libraries.
    from meterbench.reports.parallel import Job, render_jobs, render_pool

    formats = [f for f in formats if f in DOCUMENT_FORMATS]
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [Job(doc, fmt) for doc in docs for fmt in ("html", "pdf") if fmt in formats]
    paths: list[Path] = []
    given = nullcontext(pool) if pool is not None else None
    with given or render_pool(len(jobs), workers) as pool:
        fonts = font_css = None
        if formats:
            fonts, font_css = shared_fonts(docs, formats)
        for job, data in zip(jobs, render_jobs(jobs, fonts, font_css, pool), strict=True):
            path = out_dir / f"{job.doc.stem}.{job.fmt}"
            path.write_bytes(data)
            paths.append(path)
    return paths


def shared_fonts(docs: Sequence[Document], formats: Sequence[str]) -> tuple[Any, str | None]:
    """One font subset for every document and format (cutting it is the costly part)."""
    from meterbench.reports.fonts import subset_fonts
    from meterbench.reports.html import font_face_css
    from meterbench.reports.printed import html_text, pdf_text

    text = "".join(pdf_text(d) + html_text(d) for d in docs)
    fonts = subset_fonts(text) if "pdf" in formats and len(docs) >= SUBSET_FROM else None
    font_css = font_face_css(text) if "html" in formats else None
    return fonts, font_css


def report_documents(ctx: ReportContext, meter: str | None = None) -> list[Document]:
    """A meter's original record; without a meter, the batch report and every record."""
    if meter is not None:
        return [build_record(ctx, ctx.meter(meter))]
    return [build_batch(ctx)] + [build_record(ctx, m) for m in ctx.meters]


def export_files(ctx: ReportContext, out_dir: Path, fmt: str, meter: str | None = None) -> Path:
    chosen = ctx.meter(meter) if meter is not None else None
    return FILE_EXPORTERS[fmt](out_dir).write(run_export(ctx, chosen))


def render_report(
    store: ResultsStore,
    run_id: str,
    out_dir: Path,
    fmt: str = "html",
    *,
    lang: str = "zh",
    meter: str | None = None,
    on_broken: OnBroken = "refuse",
) -> list[Path]:
    """`meterbench report`: records and batch report (html, pdf) or the export (csv, json)."""
    if fmt not in ALL_FORMATS:
        raise ReportError(f"format {fmt!r}: choose one of {', '.join(ALL_FORMATS)}")
    ctx = load_context(store, run_id, lang, on_broken)
    if fmt in EXPORT_FORMATS:
        return [export_files(ctx, out_dir, fmt, meter)]
    return write_documents(report_documents(ctx, meter), out_dir, [fmt])


@dataclass
class CertificateOutcome:
    paths: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per meter without a document


def certificate_documents(
    ctx: ReportContext, meter: str | None = None
) -> tuple[list[Document], list[str]]:
    """Certificates and notices; a named meter without a verdict raises, others are skipped."""
    if meter is not None:
        return [build_certificate(ctx, ctx.meter(meter))], []
    docs, skipped = [], []
    for m in ctx.meters:
        if m.document_kind is None:
            verdict = m.verdict()
            skipped.append(
                f"meter {m.label} (position {m.position.position}): no certificate or notice "
                f"({'legal verdict ' + verdict.value if verdict else 'no conclusion stored'})"
            )
            continue
        try:
            docs.append(build_certificate(ctx, m))
        except (ManualItemMissingError, LotWithheldError) as exc:
            skipped.append(str(exc))
    return docs, skipped


def render_certificates(
    store: ResultsStore,
    run_id: str,
    out_dir: Path,
    *,
    lang: str = "zh",
    meter: str | None = None,
    formats: Sequence[str] = ("pdf",),
    public_key: PublicKey | None = None,
) -> CertificateOutcome:
    """`meterbench certificate`: a certificate (passed) or result notice (failed) per meter.

    Refused for a chain or a lab signature that does not verify; with the lab's published
    ``public_key``, also for a closed run that it did not sign up to the last row."""
    ctx = load_context(store, run_id, lang, "refuse", public_key)
    if not ctx.integrity.ok:
        raise SignatureInvalidError(run_id, ctx.integrity.problem or "unknown problem")
    if ctx.integrity.status is not RunStatus.COMPLETED:  # aborted, interrupted or running
        status = ctx.integrity.status.value if ctx.integrity.status else "unknown"
        raise RunNotClosedError(run_id, status)
    docs, skipped = certificate_documents(ctx, meter)
    return CertificateOutcome(write_documents(docs, out_dir, formats), skipped)


def render_run(
    store: ResultsStore,
    run_id: str,
    out_dir: Path,
    lang: str = "zh",
    *,
    formats: Sequence[str] = ALL_FORMATS,
    on_broken: OnBroken = "refuse",
) -> list[Path]:
    """Everything for a run: batch report, every record, certificates and notices (for a
    completed run with an intact chain), and the CSV/JSON exports. Returns the paths.

    A run has a batch report and a record per meter at least: the render workers are started
    first, while the run is loaded and its documents built."""
    from meterbench.reports.parallel import PARALLEL_FROM, render_pool

    documents = any(f in DOCUMENT_FORMATS for f in formats)
    with render_pool(PARALLEL_FROM if documents else 0) as pool:
        ctx = load_context(store, run_id, lang, on_broken)
        docs = report_documents(ctx)
        if ctx.integrity.ok and ctx.integrity.status is RunStatus.COMPLETED:
            docs += certificate_documents(ctx)[0]
        paths = write_documents(docs, out_dir, formats, pool=pool)
    paths += [export_files(ctx, out_dir, f) for f in EXPORT_FORMATS if f in formats]
    return paths
