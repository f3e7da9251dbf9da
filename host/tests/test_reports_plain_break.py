"""`plain_break` gives fpdf2's own lines, field for field and float for float: texts of
Chinese, Latin words, numbers, long unbroken runs, runs of spaces, tabs and newlines, in
the TrueType font and in Courier (a core font), in random widths, margins, alignments,
sizes and line heights, compared with fpdf2's
`MultiLineBreak` (its own `CurrentLine`, not the faster one)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
from fpdf import FPDF
from fpdf.enums import Align, WrapMode
from fpdf.line_break import MultiLineBreak, TextLine
from hypothesis import given, settings
from hypothesis import strategies as st

from meterbench.reports import linebreak
from meterbench.reports.fonts import subset_fonts
from meterbench.reports.plain_break import break_plain

pytestmark = pytest.mark.skipif(not linebreak.supported(), reason="fpdf2 not checked")

PIECES = ["电能表", "基本误差", "合格", "Imax", "0.5Ib", "±1.0 %", "走字", "a", "W", "1", "."]
ALPHABET = "".join(PIECES) + " \t\n"


@cache
def pdf_with_font() -> FPDF:
    fonts = subset_fonts(ALPHABET + "\u00ad")
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("sans", "", str(fonts.path), collection_font_number=fonts.face)
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.add_page()
    return pdf


def described(lines: list[TextLine]) -> list[tuple[object, ...]]:
    """Every field of every line, floats by repr (so 0 and 0.0 differ, as in a PDF they may)."""
    out = []
    for line in lines:
        fragments = [
            (tuple(f.characters), f.link, f.k, id(f.graphics_state)) for f in line.fragments
        ]
        fields = [repr(value) for value in line[1:]]
        out.append((fragments, *fields))
    return out


def stock_lines(breaker: MultiLineBreak) -> list[TextLine]:
    lines = []
    while (line := breaker.get_line()) is not None:
        lines.append(line)
    return lines


texts = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(alphabet="电能a1W", min_size=1, max_size=80),  # long runs without a space
        st.sampled_from([" ", "  ", "\t", "\n", "\n\n", " \n"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    text=texts,
    width=st.sampled_from([8.0, 12.5, 20.0, 33.3, 47.5, 90.0, 180.0]),
    margins=st.sampled_from([(), (1.0, 1.0), (0.6, 1.0), (1e-9,)]),
    align=st.sampled_from([Align.L, Align.C, Align.R, Align.J]),
    size=st.sampled_from([6.5, 8.5, 9.5, 13.0]),
    line_height=st.sampled_from([1.0, 1.2, 0.0]),
    link=st.sampled_from([None, "https://example.org", 3]),
    family=st.sampled_from(["sans", "sans", "courier"]),
)
def test_plain_text_breaks_into_fpdf2s_own_lines(
    text, width, margins, align, size, line_height, link, family
):
    pdf = pdf_with_font()
    pdf.set_font(family, size=size)
    if family == "courier":  # a PDF core font: Latin-1 only, its widths keyed by character
        text = text.encode("ascii", "replace").decode()
    fragments = pdf._preload_font_styles(text, markdown=False)
    for fragment in fragments:
        fragment.link = link
    arguments = (fragments, width, margins, align, False, WrapMode.WORD, line_height, False, 0)
    with linebreak.stock_line_breaking():
        expected = stock_lines(MultiLineBreak(*arguments))
    got = break_plain(*arguments)
    assert got is not None, "plain text must take the direct path"
    assert described(got) == described(expected)


def test_a_character_wider_than_the_line_is_left_to_fpdf2():
    pdf = pdf_with_font()
    pdf.set_font("sans", size=13.0)
    fragments = pdf._preload_font_styles("电能表", markdown=False)
    assert break_plain(fragments, 3.0, (), Align.L, False, WrapMode.WORD, 1.0, False, 0) is None


@pytest.mark.parametrize(
    "text, wrapmode, indent",
    [
        ("软\u00ad连字符", WrapMode.WORD, 0),  # a soft hyphen may become a printed hyphen
        ("电能表 合格", WrapMode.CHAR, 0),
        ("电能表 合格", WrapMode.WORD, 2.0),
    ],
)
def test_what_plain_break_does_not_reproduce_is_left_to_fpdf2(text, wrapmode, indent):
    pdf = pdf_with_font()
    pdf.set_font("sans", size=9.5)
    fragments = pdf._preload_font_styles(text, markdown=False)
    arguments = (fragments, 40.0, (), Align.L, False, wrapmode, 1.0, False, indent)
    assert break_plain(*arguments) is None
