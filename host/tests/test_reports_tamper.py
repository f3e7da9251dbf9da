"""Tamper evidence in reports: an altered record is refused, or marked on every page and in
every export when asked; certificates are never issued from it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pypdfium2
import pytest

from meterbench.reports import ChainBrokenError, load_context, render_certificates, render_report
from meterbench.reports.record import build_record
from meterbench.results import ResultsStore

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, RUN_B, build_database, tamper  # noqa: E402


@pytest.fixture(scope="module")
def altered(tmp_path_factory):
    """RUN-A with one reading changed from -0.35 to -0.05 (RUN-B untouched)."""
    path = build_database(tmp_path_factory.mktemp("tamper") / "results.db")
    tamper(
        path,
        "UPDATE reading SET result_value = '-0.05' WHERE run_id = ? AND result_value = '-0.35'",
        RUN_A,
    )
    return path


def test_reports_refuse_an_altered_run(altered, tmp_path):
    with ResultsStore.open(altered, create=False) as store:
        for fmt in ("html", "pdf", "csv", "json"):
            with pytest.raises(ChainBrokenError, match="content changed: reading"):
                render_report(store, RUN_A, tmp_path, fmt)
        assert render_report(store, RUN_B, tmp_path, "json")  # other runs are unaffected
    assert not list(tmp_path.glob("*RUN-A*"))


def test_marked_reports_say_so_everywhere(altered, tmp_path):
    with ResultsStore.open(altered, create=False) as store:
        ctx = load_context(store, RUN_A, "zh", on_broken="mark")
        doc = build_record(ctx, ctx.meter("SN0002"))
        assert not doc.chain_ok and "哈希链校验失败" in doc.text() and "-0.05 %" in doc.text()
        pdf = render_report(store, RUN_A, tmp_path, "pdf", meter="SN0002", on_broken="mark")
        (exported,) = render_report(store, RUN_A, tmp_path, "json", on_broken="mark")
        with pytest.raises(ChainBrokenError):
            render_certificates(store, RUN_A, tmp_path)
    document = pypdfium2.PdfDocument(pdf[0].read_bytes())
    pages = [page.get_textpage().get_text_range() for page in document]
    document.close()
    assert all("HASH CHAIN BROKEN" in page for page in pages)  # every page, in its header
    assert "content changed" in pages[0]
    data = json.loads(exported.read_text("utf-8"))
    assert (
        data["integrity"]["chain_ok"] is False and "content changed" in data["integrity"]["problem"]
    )
    assert {row["chain_ok"] for row in data["rows"]} == {False}
