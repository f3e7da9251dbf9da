"""A neutral document: headings, field grids, tables, images and banners.

Builders (record, certificate, batch) say *what* is printed; the HTML and PDF renderers say
*how*. One document model keeps both outputs identical in content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from meterbench.reports.chart import Chart
from meterbench.reports.svg import chart_svg

Tone = Literal["", "pass", "fail", "warn", "mono", "muted"]


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    tone: Tone = ""


def cell(text: object, tone: Tone = "") -> Cell:
    return Cell("" if text is None else str(text), tone)


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    tone: Tone = ""


@dataclass(frozen=True, slots=True)
class Banner:
    """A warning every reader must see (broken chain, provisional record)."""

    text: str
    tone: Literal["fail", "warn"] = "fail"


@dataclass(frozen=True, slots=True)
class Fields:
    """Label/value pairs laid out in ``columns`` pairs per line."""

    rows: tuple[tuple[str, Cell], ...]
    columns: int = 2


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...] | None = None  # relative column widths
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    """A plot as vector shapes: the PDF draws them, the HTML shows them as SVG."""

    title: str
    chart: Chart
    alt: str = ""
    width_mm: float | None = None  # None: the full text width (plots); a QR code is small

    @property
    def svg(self) -> str:
        """A standalone SVG file of the plot."""
        return chart_svg(self.chart)

    @property
    def svg_element(self) -> str:
        """The plot as an SVG element for inline HTML (text escaped by the writer)."""
        return chart_svg(self.chart, standalone=False)


@dataclass(frozen=True, slots=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Banner | Fields | Table | Image | PageBreak


@dataclass(slots=True)
class Document:
    """One file's content; ``stem`` is its file name without extension."""

    title: str
    subtitle: str
    lang: str
    stem: str
    run_id: str
    final_hash: str
    chain_ok: bool
    blocks: list[Block] = field(default_factory=list)
    footer: str = ""
    created: datetime | None = None  # the time the document describes (PDF metadata)

    def add(self, *blocks: Block) -> Document:
        self.blocks.extend(blocks)
        return self

    def text(self) -> str:
        """All printed text, for tests and search."""
        parts = [self.title, self.subtitle, self.footer]
        for block in self.blocks:
            if isinstance(block, Heading | Paragraph | Banner):
                parts.append(block.text)
            elif isinstance(block, Fields):
                parts += [f"{k} {v.text}" for k, v in block.rows]
            elif isinstance(block, Table):
                parts += list(block.headers)
                parts += [c.text for row in block.rows for c in row]
            elif isinstance(block, Image):
                parts.append(block.title)
        return "\n".join(parts)
