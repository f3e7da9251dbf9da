"""PDF rendering of a `Document` with fpdf2 (pure Python) and the embedded CJK font.

A4 portrait. Every page carries the run id, the final hash and, for a broken chain, a red
warning line, so a single page torn out of a record still says where it came from. The
creation date is the run's own time, so rendering the same run again gives the same file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, TextMode, XPos, YPos
from fpdf.fonts import TTFFont

from meterbench.reports import font_embed, linebreak, plain_cell, table_heights
from meterbench.reports.document import (
    Banner,
    Cell,
    Document,
    Fields,
    Heading,
    Image,
    PageBreak,
    Paragraph,
    Table,
    Tone,
)
from meterbench.reports.fonts import PdfFonts, check_faces, full_fonts
from meterbench.reports.linebreak import install as install_line_breaking
from meterbench.reports.linebreak import stock_line_breaking
from meterbench.reports.pdf_chart import chart_height, draw_chart
from meterbench.reports.printed import BROKEN_LINE, pdf_text

INK = (28, 37, 48)
MUTED = (93, 107, 122)
LINE = (201, 209, 218)
HEAD_FILL = (238, 242, 246)
TONES: dict[str, tuple[int, int, int]] = {
    "pass": (30, 125, 60),
    "fail": (179, 38, 30),
    "warn": (154, 103, 0),
    "muted": MUTED,
}
BANNER_FILL = {"fail": (253, 231, 230), "warn": (255, 244, 214)}
BODY_PT = 8.5
SIZES = {1: 13.0, 2: 11.0, 3: 9.5}

# fpdf2 measures each line again for every character it adds: the linear version instead;
# it renders every table cell once only to learn its height: measured once per text; and it
# lays every cell and paragraph out as generally as a page of markdown: plain text is written
# directly.
install_line_breaking()
table_heights.install()
plain_cell.install()


@contextmanager
def stock_paths() -> Iterator[None]:
    """fpdf2's and fontTools' own paths for the duration, none of the speed-ups above (to
    compare them against: tests and the documents benchmark)."""
    with (
        stock_line_breaking(),
        table_heights.stock_table_heights(),
        plain_cell.stock_cells(),
        font_embed.stock_font_embedding(),
    ):
        yield


def clear_caches() -> None:
    """Forget what the speed-ups remember between documents (a cold start, to compare)."""
    linebreak.clear_cache()
    table_heights.clear_cache()
    plain_cell.clear_cache()


class _Pdf(FPDF):
    def __init__(self, doc: Document, fonts: PdfFonts) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc = doc
        self.set_margins(15, 16, 15)
        self.set_auto_page_break(True, margin=18)
        self.add_font("sans", "", str(fonts.path), collection_font_number=fonts.face)
        sans = self.fonts["sans"]
        assert isinstance(sans, TTFFont)
        font_embed.prepare(sans.ttfont, fonts.path, fonts.face)
        self.set_text_color(*INK)
        self.set_draw_color(*LINE)

    def header(self) -> None:
        self.set_font("sans", size=7)
        self.set_text_color(*MUTED)
        self.set_xy(self.l_margin, 7)
        self.cell(self.epw / 2, 4, f"{self.doc.title} · {self.doc.subtitle}")
        self.cell(self.epw / 2, 4, self.doc.run_id, align="R")
        if not self.doc.chain_ok:
            self.set_xy(self.l_margin, 11)
            self.set_text_color(*TONES["fail"])
            self.cell(self.epw, 4, BROKEN_LINE, align="C")
        self.set_text_color(*INK)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("sans", size=6.5)
        self.set_text_color(*MUTED)
        self.multi_cell(self.epw - 15, 3.2, self.doc.footer, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_font("sans", size=7)
        self.cell(15, 3.2, f"{self.page_no()}/{{nb}}", align="R")
        self.set_text_color(*INK)


def _bold(pdf: _Pdf) -> AbstractContextManager[None]:
    """The collection has one weight: headings get a thin outline instead of a bold face."""
    return pdf.local_context(
        text_mode=TextMode.FILL_STROKE, line_width=0.12, draw_color=pdf.text_color
    )


def _family(text: str, tone: Tone) -> str | None:
    """Courier (a PDF standard font, never embedded) for monospaced ASCII; else the CJK font."""
    return "courier" if tone == "mono" and text.isascii() else None


def _style(text: str, tone: Tone, size: float | None = None) -> FontFace:
    return FontFace(family=_family(text, tone), color=TONES.get(tone), size_pt=size)


def _heading(pdf: _Pdf, block: Heading, keep: float) -> None:
    """A heading never ends a page: ``keep`` mm of what follows must fit below it."""
    size = SIZES.get(block.level, SIZES[3])
    pdf.ln(2.5 if block.level > 1 else 4)
    if pdf.will_page_break(size * 0.5 + 3 + keep):
        pdf.add_page()
    pdf.set_font("sans", size=size)
    with _bold(pdf):
        pdf.multi_cell(pdf.epw, size * 0.5, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if block.level <= 2:
        y = pdf.get_y() + 0.4
        pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
        pdf.ln(1.2)
    pdf.set_font("sans", size=BODY_PT)


def _paragraph(pdf: _Pdf, block: Paragraph) -> None:
    pdf.set_font(_family(block.text, block.tone) or "sans", size=BODY_PT)
    pdf.set_text_color(*TONES.get(block.tone, INK))
    pdf.multi_cell(pdf.epw, 4.2, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font("sans", size=BODY_PT)
    pdf.ln(0.8)


def _banner(pdf: _Pdf, block: Banner) -> None:
    pdf.ln(1)
    pdf.set_font("sans", size=9.5)
    with pdf.local_context(
        fill_color=BANNER_FILL[block.tone],
        draw_color=TONES[block.tone],
        text_color=TONES[block.tone],
        line_width=0.5,
    ):
        pdf.multi_cell(
            pdf.epw,
            5.2,
            block.text,
            border=1,
            fill=True,
            padding=2,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.set_font("sans", size=BODY_PT)
    pdf.ln(1.5)


def _fields(pdf: _Pdf, block: Fields) -> None:
    if not block.rows:
        return
    per_line = max(1, block.columns)
    widths: list[float] = [1.0, 4.2] if per_line == 1 else [1.0, 1.6] * per_line
    pdf.set_font("sans", size=BODY_PT)
    label_style = FontFace(color=MUTED)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        line_height=4.2,
        padding=(0.6, 1.2),
        text_align="LEFT",
    ) as table:
        for start in range(0, len(block.rows), per_line):
            row = table.row()
            chunk = block.rows[start : start + per_line]
            for label, value in chunk:
                row.cell(label, style=label_style)
                row.cell(value.text, style=_style(value.text, value.tone))
            for _ in range(per_line - len(chunk)):
                row.cell("")
                row.cell("")
    pdf.ln(1)


def _table(pdf: _Pdf, block: Table) -> None:
    if not block.rows:
        return
    widths: Sequence[float] = block.widths or [1.0] * len(block.headers)
    size = BODY_PT - 1 if len(block.headers) > 6 else BODY_PT - 0.5
    pdf.set_font("sans", size=size)
    headings = FontFace(fill_color=HEAD_FILL, color=INK)
    with pdf.table(
        col_widths=tuple(widths),
        width=pdf.epw,
        headings_style=headings,
        line_height=size * 0.45,
        padding=(0.6, 1.0),
        text_align="LEFT",
        repeat_headings=1,
    ) as table:
        head = table.row()
        for text in block.headers:
            head.cell(text)
        for cells in block.rows:
            row = table.row()
            for c in cells:
                row.cell(c.text, style=_cell_style(c, size))
    pdf.set_font("sans", size=BODY_PT)
    pdf.ln(1.5)


def _cell_style(c: Cell, size: float) -> FontFace:
    return _style(c.text, c.tone, size - 0.5 if c.tone == "mono" else None)


def _image_height(pdf: _Pdf, block: Image) -> float:
    return chart_height(block.chart, block.width_mm or pdf.epw)


def _keep(pdf: _Pdf, block: object) -> float:
    """Room (mm) the start of ``block`` needs on the page of the heading above it."""
    if isinstance(block, Image):
        return _image_height(pdf, block) + 4
    if isinstance(block, Table | Fields):
        return 14
    return 8


def _image(pdf: _Pdf, block: Image) -> None:
    if pdf.will_page_break(_image_height(pdf, block)):
        pdf.add_page()
    pdf.set_x(pdf.l_margin)
    draw_chart(pdf, block.chart, block.width_mm or pdf.epw, "sans")
    pdf.set_font("sans", size=7.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(pdf.epw, 3.6, block.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font("sans", size=BODY_PT)
    pdf.ln(2)


def render_pdf(doc: Document, fonts: PdfFonts | None = None) -> bytes:
    """The document as PDF bytes (fonts subset and embedded).

    ``fonts`` from `subset_fonts` speeds up rendering many documents; a document with a
    character the subset lacks falls back to the whole collection.
    """
    check_faces()
    if fonts is None or not fonts.covers(pdf_text(doc)):
        fonts = full_fonts()
    pdf = _Pdf(doc, fonts)
    pdf.set_title(f"{doc.title} · {doc.subtitle}")
    pdf.set_subject(doc.run_id)
    pdf.set_keywords(f"meterbench run {doc.run_id} final-hash {doc.final_hash}")
    pdf.set_creator("meterbench")
    pdf.set_lang("zh-CN" if doc.lang == "zh" else "en")
    if doc.created is not None:
        pdf.set_creation_date(doc.created)
    pdf.add_page()
    pdf.set_font("sans", size=SIZES[1] + 3)
    with _bold(pdf):
        pdf.multi_cell(pdf.epw, 8, doc.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("sans", size=9.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(pdf.epw, 5, doc.subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font("sans", size=BODY_PT)
    pdf.ln(2)
    for index, block in enumerate(doc.blocks):
        if isinstance(block, Heading):
            following = doc.blocks[index + 1] if index + 1 < len(doc.blocks) else None
            _heading(pdf, block, _keep(pdf, following))
        elif isinstance(block, Paragraph):
            _paragraph(pdf, block)
        elif isinstance(block, Banner):
            _banner(pdf, block)
        elif isinstance(block, Fields):
            _fields(pdf, block)
        elif isinstance(block, Table):
            _table(pdf, block)
        elif isinstance(block, Image):
            _image(pdf, block)
        elif isinstance(block, PageBreak):
            pdf.add_page()
    return bytes(pdf.output())
