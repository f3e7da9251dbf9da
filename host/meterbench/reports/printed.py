"""Every character a document prints, per format: what its font subset must cover.

The subset is cut in the process that hands documents to the render workers, before they
render; this module keeps that process from importing the PDF and HTML renderers (fpdf2,
Jinja2: a third of a second) only to list characters.
"""

from __future__ import annotations

from meterbench.reports.document import Document, Image

# The warning line on every page of a PDF whose hash chain does not verify.
BROKEN_LINE = "HASH CHAIN BROKEN · 哈希链校验失败 · NOT A VALID RECORD"


def _chart_labels(doc: Document) -> str:
    return "".join(b.chart.texts() for b in doc.blocks if isinstance(b, Image))


def html_text(doc: Document) -> str:
    """Every character the page prints, its plots' labels included."""
    return doc.text() + doc.run_id + _chart_labels(doc)


def pdf_text(doc: Document) -> str:
    """Every character a PDF of ``doc`` may print: the page, its header and its plots."""
    return doc.text() + doc.run_id + BROKEN_LINE + _chart_labels(doc)
