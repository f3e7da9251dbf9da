"""Table cells whose text fits on one line, written without fpdf2's generic multi-cell path.

fpdf2 (2.8.x) lays every table cell out through `FPDF.multi_cell`, twice (a dry run for the
row's height, then the draw): it splits the text into styled fragments, breaks it into lines
one character at a time, and renders each line with code that handles markdown, links,
justification, underlines, fallback fonts and text shaping. A record's tables are mostly
short values in one font: one line, none of those features. `install` writes such a cell
directly: the same position arithmetic, the same operators in the same order (a colour
change, the font on first use on the page, the glyph codes), the same glyphs picked, the
same position and height afterwards. Anything else, or a text within a hair of its cell's
width (where the float rounding of fpdf2's line breaking decides), takes fpdf2's own path.
The PDFs are the same to the byte (``host/tests/test_reports_pdf_speedups.py`` renders
documents and random tables both ways and compares).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, CharVPos, MethodReturnValue, TextMode, WrapMode, XPos, YPos
from fpdf.fonts import TTFFont
from fpdf.util import Padding

from meterbench.reports import table_heights
from meterbench.reports.stock_switch import StockSwitch

_STOCK_MULTI_CELL: Callable[..., Any] = FPDF.multi_cell
_switch = StockSwitch()
# The arguments fpdf2's table passes for a cell's text (`Table._render_table_cell`).
_TABLE_CALL = frozenset(
    {
        "w",
        "h",
        "text",
        "max_line_height",
        "border",
        "align",
        "new_x",
        "new_y",
        "fill",
        "markdown",
        "output",
        "wrapmode",
        "padding",
        "link",
    }
)
_OUTPUT = MethodReturnValue.PAGE_BREAK | MethodReturnValue.HEIGHT
_ALIGNS: dict[str | Align, Align] = {
    **{name: Align.L for name in ("L", "LEFT", Align.L)},
    **{name: Align.C for name in ("C", "CENTER", Align.C)},
    **{name: Align.R for name in ("R", "RIGHT", Align.R)},
}  # what fpdf2 accepts for these three, as the table passes it (not justified, not X)
_NOT_ON_ONE_LINE = frozenset("\n\r\f\u00ad")  # breaks, and the soft hyphen fpdf2 may print
MARGIN = 1e-6  # mm short of the cell's width: fpdf2's own tolerance is 1e-9


def supported() -> bool:
    return table_heights.supported()


def install() -> None:
    """Write single-line table cells directly from now on (a checked fpdf2 only)."""
    if supported():
        FPDF.multi_cell = _multi_cell  # type: ignore[method-assign]


def stock_single_lines() -> AbstractContextManager[None]:
    """fpdf2's own multi-cell path for the duration, in this thread (to compare against it)."""
    return _switch.use_stock()


def _multi_cell(self: FPDF, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs.keys() != _TABLE_CALL or _switch.stock:
        return _STOCK_MULTI_CELL(self, *args, **kwargs)
    written = _write(self, **kwargs)
    if written is None:
        return _STOCK_MULTI_CELL(self, **kwargs)
    return written


def _write(
    pdf: FPDF,
    *,
    w: float,
    h: float,
    text: str,
    max_line_height: Any,
    border: Any,
    align: Any,
    new_x: Any,
    new_y: Any,
    fill: Any,
    markdown: Any,
    output: Any,
    wrapmode: Any,
    padding: Any,
    link: Any,
) -> tuple[bool, float] | None:
    """The cell written as fpdf2 writes a one-line text; None where this does not apply."""
    font = pdf.current_font
    align = _ALIGNS.get(align)
    if (
        align is None
        or border != 0
        or fill
        or markdown
        or link
        or output != _OUTPUT
        or new_x not in ("RIGHT", XPos.RIGHT)
        or new_y not in ("TOP", YPos.TOP)
        or wrapmode is not WrapMode.WORD
        or not isinstance(padding, Padding)
        or not padding.left
        or not padding.right
        or not isinstance(font, TTFFont)
        or font.is_symbol
        or font.color_font
        or not pdf.page
        or not pdf.font_family
        or pdf.text_shaping
        or pdf._fallback_font_ids
        or pdf._record_text_quad_points
        or pdf.underline
        or pdf.strikethrough
        or pdf.text_mode != TextMode.FILL
        or pdf.char_vpos != CharVPos.LINE
        or pdf.font_stretching != 100
        or pdf.char_spacing != 0
        or not text
        or not _NOT_ON_ONE_LINE.isdisjoint(text)
        or (pdf.str_alias_nb_pages and pdf.str_alias_nb_pages in text)
    ):
        return None
    k = pdf.k
    size_pt = pdf.font_size_pt
    widths = font.cw
    # fpdf2's line width: glyph widths (integer font units) summed, then scaled
    text_width = sum(widths[ord(c)] for c in text) * size_pt * 0.001 / k
    line_width = w - padding.right - padding.left
    if not 0 < text_width < line_width - MARGIN:
        return None  # no line at all, or not surely one line: fpdf2 decides
    x, y = pdf.x, pdf.y
    pdf.x += padding.left
    pdf.y += padding.top
    if pdf.will_page_break(h + padding.bottom):  # then also for h: fpdf2 breaks the page
        pdf.x, pdf.y = x, y
        return None
    if size_pt > font.biggest_size_pt:  # what measuring the text tells the font in fpdf2
        font.biggest_size_pt = size_pt
    if align is Align.R:  # fpdf2 subtracts the left cell margin, 0 with a left padding
        dx = line_width - 0.0 - text_width
    elif align is Align.C:
        dx = (line_width - text_width) / 2
    else:
        dx = 0.0
    baseline = pdf.h - pdf.y - 0.5 * h - 0.3 * (size_pt / k)
    parts = [f"BT {(pdf.x + dx) * k:.2f} {baseline * k:.2f} Td"]
    text_color = pdf.text_color
    recoloured = text_color != pdf.fill_color
    if recoloured:
        assert text_color is not None
        parts.append(text_color.serialize().lower())
    if not pdf.current_font_is_set_on_page:
        pdf._out(pdf._set_font_for_page(font, size_pt))
    pick = font.subset.pick
    mapped = "".join(chr(code) for c in text if (code := pick(ord(c))))
    parts.append(f"({font.escape_text(mapped)}) Tj")
    parts.append("ET")
    pdf._out(f"q {' '.join(parts)} Q" if recoloured else " ".join(parts))
    pdf._lasth = h or pdf.font_size
    pdf.x += line_width  # fpdf2 moves right by the line, then by the right padding
    pdf.x += padding.right
    pdf.y = y
    height: float = 0  # fpdf2's sum of line heights: 0 + h
    height += h
    return False, height + padding.top + padding.bottom
