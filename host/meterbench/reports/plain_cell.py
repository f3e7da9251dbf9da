"""`FPDF.multi_cell` of plain text written directly: table cells, paragraphs, headings.

fpdf2 (2.8.x) lays every multi-cell out through general machinery: it splits the text into
styled fragments (copying the graphics state), breaks it into lines (`plain_break` does
that part directly), and renders each line with code that handles markdown, links,
justification by several means, underlines, fallback fonts and text shaping. A record's
table cells (laid out twice: a dry run for the row's height, then the draw), paragraphs and
headings are one run of text in one font (the TrueType font, or Courier for frames), none
of those features. `install` writes such a call directly: the same lines
(`plain_break.plain_lines`), the same position arithmetic, the same operators in the same
order (a colour change, the font on first use on the page, a stroked heading's text mode,
the glyph codes, a justified line's word spacing), the same glyphs picked, the same
position, last height and return value afterwards. Anything else (a border, a fill, a link,
markdown, an alignment other than left, centre, right or justified, a line that would break
the page, ...) takes fpdf2's own path. The PDFs are the same to the byte
(``host/tests/test_reports_pdf_speedups.py`` renders documents, random tables and random
paragraphs both ways and compares).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, CharVPos, MethodReturnValue, TextMode, WrapMode, XPos, YPos
from fpdf.errors import FPDFException
from fpdf.fonts import CoreFont, TTFFont
from fpdf.util import Padding, escape_parens

from meterbench.reports import table_heights
from meterbench.reports.plain_break import PlainLine, glyph_units, note_size, plain_lines
from meterbench.reports.stock_switch import StockSwitch

_STOCK_MULTI_CELL: Callable[..., Any] = FPDF.multi_cell
_switch = StockSwitch()
# fpdf2 2.8.9's parameters of `multi_cell`, in order, with their defaults (a test checks them
# against fpdf2's signature).
PARAMETERS: dict[str, Any] = {
    "w": None,
    "h": None,
    "text": "",
    "border": 0,
    "align": Align.J,
    "fill": False,
    "split_only": False,
    "link": None,
    "ln": "DEPRECATED",
    "max_line_height": None,
    "markdown": False,
    "print_sh": False,
    "new_x": XPos.RIGHT,
    "new_y": YPos.NEXT,
    "wrapmode": WrapMode.WORD,
    "dry_run": False,
    "output": MethodReturnValue.PAGE_BREAK,
    "center": False,
    "padding": 0,
}
_NAMES = tuple(PARAMETERS)
_ALIGNS: dict[str | Align, Align] = {
    **{name: Align.L for name in ("L", "LEFT", Align.L)},
    **{name: Align.C for name in ("C", "CENTER", Align.C)},
    **{name: Align.R for name in ("R", "RIGHT", Align.R)},
    **{name: Align.J for name in ("J", "JUSTIFY", Align.J)},
}  # what fpdf2 accepts for these four (not X, which centres on the position)
_NEW_X: dict[str | XPos, XPos] = {
    **{name: XPos.RIGHT for name in ("RIGHT", XPos.RIGHT)},
    **{name: XPos.LEFT for name in ("LEFT", XPos.LEFT)},
    **{name: XPos.LMARGIN for name in ("LMARGIN", XPos.LMARGIN)},
}
_NEW_Y: dict[str | YPos, YPos] = {
    **{name: YPos.TOP for name in ("TOP", YPos.TOP)},
    **{name: YPos.NEXT for name in ("NEXT", YPos.NEXT)},
}
_RETURNS = MethodReturnValue.PAGE_BREAK | MethodReturnValue.HEIGHT
CACHE_SIZE = 20_000  # texts' lines per process (a batch of 24 meters has ~5,000)
_cache: dict[tuple[Any, ...], list[PlainLine] | None] = {}
_UNKNOWN: Any = object()


def supported() -> bool:
    return table_heights.supported()


def install() -> None:
    """Write plain multi-cells directly from now on (a checked fpdf2 only)."""
    if supported():
        FPDF.multi_cell = _multi_cell  # type: ignore[method-assign]


def stock_cells() -> AbstractContextManager[None]:
    """fpdf2's own multi-cell path for the duration, in this thread (to compare against it)."""
    return _switch.use_stock()


def _multi_cell(self: FPDF, *args: Any, **kwargs: Any) -> Any:
    if _switch.stock or len(args) > len(_NAMES):
        return _STOCK_MULTI_CELL(self, *args, **kwargs)
    call = dict(PARAMETERS)
    call.update(zip(_NAMES, args, strict=False))
    for name, value in kwargs.items():
        if name not in PARAMETERS or name in _NAMES[: len(args)]:
            return _STOCK_MULTI_CELL(self, *args, **kwargs)  # fpdf2 says what is wrong
        call[name] = value
    written = _write(self, **call)
    if written is None:
        return _STOCK_MULTI_CELL(self, *args, **kwargs)
    return written


def _write(
    pdf: FPDF,
    *,
    w: Any,
    h: Any,
    text: Any,
    border: Any,
    align: Any,
    fill: Any,
    split_only: Any,
    link: Any,
    ln: Any,
    max_line_height: Any,
    markdown: Any,
    print_sh: Any,
    new_x: Any,
    new_y: Any,
    wrapmode: Any,
    dry_run: Any,
    output: Any,
    center: Any,
    padding: Any,
) -> Any:
    """The call written as fpdf2 writes it; None where this does not apply."""
    font = pdf.current_font
    align = _ALIGNS.get(align) if isinstance(align, str | Align) else None
    new_x = _NEW_X.get(new_x) if isinstance(new_x, str | XPos) else None
    new_y = _NEW_Y.get(new_y) if isinstance(new_y, str | YPos) else None
    if (
        align is None
        or new_x is None
        or new_y is None
        or not isinstance(w, int | float)
        or not isinstance(h, int | float | None)
        or not isinstance(text, str)
        or not isinstance(max_line_height, int | float | None)
        or not isinstance(output, MethodReturnValue)
        or output & ~_RETURNS
        or border != 0
        or fill
        or split_only
        or dry_run
        or link
        or ln != "DEPRECATED"
        or markdown
        or center
        or wrapmode is not WrapMode.WORD
        or not isinstance(font, TTFFont | CoreFont)
        or (isinstance(font, TTFFont) and font.color_font)
        or not pdf.page
        or not pdf.font_family
        or pdf.text_shaping
        or pdf._fallback_font_ids
        or pdf._record_text_quad_points
        or pdf.underline
        or pdf.strikethrough
        or pdf.char_vpos != CharVPos.LINE
        or pdf.font_stretching != 100
        or pdf.char_spacing != 0
        or (pdf.str_alias_nb_pages and pdf.str_alias_nb_pages in text)
    ):
        return None
    padding = Padding.new(padding)
    if h is None:
        h = pdf.font_size
    if w == 0:
        w = pdf.w - pdf.r_margin - pdf.x
    width = w - padding.right - padding.left  # fpdf2's maximum_allowed_width
    if width == 0:  # fpdf2 would measure the line from the position instead
        return None
    margins = []  # fpdf2's clearance margins: the cell margin where there is no padding
    if not padding.left:
        margins.append(pdf.c_margin)
    if not padding.right:
        margins.append(pdf.c_margin)
    k = pdf.k
    size_pt = pdf.font_size_pt
    font_size = size_pt / k  # the fragment's font size, in document units
    try:
        text = pdf.normalize_text(text).replace("\r", "")  # core fonts: their encoding
    except FPDFException:
        return None  # fpdf2 raises its own error
    lines = _lines(text, font, size_pt, font_size, k, width, margins, align)
    if lines is None:
        return None
    if not lines:  # fpdf2 still writes one (empty) line
        lines = [PlainLine(None, 0, 0, align, h, width, False)]
    one_height = max_line_height is None or len(lines) == 1
    line_height = h if one_height else min(h, max_line_height)
    prev_y = pdf.y
    if _breaks_page(pdf, len(lines), h + padding.bottom, padding.top, line_height):
        return None
    pdf.x += padding.left
    pdf.y += padding.top
    l_c_margin = float(0) if padding.left else pdf.c_margin
    r_c_margin = float(0) if padding.right else pdf.c_margin
    style = _Style(pdf, font, size_pt, l_c_margin, r_c_margin)
    total_height: float = 0
    last = len(lines) - 1
    for index, line in enumerate(lines):
        if line.chars is not None:
            style.write(pdf, line, line_height)
        pdf._lasth = line_height or pdf.font_size
        if index < last:
            pdf.y += line_height  # XPos.LEFT, YPos.NEXT between the lines
        else:
            if new_x is XPos.RIGHT:
                pdf.x += line.max_width
            elif new_x is XPos.LMARGIN:
                pdf.x = pdf.l_margin
            if new_y is YPos.NEXT:
                pdf.y += line_height
        total_height += line_height
    if total_height < h:
        if new_y is YPos.NEXT:
            pdf.y += h - total_height
        total_height = h
    if lines[-1].trailing_nl and new_y is YPos.NEXT:
        pdf.ln()
    if new_y is YPos.TOP:
        pdf.y = prev_y
    else:
        pdf.y += padding.bottom
    if new_x is XPos.RIGHT:
        pdf.x += padding.right
    elif new_x is XPos.LEFT:
        pdf.x -= padding.left
    returned: tuple[Any, ...] = ()
    if output & MethodReturnValue.PAGE_BREAK:
        returned += (False,)
    if output & MethodReturnValue.HEIGHT:
        returned += (total_height + padding.top + padding.bottom,)
    return returned[0] if len(returned) == 1 else returned


def _lines(
    text: str,
    font: TTFFont | CoreFont,
    size_pt: float,
    font_size: float,
    k: float,
    width: float,
    margins: list[float],
    align: Align,
) -> list[PlainLine] | None:
    """`plain_lines` once per text, font, size, width and alignment in a process: a batch's
    records repeat their labels and parameter paragraphs (the lines are never changed)."""
    # a TrueType font by family, file and face (one collection file holds several faces)
    face = (font.fontkey, font.ttffile, font.name) if isinstance(font, TTFFont) else font.fontkey
    key = (text, face, size_pt, k, width, tuple(margins), align)
    lines = _cache.get(key, _UNKNOWN)
    if lines is _UNKNOWN:
        lines = plain_lines(text, font, size_pt, font_size, k, width, margins, align, 1.0)
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = lines
        return lines
    if text:
        note_size(font, size_pt)  # what measuring the text tells the font in fpdf2
    return lines  # type: ignore[return-value]


def clear_cache() -> None:
    _cache.clear()


def _breaks_page(pdf: FPDF, count: int, needed: float, top: float, line_height: float) -> bool:
    """Would fpdf2 break the page before any of the lines (it checks the cell's height plus
    its bottom padding before each)?"""
    y = pdf.y
    try:
        pdf.y += top
        for _ in range(count):
            if pdf.will_page_break(needed) or pdf.will_page_break(line_height):
                return True
            pdf.y += line_height
        return False
    finally:
        pdf.y = y


class _Style:
    """What every line of one call shares: font, size, colours, text mode, cell margins."""

    def __init__(
        self,
        pdf: FPDF,
        font: TTFFont | CoreFont,
        size_pt: float,
        l_c_margin: float,
        r_c_margin: float,
    ) -> None:
        self.font = font
        self.size_pt = size_pt
        self.font_size = size_pt / pdf.k  # the fragment's font size, in document units
        self.k = pdf.k
        self.l_c_margin = l_c_margin
        self.r_c_margin = r_c_margin
        text_color = pdf.text_color
        # fpdf2 sets the text colour where it differs from the fill colour (then in q ... Q)
        self.colour: str | None = None
        if text_color != pdf.fill_color:
            assert text_color is not None  # as fpdf2 asserts
            self.colour = text_color.serialize().lower()
        text_mode = pdf.text_mode
        self.mode = None if text_mode == TextMode.FILL else f"{text_mode} Tr {pdf.line_width:.2f} w"

    def write(self, pdf: FPDF, line: PlainLine, h: float) -> None:
        """One line as `FPDF._render_styled_text_line` writes a one-fragment line."""
        assert line.chars is not None
        styled = line.text_width
        if not styled:  # fpdf2 measures again where the width is 0
            styled += sum(glyph_units(self.font, line.chars) or ()) * self.size_pt * 0.001 / self.k
        w = line.max_width
        if line.align is Align.R:
            dx = w - self.l_c_margin - styled
        elif line.align is Align.C:
            dx = (w - styled) / 2
        else:
            dx = self.l_c_margin
        word_spacing: float = 0
        if line.align is Align.J and line.number_of_spaces:
            word_spacing = (w - self.l_c_margin - self.r_c_margin - styled) / line.number_of_spaces
        k = self.k
        baseline = pdf.h - pdf.y - 0.5 * h - 0.3 * self.font_size
        parts = [f"BT {(pdf.x + dx) * k:.2f} {baseline * k:.2f} Td"]
        if self.colour is not None:
            parts.append(self.colour)
        if not pdf.current_font_is_set_on_page:
            pdf._out(pdf._set_font_for_page(self.font, self.size_pt))
        if self.mode is not None:
            parts.append(self.mode)
        if isinstance(self.font, TTFFont):
            parts.append(self._ttf_glyphs(line.chars, word_spacing))
            spaced = False
        else:  # core fonts space words with Tw, restored by the q ... Q around the line
            parts.append(self._core_glyphs(line.chars, word_spacing))
            spaced = word_spacing != 0.0
        parts.append("ET")
        if self.colour is not None or spaced:
            pdf._out(f"q {' '.join(parts)} Q")
        else:
            pdf._out(" ".join(parts))

    def _ttf_glyphs(self, chars: list[str], word_spacing: float) -> str:
        """The glyph codes as fpdf2's `Fragment.render_pdf_text_ttf` writes them: one string,
        or for a justified line with spaces an array adjusted before each space."""
        font = self.font
        assert isinstance(font, TTFFont)
        # Each character picked once, in order of first appearance: fpdf2 picks every one,
        # but a glyph's code is given on its first pick and the later ones change nothing.
        pick = font.subset.pick
        firsts = dict.fromkeys(map(ord, chars))
        codes = {u: (chr(code) if (code := pick(u)) else None) for u in firsts}
        mapped = "".join(chars).translate(codes)
        if not word_spacing:
            return f"({font.escape_text(mapped)}) Tj"
        u_space = font.escape_text(" ")
        space_code = pick(ord(" "))
        assert space_code is not None
        words = mapped.split(chr(space_code))
        adjust = -(word_spacing * self.k) * 1000 / self.size_pt
        shown = [f"({font.escape_text(words[0])})"]
        shown += [f"{adjust:.3f}({u_space}{font.escape_text(word)})" for word in words[1:]]
        return f"[{' '.join(shown)}] TJ"

    def _core_glyphs(self, chars: list[str], word_spacing: float) -> str:
        """As fpdf2's `Fragment.render_pdf_text_core`: word spacing set first where needed."""
        spacing = f"{word_spacing * self.k:.3f} Tw " if word_spacing != 0.0 else ""
        return f"{spacing}({escape_parens(''.join(chars))}) Tj"
