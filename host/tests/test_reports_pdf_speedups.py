"""The PDF speed-ups give fpdf2's own bytes: table cell heights looked up instead of rendered
in a dry run (`table_heights`), plain multi-cells written directly (`plain_cell`), and each
PDF's font written without re-encoding its glyphs (`font_embed`). Compared against stock
fpdf2 and fontTools for the sample run's record, certificate, notice and batch report, with
the caches cold and warm, for random tables long enough to break pages (cached heights met
again near a page's foot), for a text within a hair of its cell's width, and for random
paragraphs (tests/test_reports_linebreak.py)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from fpdf import FontFace
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont
from fpdf.util import Padding
from test_reports_linebreak import (
    WORDS,
    assert_fast_path_is_stock,
    assert_same_pdf,
    blank_pdf,
    page_contents,
)

from meterbench.reports import font_embed, plain_cell, table_heights
from meterbench.reports.fonts import subset_fonts
from meterbench.reports.pdf import clear_caches, render_pdf, stock_paths

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import sample_documents  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (table_heights.supported() and font_embed.supported()), reason="versions not checked"
)


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    return sample_documents(tmp_path_factory.mktemp("documents") / "results.db")


def test_documents_are_fpdf2s_own_with_cold_and_warm_caches(documents):
    docs, fonts = documents
    with stock_paths():
        expected = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    clear_caches()
    cold = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    assert table_heights.cache_size() > 0  # the look-up did run
    warm = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    for name in docs:
        assert_same_pdf(expected[name], cold[name], f"{name} (cold)")
        assert_same_pdf(expected[name], warm[name], f"{name} (warm)")


def test_fonts_are_written_without_recalculation(documents, monkeypatch):
    """The quick path is the one taken (the comparison above would pass without it)."""
    docs, fonts = documents
    taken = []
    quick = font_embed.embed_quickly

    def spy(font, *args, **kwargs):
        taken.append(font.recalcBBoxes)
        return quick(font, *args, **kwargs)

    monkeypatch.setattr(font_embed, "embed_quickly", spy)
    render_pdf(docs["certificate"], fonts)
    assert taken == [True]  # called once, and it switched recalculation off itself


def random_cell(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
    if rng.random() < 0.2:
        words.append("".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(1, 60))))
    return " ".join(words)


def tables_pdf(fonts_path: Path, face: int, seed: int) -> bytes:
    rng = random.Random(seed)
    pdf = blank_pdf(fonts_path, face)
    # few texts, the same in every seed's tables: most heights are met again, also in the
    # tables of other seeds
    pool = random.Random(0)
    cells = [random_cell(pool) for _ in range(25)]
    mono = FontFace(family="courier", size_pt=7.0)
    red = FontFace(color=(179, 38, 30))
    for _ in range(14):
        pdf.set_font("sans", size=rng.choice([7.5, 8.0, 8.5]))
        columns = rng.randint(1, 6)
        widths = tuple(rng.choice([1.0, 1.6, 2.0, 4.2]) for _ in range(columns))
        with pdf.table(
            col_widths=widths,
            width=pdf.epw,
            line_height=rng.choice([3.4, 3.8, 4.2]),
            padding=rng.choice([(0.6, 1.0), (0.6, 1.2)]),
            text_align=rng.choice(["LEFT", "CENTER", "RIGHT"]),
            headings_style=FontFace(fill_color=(230, 236, 242)),
            repeat_headings=1,
        ) as table:
            for _ in range(rng.randint(2, 30)):
                row = table.row()
                for _ in range(columns):
                    text = rng.choice(cells)
                    style = mono if text.isascii() and rng.random() < 0.3 else None
                    row.cell(text, style=style or (red if rng.random() < 0.2 else None))
        pdf.ln(rng.choice([0.0, 1.5, 7.0]))
    return bytes(pdf.output())


@pytest.mark.parametrize("seed", range(4))
def test_random_tables_lay_out_as_fpdf2_lays_them_out(seed):
    fonts = subset_fonts("".join(WORDS) + "0123456789abcdef")
    assert_fast_path_is_stock(
        lambda: tables_pdf(fonts.path, fonts.face, seed), stock_paths(), clear_caches
    )


def mono_cells_pdf(fonts_path: Path, face: int, texts: list[str]) -> bytes:
    pdf = blank_pdf(fonts_path, face)
    pdf.set_font("sans", size=8.0)
    with pdf.table(
        col_widths=(1.0, 2.0), width=pdf.epw, line_height=4.0, first_row_as_headings=False
    ) as table:
        for text in texts:
            row = table.row()
            row.cell("值")
            row.cell(text, style=FontFace(family="courier", size_pt=7.0))
    return bytes(pdf.output())


def test_a_height_cached_in_another_pdf_sets_its_font_as_fpdf2_would():
    """A Courier cell first met where Courier had been set already, then met first of all
    Courier cells in another PDF: fpdf2 sets Courier there in the dry run (the PDF's second
    font), so the look-up must leave that to fpdf2."""
    fonts = subset_fonts("值" + "0123456789abcdef")
    documents = [["0x68 0x11", "ab cd ef"], ["ab cd ef"]]
    with stock_paths():
        expected = [mono_cells_pdf(fonts.path, fonts.face, texts) for texts in documents]
    clear_caches()
    for texts, pdf in zip(documents, expected, strict=True):
        assert_same_pdf(pdf, mono_cells_pdf(fonts.path, fonts.face, texts), texts[0])


def test_unchecked_versions_keep_the_stock_paths(monkeypatch):
    import fontTools
    import fpdf

    monkeypatch.setattr(fpdf, "FPDF_VERSION", "0.0.1")
    monkeypatch.setattr(fontTools, "version", "0.0.1")
    assert not table_heights.supported() and not font_embed.supported()
    assert not plain_cell.supported()


def written_directly(monkeypatch) -> list[bool]:
    """Whether each multi-cell was written by `plain_cell` (True) or by fpdf2."""
    taken: list[bool] = []
    write = plain_cell._write

    def spy(pdf, **kwargs):
        written = write(pdf, **kwargs)
        taken.append(written is not None)
        return written

    monkeypatch.setattr(plain_cell, "_write", spy)
    return taken


def test_cells_and_paragraphs_of_the_documents_are_written_directly(documents, monkeypatch):
    """The direct path is the one taken for most cells (the comparisons would pass without)."""
    docs, fonts = documents
    taken = written_directly(monkeypatch)
    clear_caches()
    render_pdf(docs["record"], fonts)
    assert taken.count(True) > 0.9 * len(taken) and False in taken


def edge_pdf(fonts_path: Path, face: int, text: str, line_width: float) -> bytes:
    """One cell whose text leaves ``line_width`` mm for it (padding 1 mm each side)."""
    pdf = blank_pdf(fonts_path, face)
    pdf.set_font("sans", size=8.0)
    with pdf.table(
        col_widths=(1.0,),
        width=line_width + 2.0,
        padding=(0.6, 1.0),
        text_align="LEFT",
        first_row_as_headings=False,
    ) as table:
        table.row().cell(text)
    return bytes(pdf.output())


@pytest.mark.parametrize("slack", [-1e-3, -5e-4, -1e-6, -1e-10, 0.0, 1e-8, 5e-7, 2e-6, 1e-3])
def test_a_text_within_a_hair_of_its_width_breaks_as_fpdf2_breaks_it(slack, monkeypatch):
    """Where fpdf2's float rounding and tolerance decide between one line and two, the
    direct path decides alike."""
    text = "检定合格 0.123"
    fonts = subset_fonts(text)
    pdf = blank_pdf(fonts.path, fonts.face)
    pdf.set_font("sans", size=8.0)
    width = pdf.get_string_width(text) + slack
    taken = written_directly(monkeypatch)
    assert_fast_path_is_stock(
        lambda: edge_pdf(fonts.path, fonts.face, text, width),
        stock_paths(),
        clear_caches,
    )
    assert taken and all(taken)


@pytest.mark.parametrize("slack", [-0.3, -1e-6, 0.0, 1e-6, 0.3])
def test_a_paragraph_at_a_pages_foot_breaks_the_page_as_fpdf2_does(slack, monkeypatch):
    """Its last line (plus the top and bottom padding) ends ``slack`` mm past where fpdf2
    breaks the page: fpdf2 breaks it there, and the direct path must leave that to fpdf2
    (at 0 the float rounding decides, and the bytes must still agree)."""
    text = "检定合格 0.123\n第二行"
    fonts = subset_fonts(text + "后续")

    def make() -> bytes:
        pdf = blank_pdf(fonts.path, fonts.face)
        pdf.set_font("sans", size=8.0)
        padding = Padding(0.6, 1.0, 0.4, 1.0)
        pdf.set_y(pdf.page_break_trigger - (0.6 + 4.2 + 4.2 + 0.4) + slack)
        pdf.multi_cell(60.0, 4.2, text, padding=padding, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(60.0, 4.2, "后续", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return bytes(pdf.output())

    taken = written_directly(monkeypatch)
    assert_fast_path_is_stock(make, stock_paths(), clear_caches)
    assert slack == 0 or taken[0] is (slack < 0)


def test_the_direct_path_knows_fpdf2s_multi_cell_parameters():
    """Positional arguments are named by this list: it must be fpdf2's, in fpdf2's order."""
    import inspect

    from fpdf import FPDF

    stock = inspect.signature(plain_cell._STOCK_MULTI_CELL).parameters
    expected = {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in stock.items()
        if name != "self"
    }
    assert list(plain_cell.PARAMETERS.items()) == list(expected.items())
    assert FPDF.multi_cell is not plain_cell._STOCK_MULTI_CELL  # installed


@pytest.mark.parametrize("family", ["courier", "sans"])
def test_justified_paragraphs_space_their_words_as_fpdf2_does(family, monkeypatch):
    """Courier (a core font) spaces words with Tw inside q ... Q, the TrueType font with
    adjustments in a TJ array; parentheses and backslashes are escaped either way."""
    text = "0x68 (0x11) ab\\cd ef " * 12 + "\n" + "12 34 " * 30
    fonts = subset_fonts(text)

    def make() -> bytes:
        pdf = blank_pdf(fonts.path, fonts.face)
        pdf.set_font(family, size=9.0)
        pdf.multi_cell(70.0, 4.2, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(179, 38, 30)
        padding = Padding(0.6, 1.0, 0.6, 1.0)
        pdf.multi_cell(50.0, 4.2, text, padding=padding, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return bytes(pdf.output())

    taken = written_directly(monkeypatch)
    assert_fast_path_is_stock(make, stock_paths(), clear_caches)
    assert len(taken) == 4 and all(taken)  # two calls, cold and warm
    assert (b" Tw " in page_contents(make())[0]) is (family == "courier")


def test_remembered_lines_give_fpdf2s_pdf_also_when_the_memory_is_full(monkeypatch):
    """Lines are remembered per text and width; a full memory starts again, a remembered
    text still tells the font its size (fpdf2 would measure it again)."""
    from test_reports_linebreak import paragraphs_pdf

    fonts = subset_fonts("".join(WORDS) + "0123456789abcdef-\u00a0")
    with stock_paths():
        expected = paragraphs_pdf(fonts.path, fonts.face, 5)
    monkeypatch.setattr(plain_cell, "CACHE_SIZE", 3)
    clear_caches()
    assert_same_pdf(expected, paragraphs_pdf(fonts.path, fonts.face, 5), "small memory")
    assert 0 < len(plain_cell._cache) <= 3
    monkeypatch.setattr(plain_cell, "CACHE_SIZE", 10_000)
    first = paragraphs_pdf(fonts.path, fonts.face, 5)
    assert_same_pdf(expected, paragraphs_pdf(fonts.path, fonts.face, 5), "remembered")
    assert_same_pdf(expected, first, "first")


def test_a_remembered_text_tells_its_font_the_size_as_fpdf2_does():
    """fpdf2 notes the biggest size a font is measured at (colour fonts are drawn for it)."""
    fonts = subset_fonts("电能表 合格")

    def biggest() -> float:
        pdf = blank_pdf(fonts.path, fonts.face)
        pdf.set_font("sans", size=13.0)
        pdf.multi_cell(40.0, 5.0, "电能表 合格", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        font = pdf.current_font
        assert isinstance(font, TTFFont)
        return font.biggest_size_pt

    with stock_paths():
        expected = biggest()
    clear_caches()
    assert biggest() == expected == 13.0  # cold
    assert biggest() == expected  # remembered
