"""Batch plots: error vs load point per meter, and the distribution of errors per point.

Each plot is a `Chart` of vector shapes, drawn as SVG in the HTML and with the PDF's own
drawing operators (and embedded font) in the PDF. Values are the meters' unrounded mean
errors of the MPE conclusions, the same values the batch statistics use.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from decimal import Decimal

from meterbench.reports.chart import (
    Axes,
    Box,
    Chart,
    Label,
    Line,
    Mark,
    nice_ticks,
    span_of,
    text_width,
    tick_text,
)
from meterbench.reports.context import ReportContext
from meterbench.reports.document import Image
from meterbench.reports.meters import steps_in_order
from meterbench.results import LimitKind, Step

ERROR_ITEMS = ("basic_error", "water_error")
WIDTH, HEIGHT = 576.0, 274.0  # points: 8 x 3.8 inches
# One colour per meter, cycled (the common ten-colour qualitative palette).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
LIMIT = "#c0392b"
DOTS = "#2980b9"
MEAN = "#e67e22"
MEDIAN = "#2c3e50"
GRID = "#d5dbe1"
AXIS = "#444444"
MUTED = "#5d6b7a"
FONT = 8.0
SMALL = 6.0


def error_plots(ctx: ReportContext) -> list[Image]:
    """Two figures per error item present in the run (basic error, water error)."""
    images: list[Image] = []
    for item in ERROR_ITEMS:
        steps = [s for s in steps_in_order(ctx.record) if s.item == item]
        if steps:
            images.append(_per_meter(ctx, item, steps))
            images.append(_distribution(ctx, item, steps))
    return images


def _point_labels(steps: Sequence[Step]) -> list[str]:
    points = [s.point for s in steps]
    return points if len(set(points)) == len(points) else [s.step_key for s in steps]


def _means(ctx: ReportContext, step: Step) -> dict[int, float]:
    """Position -> unrounded mean error at this step (MPE conclusion; missing meters left out)."""
    out: dict[int, float] = {}
    for c in ctx.record.conclusions:
        if c.step_key == step.step_key and c.limit_kind is LimitKind.MPE and c.mean is not None:
            out[c.position] = float(c.mean)
    return out


def _limits(ctx: ReportContext, step: Step) -> tuple[float | None, float | None]:
    for c in ctx.record.conclusions:
        if c.step_key == step.step_key and c.limit_kind is LimitKind.MPE:
            low = None if c.lower is None else float(c.lower)
            high = None if c.upper is None else float(c.upper)
            return low, high
    return None, None


def _frame(
    ctx: ReportContext,
    title: str,
    steps: Sequence[Step],
    values: list[float | None],
    legend: list[tuple[str, str, str]],
    columns: int,
) -> Chart:
    """Title, axes with grid and ticks, category labels and the legend at the right;
    ``legend`` rows are (text, colour, mark kind: "line", "dot", "diamond", "dash")."""
    chart = Chart(WIDTH, HEIGHT, title)
    column_w = max([text_width(t, SMALL) for t, _, _ in legend] or [0.0]) + 20
    right = WIDTH - 10 - (column_w * columns if legend else 0)
    span = span_of([0.0, *values]) or (0.0, 0.0)
    pad = (span[1] - span[0]) * 0.06 or 0.5
    ticks = nice_ticks(span[0] - pad, span[1] + pad)
    axes = Axes(50.0, 26.0, right, HEIGHT - 64.0, len(steps), ticks[0], ticks[-1])
    chart.axes = axes
    chart.add(Label((axes.left + axes.right) / 2, 15, title, FONT + 1.5, anchor="middle"))
    for tick in ticks:
        y = axes.y_of(tick)
        chart.add(Line(((axes.left, y), (axes.right, y)), GRID, 0.3, role="grid"))
        chart.add(Label(axes.left - 4, y + 2.6, tick_text(tick), FONT, anchor="end"))
    zero = axes.y_of(0.0)
    chart.add(Line(((axes.left, zero), (axes.right, zero)), AXIS, 0.6, role="zero"))
    chart.add(Box(axes.left, axes.top, axes.right - axes.left, axes.bottom - axes.top, AXIS))
    for index, text in enumerate(_point_labels(steps)):
        x = axes.x_of(index)
        chart.add(Line(((x, axes.bottom), (x, axes.bottom + 3)), AXIS, 0.6, role="tick"))
        chart.add(Label(x + 2, axes.bottom + 10, text, FONT - 0.5, anchor="end", angle=30))
    chart.add(
        Label(
            (axes.left + axes.right) / 2,
            HEIGHT - 6,
            ctx.labels("axis_point"),
            FONT,
            "#1c2530",
            "middle",
        ),
        Label(
            14,
            (axes.top + axes.bottom) / 2,
            ctx.labels("axis_error"),
            FONT,
            "#1c2530",
            "middle",
            90,
        ),
    )
    rows = -(-len(legend) // columns) if legend else 0
    for k, (text, color, kind) in enumerate(legend):
        x = right + 8 + (k // rows) * column_w
        y = axes.top + 6 + (k % rows) * (SMALL + 3.5)
        if kind in ("line", "dash"):
            dash = (3.0, 1.6) if kind == "dash" else None
            chart.add(Line(((x, y - 2), (x + 12, y - 2)), color, 0.9, dash, role="legend"))
        if kind in ("line", "dot"):
            chart.add(Mark(x + 6, y - 2, "circle", 3.0, color, role="legend"))
        if kind == "diamond":
            chart.add(Mark(x + 6, y - 2, "diamond", 5.0, color, role="legend"))
        chart.add(Label(x + 16, y, text, SMALL))
    return chart


def _limit_lines(chart: Chart, ctx: ReportContext, steps: Sequence[Step]) -> None:
    """The MPE limits as dashed steps: a level across each point's band, so a single point
    shows its limits too, joined where neighbouring points have limits."""
    axes = chart.axes
    assert axes is not None
    lows, highs = zip(*(_limits(ctx, s) for s in steps), strict=True)
    for side, values in (("upper", highs), ("lower", lows)):
        run: list[tuple[float, float]] = []
        for index, value in enumerate([*values, None]):
            if value is None:
                if run:
                    chart.add(Line(tuple(run), LIMIT, 0.9, (3.0, 1.6), role="limit", key=side))
                run = []
                continue
            y = axes.y_of(value)
            half = axes.band / 2
            run += [(axes.x_of(index) - half, y), (axes.x_of(index) + half, y)]


def _limit_values(ctx: ReportContext, steps: Sequence[Step]) -> list[float | None]:
    return [v for s in steps for v in _limits(ctx, s)]


def _per_meter(ctx: ReportContext, item: str, steps: Sequence[Step]) -> Image:
    labels = ctx.labels
    title = f"{labels.item(item)} — {labels('plot_error_vs_point')}"
    per_step = [_means(ctx, s) for s in steps]
    series = []
    for k, meter in enumerate(ctx.meters):
        number = meter.position.position
        ys = [m.get(number) for m in per_step]
        if any(y is not None for y in ys):
            series.append((number, f"{number} · {meter.label}", PALETTE[k % len(PALETTE)], ys))
    legend = [(text, color, "line") for _, text, color, _ in series]
    if any(v is not None for v in _limit_values(ctx, steps)):
        legend.append((labels("mpe_band"), LIMIT, "dash"))
    values = [y for *_, ys in series for y in ys] + _limit_values(ctx, steps)
    chart = _frame(ctx, title, steps, values, legend, 1 if len(ctx.meters) <= 14 else 2)
    axes = chart.axes
    assert axes is not None
    for number, _, color, ys in series:
        run: list[tuple[float, float]] = []
        for index, y in enumerate([*ys, None]):
            if y is None:  # a missing value breaks the line
                if len(run) > 1:
                    chart.add(Line(tuple(run), color, 0.9, role="meter", key=number))
                run = []
                continue
            run.append((axes.x_of(index), axes.y_of(y)))
            chart.add(
                Mark(
                    axes.x_of(index),
                    axes.y_of(y),
                    "circle",
                    3.0,
                    color,
                    1.0,
                    "meter",
                    (number, index),
                )
            )
    _limit_lines(chart, ctx, steps)
    return Image(title=title, chart=chart, alt=title)


def _distribution(ctx: ReportContext, item: str, steps: Sequence[Step]) -> Image:
    labels = ctx.labels
    title = f"{labels.item(item)} — {labels('plot_distribution')}"
    per_step = [_means(ctx, s) for s in steps]
    data = [list(m.values()) for m in per_step]
    legend = [(labels("batch_mean"), MEAN, "diamond")]
    if any(v is not None for v in _limit_values(ctx, steps)):
        legend.append((labels("mpe_band"), LIMIT, "dash"))
    values: list[float | None] = [v for d in data for v in d]
    chart = _frame(ctx, title, steps, values + _limit_values(ctx, steps), legend, 1)
    axes = chart.axes
    assert axes is not None
    for index, points in enumerate(data):
        if points:
            _box(chart, axes, index, points)
    # each meter keeps its own small horizontal offset, so the dots form a readable strip
    count = max(len(ctx.meters), 1)
    offset = {
        m.position.position: 0.3 * (k / max(count - 1, 1) - 0.5) for k, m in enumerate(ctx.meters)
    }
    for index, means in enumerate(per_step):
        for position, value in means.items():
            x = axes.x_of(index + offset.get(position, 0.0))
            chart.add(
                Mark(x, axes.y_of(value), "circle", 2.6, DOTS, 0.7, "meter", (position, index))
            )
    for index, points in enumerate(data):
        if points:
            y = axes.y_of(_batch_mean(points))
            chart.add(Mark(axes.x_of(index), y, "diamond", 5.0, MEAN, 1.0, "batch_mean", index))
    _limit_lines(chart, ctx, steps)
    return Image(title=title, chart=chart, alt=title)


def _box(chart: Chart, axes: Axes, index: int, points: list[float]) -> None:
    """Quartiles (linear interpolation), median, whiskers to the furthest value within 1.5
    IQR of the box; values beyond are shown only as the meters' dots."""
    ordered = sorted(points)
    if len(ordered) > 1:
        q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = median = q3 = ordered[0]
    reach = 1.5 * (q3 - q1)
    low = min(v for v in ordered if v >= q1 - reach)
    high = max(v for v in ordered if v <= q3 + reach)
    x, half = axes.x_of(index), min(axes.band * 0.25, 14.0)
    top, bottom = axes.y_of(q3), axes.y_of(q1)
    chart.add(Box(x - half, top, 2 * half, max(bottom - top, 0.01), AXIS, None, 0.6))
    chart.add(
        Line(
            ((x - half, axes.y_of(median)), (x + half, axes.y_of(median))),
            MEDIAN,
            1.0,
            role="median",
            key=index,
        )
    )
    for end, edge in ((high, top), (low, bottom)):
        y = axes.y_of(end)
        chart.add(Line(((x, edge), (x, y)), AXIS, 0.6, role="whisker"))
        chart.add(Line(((x - half / 2, y), (x + half / 2, y)), AXIS, 0.6, role="whisker"))


def _batch_mean(values: list[float]) -> float:
    exact = sum((Decimal(repr(v)) for v in values), Decimal(0)) / len(values)
    return float(exact)
