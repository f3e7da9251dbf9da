"""Batch plots: error vs load point per meter, and the distribution of errors per point.

Matplotlib's object API with the Agg canvas (no pyplot, no global state, no display). Each
figure is saved twice: PNG for the PDF, SVG (glyphs as paths, so it needs no font in the
browser) for the HTML. Values are the meters' unrounded mean errors of the MPE conclusions,
the same values the batch statistics use.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from meterbench.reports.context import ReportContext
from meterbench.reports.document import Image
from meterbench.reports.fonts import matplotlib_family
from meterbench.reports.meters import steps_in_order
from meterbench.results import LimitKind, Step

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ERROR_ITEMS = ("basic_error", "water_error")
_STYLE: dict[Any, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "meterbench",  # stable element ids: the same run renders the same file
    "axes.unicode_minus": False,
    "font.size": 8,
}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, title: str) -> Image:
    png, svg = io.BytesIO(), io.StringIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return Image(title=title, png=png.getvalue(), svg=svg.getvalue(), alt=title)


def _point_labels(steps: Sequence[Step]) -> list[str]:
    points = [s.point for s in steps]
    return points if len(set(points)) == len(points) else [s.step_key for s in steps]


def error_plots(ctx: ReportContext) -> list[Image]:
    """Two figures per error item present in the run (basic error, water error)."""
    import matplotlib

    images: list[Image] = []
    family = matplotlib_family()
    with matplotlib.rc_context({**_STYLE, "font.family": [family, "DejaVu Sans"]}):
        for item in ERROR_ITEMS:
            steps = [s for s in steps_in_order(ctx.record) if s.item == item]
            if steps:
                images.append(_per_meter(ctx, item, steps))
                images.append(_distribution(ctx, item, steps))
    return images


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


def _axes_common(ax: Axes, ctx: ReportContext, labels: list[str]) -> None:
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_xlabel(ctx.labels("axis_point"))
    ax.set_ylabel(ctx.labels("axis_error"))
    ax.axhline(0, color="#444444", linewidth=0.6)
    ax.grid(True, axis="y", linewidth=0.3, alpha=0.6)


def _limit_lines(ax: Axes, ctx: ReportContext, steps: Sequence[Step]) -> None:
    lows, highs = zip(*(_limits(ctx, s) for s in steps), strict=True)
    xs = list(range(len(steps)))
    for values, label in ((highs, ctx.labels("mpe_band")), (lows, None)):
        if any(v is not None for v in values):
            ys = [float("nan") if v is None else v for v in values]
            # a short dash at each point, so a single point shows its limits too
            ax.plot(
                xs,
                ys,
                linestyle="--",
                drawstyle="steps-mid",
                color="#c0392b",
                linewidth=0.9,
                marker="_",
                markersize=14,
                label=label,
            )


def _per_meter(ctx: ReportContext, item: str, steps: Sequence[Step]) -> Image:
    labels = ctx.labels
    fig = _figure(8.0, 3.8)
    ax = fig.subplots()
    per_step = [_means(ctx, s) for s in steps]
    for meter in ctx.meters:
        number = meter.position.position
        ys = [m.get(number, float("nan")) for m in per_step]
        if all(y != y for y in ys):  # no value at any point
            continue
        ax.plot(
            range(len(steps)),
            ys,
            marker="o",
            markersize=3,
            linewidth=0.9,
            label=f"{number} · {meter.label}",
        )
    _limit_lines(ax, ctx, steps)
    _axes_common(ax, ctx, _point_labels(steps))
    title = f"{labels.item(item)} — {labels('plot_error_vs_point')}"
    ax.set_title(title)
    columns = 1 if len(ctx.meters) <= 14 else 2
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, ncols=columns, frameon=False
    )
    return _save(fig, title)


def _distribution(ctx: ReportContext, item: str, steps: Sequence[Step]) -> Image:
    labels = ctx.labels
    fig = _figure(8.0, 3.8)
    ax = fig.subplots()
    per_step = [_means(ctx, s) for s in steps]
    data = [list(m.values()) for m in per_step]
    positions = [i for i, values in enumerate(data) if values]
    if positions:
        ax.boxplot(
            [data[i] for i in positions],
            positions=positions,
            widths=0.5,
            showfliers=False,
            medianprops={"color": "#2c3e50"},
        )
    # each meter keeps its own small horizontal offset, so the dots form a readable strip
    count = max(len(ctx.meters), 1)
    offset = {
        m.position.position: 0.3 * (k / max(count - 1, 1) - 0.5) for k, m in enumerate(ctx.meters)
    }
    for i, values in enumerate(per_step):
        xs = [i + offset.get(position, 0.0) for position in values]
        ax.scatter(xs, list(values.values()), s=6, color="#2980b9", alpha=0.7, zorder=3)
    means = [_batch_mean(v) for v in data]
    ax.plot(
        range(len(steps)),
        means,
        linestyle="none",
        marker="D",
        markersize=5,
        color="#e67e22",
        label=labels("batch_mean"),
        zorder=4,
    )
    _limit_lines(ax, ctx, steps)
    _axes_common(ax, ctx, _point_labels(steps))
    title = f"{labels.item(item)} — {labels('plot_distribution')}"
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, frameon=False)
    return _save(fig, title)


def _batch_mean(values: list[float]) -> float:
    if not values:
        return float("nan")
    exact = sum((Decimal(repr(v)) for v in values), Decimal(0)) / len(values)
    return float(exact)
