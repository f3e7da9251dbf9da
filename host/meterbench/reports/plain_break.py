"""The lines of one run of plain text, computed directly instead of by fpdf2's line breaker.

fpdf2 (2.8.x) breaks a text into lines one character at a time through general machinery:
per character it measures a one-character string, compares graphics states to decide
whether a new styled fragment starts, records break hints as named tuples and re-measures the
line. A record's table cells and paragraphs are one run of text in one font (no markdown),
often Chinese, which breaks between any two characters. `break_plain` follows fpdf2's
`MultiLineBreak.get_line` step for step for that case only: the same widths (integer glyph
widths summed, then fpdf2's scaling), the same comparison with fpdf2's tolerance, the same
break at the last space or before the character that does not fit, and the same heights,
alignments and space counts. Anything else (several fragments, soft hyphens, form feeds,
character wrapping, indents, a character wider than the line) is left to fpdf2.
`plain_lines` is the same on a bare string, for writers that need no fragments
(`plain_cell`).
``host/tests/test_reports_plain_break.py`` compares it with fpdf2 on random texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from fpdf.enums import Align, WrapMode
from fpdf.fonts import CoreFont, TTFFont
from fpdf.line_break import (
    BREAKING_SPACE_SYMBOLS,
    BREAKING_SPACE_SYMBOLS_STR,
    Fragment,
    TextLine,
)
from fpdf.util import FloatTolerance

_LEFT_TO_FPDF2 = frozenset("\u00ad\u00a0\u000c")  # soft hyphen, no-break space, form feed
_TOLERANCE = FloatTolerance.TOLERANCE
# A text this far (mm) inside its line fits on it for certain: fpdf2 compares a running sum
# whose rounding errors are some 1e-13 mm, with a tolerance of 1e-9 mm.
ONE_LINE_MARGIN = 1e-7


class PlainLine(NamedTuple):
    """A `TextLine` of one run of text: its characters, None where fpdf2's line has no
    fragment at all (an empty line between two newlines)."""

    chars: list[str] | None
    text_width: float
    number_of_spaces: int
    align: Align
    height: float
    max_width: float
    trailing_nl: bool


def break_plain(
    fragments: Sequence[Fragment],
    max_width: float,
    margins: Sequence[float],
    align: Align,
    print_sh: bool,
    wrapmode: WrapMode,
    line_height: float,
    skip_leading_spaces: bool,
    first_line_indent: float,
) -> list[TextLine] | None:
    """fpdf2's lines for these `MultiLineBreak` arguments; None where this does not apply.

    The lines' fragments are clones of the given one, as fpdf2's are."""
    if len(fragments) > 1 or wrapmode is not WrapMode.WORD or skip_leading_spaces:
        return None
    if first_line_indent != 0:
        return None
    if not fragments:
        return []  # no text, no line
    source = fragments[0]
    font = source.font
    if (
        type(source) is not Fragment
        or not isinstance(font, TTFFont | CoreFont)
        or source.text_shaping_parameters
        or source.char_spacing != 0
        or source.font_stretching != 100
    ):
        return None
    lines = plain_lines(
        source.characters,
        font,
        source.font_size_pt,
        source.font_size,
        source.k,
        max_width,
        margins,
        align,
        line_height,
    )
    if lines is None:
        return None
    link = source.link
    return [
        TextLine(
            [] if line.chars is None else [source.clone(line.chars, link)],
            *line[1:],
            False,  # trailing form feed: form feeds are left to fpdf2
            first_line_indent if i == 0 else 0,
        )
        for i, line in enumerate(lines)
    ]


def plain_lines(
    chars: Sequence[str],
    font: TTFFont | CoreFont,
    size_pt: float,
    font_size: float,
    k: float,
    max_width: float,
    margins: Sequence[float],
    align: Align,
    line_height: float,
) -> list[PlainLine] | None:
    """fpdf2's lines of ``chars`` in one font at ``size_pt`` (``font_size`` in document
    units, for the height), word-wrapped in ``max_width`` less ``margins``; None where this
    does not apply."""
    if not _LEFT_TO_FPDF2.isdisjoint(chars):
        return None
    if not font_size > _TOLERANCE:  # fpdf2 takes a line's height from the first character
        return None
    units_of = glyph_units(font, chars)
    if units_of is None:
        return None
    limit = max_width
    for margin in margins:
        limit -= float(margin)
    if chars:
        note_size(font, size_pt)
    height = font_size * line_height
    last_align = Align.L if align == Align.J else align
    if "\n" not in chars:
        total = sum(units_of)
        width = total * size_pt * 0.001 / k
        if total and width < limit - ONE_LINE_MARGIN:
            # every character fits, whatever the rounding of fpdf2's running sum: one line
            spaces = sum(chars.count(space) for space in BREAKING_SPACE_SYMBOLS)
            return [PlainLine(list(chars), width, spaces, last_align, height, max_width, False)]
    lines: list[PlainLine] = []

    def emit(
        line: list[str] | None,
        units: float,
        spaces: int,
        line_align: Align,
        line_height_: float,
        trailing_nl: bool = False,
    ) -> None:
        # fpdf2's width of the line: glyph units summed, scaled; 0 (an int) without fragment
        width: float = 0
        if line is not None:
            width += units * size_pt * 0.001 / k
        lines.append(
            PlainLine(line, width, spaces, line_align, line_height_, max_width, trailing_nl)
        )

    i, n = 0, len(chars)
    while i < n:
        start = i
        line: list[str] | None = None
        units: float = 0  # glyph widths in font units (integers)
        spaces = 0
        hint: tuple[int, int, int] | None = None  # index in line, index in text, spaces
        line_h: float = 0
        while True:
            if i >= n:
                if line is not None and units * size_pt * 0.001 / k:
                    emit(line, units, spaces, last_align, line_h)
                break
            c = chars[i]
            if c == "\n":
                i += 1
                emit(line, units, spaces, last_align, max(line_h, height), trailing_nl=True)
                break
            char_width = units_of[i] * size_pt * 0.001 / k
            current: float = 0 if line is None else units * size_pt * 0.001 / k
            if (current + char_width) - limit > _TOLERANCE:
                if line is None:
                    return None  # one character wider than the line: fpdf2 decides (or fails)
                if c in BREAKING_SPACE_SYMBOLS_STR:
                    i += 1
                    emit(line, units, spaces, align, line_h)
                elif hint is not None:
                    at, i, spaces = hint
                    i += 1
                    del line[at:]
                    units = sum(units_of[start : start + at])
                    emit(line, units, spaces, align, line_h)
                else:  # no space on the line: fpdf2 breaks before this character
                    emit(line, units, spaces, last_align, line_h)
                break
            if line is None:
                line = []
            if c in BREAKING_SPACE_SYMBOLS_STR:
                hint = (len(line), i, spaces)
                spaces += 1
            line.append(c)
            units += units_of[i]
            line_h = height
            i += 1
    return lines


def glyph_units(font: TTFFont | CoreFont, chars: Sequence[str]) -> list[float] | None:
    """Each character's width in font units (integers), as fpdf2 measures it; None for a
    symbol font (fpdf2 maps its text first) or a character the font has no width for."""
    try:
        if isinstance(font, CoreFont):
            return list(map(font.cw.__getitem__, chars))
        if font.is_symbol:
            return None
        return list(map(font.cw.__getitem__, map(ord, chars)))
    except (IndexError, KeyError):
        return None


def note_size(font: TTFFont | CoreFont, size_pt: float) -> None:
    """What measuring a text at ``size_pt`` tells a TrueType font in fpdf2."""
    if isinstance(font, TTFFont) and size_pt > font.biggest_size_pt:
        font.biggest_size_pt = size_pt
