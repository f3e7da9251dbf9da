"""HTML reports: one self-contained file with the plots inline (SVG elements), stored text escaped,
the CJK font embedded; opened in headless Chromium when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meterbench.reports import load_context
from meterbench.reports.render import report_documents, write_documents
from meterbench.results import ResultsStore

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import HOSTILE, RUN_X, build_database  # noqa: E402

SVG = re.compile(r"<svg role=\"img\".*?</svg>", re.S)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    with ResultsStore.open(build_database(out / "results.db"), create=False) as store:
        ctx = load_context(store, RUN_X, "zh")
    paths = write_documents(report_documents(ctx), out / "reports", ["html"])
    return ctx, paths


def test_batch_report_has_both_plots_inline(pages):
    ctx, paths = pages
    html = paths[0].read_text("utf-8")
    charts = SVG.findall(html)
    assert len(charts) == 2  # error vs load point per meter, distribution per point
    for svg in charts:
        assert "<circle" in svg and "<polyline" in svg and "<text" in svg
    # the labels are drawn by the page's embedded font subset, which holds their characters
    assert ctx.labels("axis_error") in charts[0] and "@font-face" in html


def test_stored_text_is_escaped_and_the_font_embedded(pages):
    ctx, paths = pages
    record = next(p for p in paths if "SN0003" in p.name).read_text("utf-8")
    assert "<script>" not in record
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 断线" in record
    assert HOSTILE not in record
    assert "@font-face" in record and "data:font/ttf;base64," in record
    assert ctx.integrity.final_hash in record and "原始记录" in record
    assert f'name="meterbench-final-hash" content="{ctx.integrity.final_hash}"' in record


def test_html_is_reproducible(pages, tmp_path):
    ctx, paths = pages
    again = write_documents(report_documents(ctx), tmp_path, ["html"])
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt chromium)")
def test_batch_report_opens_in_a_browser_and_shows_the_plots(pages, tmp_path):
    from PIL import Image

    assert CHROMIUM is not None
    _, paths = pages
    shot = tmp_path / "batch.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1100,3200",
            paths[0].as_uri(),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    with Image.open(shot) as picture:
        rgb = picture.convert("RGB")
        pixels = rgb.tobytes()
    # the plots' blue markers and orange batch-mean diamonds (the page itself is grey/black)
    colours = [pixels[i : i + 3] for i in range(0, len(pixels), 3)]
    blue = sum(1 for r, g, b in colours if b > 150 and r < 90 and g < 160)
    orange = sum(1 for r, g, b in colours if r > 200 and 90 < g < 160 and b < 60)
    assert blue > 20 and orange > 20, (blue, orange)
