"""PDFs from a stored run alone: the text extracts (key values and Chinese labels), the CJK
font is embedded as a subset from the pip-installed package, a page renders to a non-blank
image, and rendering again gives the same bytes."""

from __future__ import annotations

import dataclasses
import io
import logging
import sys
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from meterbench.reports import load_context
from meterbench.reports.certificate import build_certificate
from meterbench.reports.fonts import subset_fonts
from meterbench.reports.labels import Labels
from meterbench.reports.pdf import pdf_text, render_pdf
from meterbench.reports.record import build_record
from meterbench.reports.render import report_documents, write_documents
from meterbench.results import ResultsStore

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, STANDARD_CERT, build_database  # noqa: E402


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Chinese record, certificate and notice of the sample run, rendered once (the font cut
    once for the three, as `render_run` does), with fpdf2's warnings collected."""
    path = build_database(tmp_path_factory.mktemp("pdf") / "results.db")
    with ResultsStore.open(path, create=False) as store:
        ctx = load_context(store, RUN_A, "zh")
    docs = {
        "record": build_record(ctx, ctx.meter("SN0002")),
        "certificate": build_certificate(ctx, ctx.meter("SN0001")),
        "notice": build_certificate(ctx, ctx.meter("SN0002")),
    }
    fonts = subset_fonts("".join(pdf_text(doc) for doc in docs.values()))
    handler = _Warnings()
    logging.getLogger("fpdf").addHandler(handler)
    try:
        pdfs = {name: render_pdf(doc, fonts) for name, doc in docs.items()}
    finally:
        logging.getLogger("fpdf").removeHandler(handler)
    return ctx, pdfs, docs, fonts, handler.messages


def text_of(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_record_text_has_key_values_and_chinese_labels(rendered):
    ctx, pdfs, *_ = rendered
    text = text_of(pdfs["record"])
    for expected in (
        "原始记录",
        "基本误差",
        "走字试验",
        "SN0002",
        "-0.35 %",
        "-0.4 %",
        "±2.0 %",
        "±1.2 %",
        "不合格",
        "合格",
        STANDARD_CERT,
        ctx.integrity.final_hash,
        "计度器走快",  # the stored reason, in Chinese
    ):
        assert expected in text, expected


def test_certificate_and_notice_text(rendered):
    ctx, pdfs, *_ = rendered
    certificate, notice = text_of(pdfs["certificate"]), text_of(pdfs["notice"])
    assert "检定证书" in certificate and "sim-1p-24-2026-C00001" in certificate
    assert "检定结果通知书" in notice and "sim-1p-24-2026-N00002" in notice
    for text in (certificate, notice):
        assert STANDARD_CERT in text and ctx.integrity.final_hash in text
        assert "所用计量标准" in text and "检定结果" in text
    assert "+0.2 %" in certificate and "±2.0 %" in certificate
    assert len(PdfReader(io.BytesIO(pdfs["certificate"])).pages) == 3  # identity, standard, results


def test_cjk_font_is_embedded_as_a_subset(rendered):
    _, pdfs, *_ = rendered
    reader = PdfReader(io.BytesIO(pdfs["record"]))
    fonts, standard = {}, set()
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        page_fonts = resources["/Font"].get_object()
        assert isinstance(page_fonts, DictionaryObject)
        for font in page_fonts.values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/")
            if font["/Subtype"] == "/Type1":  # a PDF standard font: Courier for hex and counts
                standard.add(name)
                continue
            descendant = font["/DescendantFonts"][0].get_object()
            fonts[name] = descendant["/FontDescriptor"].get_object()
    assert fonts, "no embedded font"
    assert standard <= {"Courier"}
    for name, descriptor in fonts.items():
        assert name[6] == "+" and "NotoSans" in name, name  # 'ABCDEF+NotoSansCJK...'
        assert any(k in descriptor for k in ("/FontFile2", "/FontFile3")), name


def test_no_glyph_is_missing(rendered):
    *_, warnings = rendered
    assert not [w for w in warnings if "missing" in w.lower()], warnings


def test_page_renders_to_a_non_blank_image(rendered):
    _, pdfs, *_ = rendered
    document = pypdfium2.PdfDocument(pdfs["certificate"])
    image = document[0].render(scale=1).to_pil().convert("L")
    document.close()
    dark = sum(1 for value in image.tobytes() if value < 128)
    assert dark > 0.004 * image.width * image.height  # text, not an empty page


def test_rendering_again_gives_the_same_bytes(rendered):
    _, pdfs, docs, fonts, _ = rendered
    assert render_pdf(docs["certificate"], fonts) == pdfs["certificate"]


def test_whole_collection_when_no_subset_is_given(rendered):
    """One document alone (`meterbench certificate RUN --meter X`) reads the collection."""
    ctx, _, docs, _, _ = rendered
    text = text_of(render_pdf(docs["certificate"]))
    assert "检定证书" in text and ctx.integrity.final_hash in text


def test_batch_report_pdf_with_plots_and_subset_fonts(tmp_path, rendered):
    ctx, *_ = rendered
    en = dataclasses.replace(ctx, labels=Labels("en"))
    paths = write_documents(report_documents(en), tmp_path, ["pdf"])
    assert len(paths) == 3  # batch report + two records: fonts are cut once for all
    batch = paths[0].read_bytes()
    text = text_of(batch)
    # error vs point and distribution, drawn as vectors with the document's font
    assert text.count("Error (%)") == 2 and "batch mean" in text
    assert "Batch verification report" in text and "-0.075 %" in text
    assert ctx.integrity.final_hash in text
