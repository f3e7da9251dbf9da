"""The batch plots show the stored values: each meter's mean error at each point, the batch
mean, the MPE limits; the same chart is drawn into the PDF (as vectors, with the embedded
font) and as SVG. Read back through the chart's axes, not from pixels."""

from __future__ import annotations

import dataclasses
import io
import sys
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from meterbench.reports import load_context
from meterbench.reports.chart import Chart, Label, Line, Mark, nice_ticks
from meterbench.reports.context import ReportContext
from meterbench.reports.document import Document
from meterbench.reports.pdf import render_pdf
from meterbench.reports.plots import error_plots
from meterbench.results import LimitKind, ResultsStore

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import MEANS, RUN_A, build_database  # noqa: E402


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> ReportContext:
    out = tmp_path_factory.mktemp("plots")
    with ResultsStore.open(build_database(out / "results.db"), create=False) as store:
        return load_context(store, RUN_A, "en")


def _shown(chart: Chart, shape: Mark) -> float:
    assert chart.axes is not None
    return chart.axes.value_at(shape.y)


def _mpe(ctx: ReportContext) -> tuple[Decimal, Decimal]:
    (c, *_) = [
        c
        for c in ctx.record.conclusions
        if c.limit_kind is LimitKind.MPE and c.step_key.startswith("basic_error")
    ]
    assert c.lower is not None and c.upper is not None
    return c.lower, c.upper


def test_per_meter_plot_shows_each_meters_mean_and_the_limits(ctx) -> None:
    per_meter, _ = (image.chart for image in error_plots(ctx))
    marks = {m.key: m for m in per_meter.shapes if isinstance(m, Mark) and m.role == "meter"}
    assert set(marks) == {(position, 0) for position in MEANS}
    for position, mean in MEANS.items():
        assert _shown(per_meter, marks[position, 0]) == pytest.approx(float(mean))
    assert per_meter.axes is not None
    lower, upper = _mpe(ctx)
    limits = {s.key: s for s in per_meter.shapes if isinstance(s, Line) and s.role == "limit"}
    assert set(limits) == {"lower", "upper"}
    for side, value in (("lower", lower), ("upper", upper)):
        ys = {y for _, y in limits[side].points}
        assert len(ys) == 1 and per_meter.axes.value_at(ys.pop()) == pytest.approx(float(value))
    printed = {s.text for s in per_meter.shapes if isinstance(s, Label)}
    assert {ctx.labels("mpe_band"), ctx.labels("axis_error"), ctx.labels("axis_point")} <= printed
    assert {f"{m.position.position} · {m.label}" for m in ctx.meters} <= printed


def test_distribution_plot_shows_every_value_and_the_batch_mean(ctx) -> None:
    _, spread = (image.chart for image in error_plots(ctx))
    dots = [s for s in spread.shapes if isinstance(s, Mark) and s.role == "meter"]
    assert sorted(_shown(spread, d) for d in dots) == pytest.approx(
        sorted(float(v) for v in MEANS.values())
    )
    (mean,) = [s for s in spread.shapes if isinstance(s, Mark) and s.role == "batch_mean"]
    expected = sum(MEANS.values()) / len(MEANS)
    assert _shown(spread, mean) == pytest.approx(float(expected))


def test_the_pdf_draws_the_chart_with_its_labels_and_no_raster(ctx) -> None:
    images = error_plots(ctx)
    doc = Document("plots", "test", "en", "plots", ctx.run_id, "", True).add(*images)
    data = render_pdf(doc)
    pages = pypdfium2.PdfDocument(data)
    try:
        text = "".join(page.get_textpage().get_text_range() for page in pages)
    finally:
        pages.close()
    assert text.count(ctx.labels("axis_error")) == 2 and ctx.labels("batch_mean") in text
    assert not [img for page in PdfReader(io.BytesIO(data)).pages for img in page.images]


def test_the_svg_has_one_marker_per_mark(ctx) -> None:
    for image in error_plots(ctx):
        marks = [s for s in image.chart.shapes if isinstance(s, Mark)]
        svg = image.svg
        assert svg.startswith("<?xml") and svg.count("<circle") + svg.count("<path") == len(marks)


@pytest.mark.parametrize(
    ("low", "high", "first", "last"), [(-0.3, 0.15, -0.3, 0.2), (-2.1, 2.1, -3.0, 3.0)]
)
def test_ticks_are_round_and_cover_the_range(low, high, first, last) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert ticks[0] == pytest.approx(first) and ticks[-1] == pytest.approx(last)


def test_parallel_rendering_gives_the_same_files_as_serial(tmp_path) -> None:
    from meterbench.reports.parallel import PARALLEL_FROM
    from meterbench.reports.render import report_documents, write_documents

    with ResultsStore.open(build_database(tmp_path / "results.db"), create=False) as store:
        docs = report_documents(load_context(store, RUN_A, "zh"))
    docs = (docs * PARALLEL_FROM)[:PARALLEL_FROM]  # enough jobs to start workers
    docs = [dataclasses.replace(d, stem=f"{d.stem}-{k}") for k, d in enumerate(docs)]
    serial = write_documents(docs, tmp_path / "serial", ["html", "pdf"], workers=1)
    parallel = write_documents(docs, tmp_path / "parallel", ["html", "pdf"], workers=2)
    assert [p.name for p in serial] == [p.name for p in parallel]
    assert len(serial) == 2 * len(docs)
    for one, other in zip(serial, parallel, strict=True):
        assert one.read_bytes() == other.read_bytes(), one.name
