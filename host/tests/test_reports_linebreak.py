"""The faster line breaking gives the PDFs fpdf2's own line breaking gives: the same page
content (text, positions, line breaks) and the same bytes, for the sample run's record,
certificate, notice and batch report, with the line cache cold and warm, and for random
paragraphs (Chinese, Latin words, long unbroken runs, newlines, non-breaking and soft
hyphens, underlined runs, Courier, coloured and stroked text) in random widths, alignments,
paddings, line heights and positions after the cell. Since the speed-ups also write plain
cells directly, the comparisons are with every stock path (`pdf.stock_paths`)."""

from __future__ import annotations

import io
import random
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos
from fpdf.util import Padding
from pypdf import PdfReader

from meterbench.reports import linebreak
from meterbench.reports.fonts import subset_fonts
from meterbench.reports.pdf import clear_caches, render_pdf, stock_paths

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import sample_documents  # noqa: E402

pytestmark = pytest.mark.skipif(not linebreak.supported(), reason="fpdf2 not checked")


def page_contents(pdf: bytes) -> list[bytes]:
    """Each page's drawing operators, decompressed: text, positions, lines, colours."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        contents = page.get_contents()
        assert contents is not None
        pages.append(contents.get_data())
    return pages


def assert_same_pdf(stock: bytes, fast: bytes, name: str) -> None:
    assert page_contents(fast) == page_contents(stock), f"{name}: page content differs"
    assert fast == stock, f"{name}: bytes differ"


def assert_fast_path_is_stock(
    make: Callable[[], bytes], stock: AbstractContextManager[None], clear: Callable[[], None]
) -> None:
    """``make()`` gives the same PDF on the stock path and on the fast one, cold and warm."""
    with stock:
        expected = make()
    clear()
    assert_same_pdf(expected, make(), "cold")
    assert_same_pdf(expected, make(), "warm")


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    return sample_documents(tmp_path_factory.mktemp("documents") / "results.db")


def test_documents_are_the_same_with_cold_and_warm_line_cache(documents):
    docs, fonts = documents
    with stock_paths():
        stock = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    clear_caches()
    cold = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    assert linebreak.cache_size() > 0  # the faster path did run
    warm = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    for name in docs:
        assert_same_pdf(stock[name], cold[name], f"{name} (cold)")
        assert_same_pdf(stock[name], warm[name], f"{name} (warm)")


def test_the_record_breaks_long_paragraphs_over_several_lines(documents):
    """The comparison above is only worth something if the record has wrapped text."""
    docs, fonts = documents
    pdf = render_pdf(docs["record"], fonts)
    lines = sum(page.count(b" Tj") + page.count(b" TJ") for page in page_contents(pdf))
    assert lines > 100


WORDS = ["电能表", "基本误差", "合格", "Imax", "0.5Ib", '"current_a":', "P+", "±1.0 %", "走字"]


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 60)):
        roll = rng.random()
        if roll < 0.55:
            parts.append(rng.choice(WORDS))
        elif roll < 0.65:
            parts.append("".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(1, 90))))
        elif roll < 0.72:
            parts.append("\n")
        elif roll < 0.77:
            parts.append("\u00a0")  # no-break space
        elif roll < 0.82:
            parts.append("\u00ad")  # soft hyphen
        elif roll < 0.87:
            parts.append(f"--{rng.choice(WORDS)}--")  # underlined in markdown
        else:
            parts.append(" " * rng.randint(1, 3))
    return "".join(parts)


def blank_pdf(fonts_path: Path, face: int) -> FPDF:
    """A one-page PDF with the cut font as "sans" and a fixed date (for byte comparisons)."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("sans", "", str(fonts_path), collection_font_number=face)
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.add_page()
    return pdf


def paragraphs_pdf(fonts_path: Path, face: int, seed: int) -> bytes:
    rng = random.Random(seed)
    pdf = blank_pdf(fonts_path, face)
    # each text drawn several times, in other widths; some in Courier (a core font)
    texts = [random_text(rng) for _ in range(10)] + ["0x68 0x11 ab" * 20, "12 34\n" * 9]
    for _ in range(60):
        text = rng.choice(texts)
        family = "courier" if text.isascii() and rng.random() < 0.5 else "sans"
        pdf.set_font(family, size=rng.choice([6.5, 8.5, 9.5, 13.0]))
        pdf.text_mode = rng.choice([TextMode.FILL, TextMode.FILL, TextMode.FILL_STROKE])
        pdf.set_text_color(*rng.choice([(0, 0, 0), (179, 38, 30)]))
        pdf.multi_cell(
            rng.choice([8.0, 20.0, 47.5, 90.0, 180.0]),
            rng.choice([3.2, 4.2]),
            text,
            align=rng.choice("LCRJ"),
            markdown=rng.random() < 0.3,
            padding=rng.choice([Padding(), Padding(0.6, 1.0, 0.6, 1.0)]),
            max_line_height=rng.choice([None, None, 1.5]),
            new_x=rng.choice([XPos.LMARGIN, XPos.LMARGIN, XPos.RIGHT, XPos.LEFT]),
            new_y=rng.choice([YPos.NEXT, YPos.NEXT, YPos.TOP]),
        )
        if pdf.x > pdf.w / 2 or pdf.y < pdf.t_margin + 5:  # after a cell that stayed put
            pdf.set_xy(pdf.l_margin, pdf.y + 5)
    return bytes(pdf.output())


@pytest.mark.parametrize("seed", range(4))
def test_random_paragraphs_break_as_fpdf2_breaks_them(seed):
    words = "".join(WORDS) + "0123456789abcdef-\u00a0"
    fonts = subset_fonts(words)
    assert_fast_path_is_stock(
        lambda: paragraphs_pdf(fonts.path, fonts.face, seed),
        stock_paths(),
        clear_caches,
    )


def test_unchecked_fpdf2_keeps_its_own_line_breaking(monkeypatch):
    import fpdf
    from fpdf import fpdf as fpdf_module
    from fpdf import line_break

    monkeypatch.setattr(fpdf, "FPDF_VERSION", "0.0.1")
    with linebreak.stock_line_breaking():
        linebreak.install()
        assert line_break.CurrentLine is not linebreak.FastLine
        assert getattr(fpdf_module, "MultiLineBreak") is not linebreak.CachedLineBreak  # noqa: B009


def test_cache_keeps_at_most_its_size_and_still_breaks_alike(monkeypatch):
    fonts = subset_fonts("".join(WORDS) + "0123456789abcdef-\u00a0")
    with stock_paths():
        stock = paragraphs_pdf(fonts.path, fonts.face, 7)
    monkeypatch.setattr(linebreak, "CACHE_SIZE", 3)
    linebreak.clear_cache()
    assert_same_pdf(stock, paragraphs_pdf(fonts.path, fonts.face, 7), "small cache")
    assert linebreak.cache_size() == 3


def test_stock_line_breaking_before_the_renderer_is_imported_keeps_the_fast_paths():
    """The renderer installs the fast paths when first imported: imported while fpdf2's own
    line breaking was switched on for a comparison, leaving the comparison must not undo the
    install (it did: every later PDF of the process was broken the slow way)."""
    import subprocess

    script = (
        "from fpdf import line_break\n"
        "from meterbench.reports import linebreak\n"
        "with linebreak.stock_line_breaking():\n"
        "    from meterbench.reports import pdf\n"
        "    assert line_break.CurrentLine is not linebreak.FastLine\n"
        "print(line_break.CurrentLine is linebreak.FastLine or not linebreak.supported())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
