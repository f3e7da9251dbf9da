"""A `Chart` as a standalone SVG document (the HTML report embeds it as an image).

Numbers are printed with two decimals and shapes in a fixed order, so the same run gives the
same bytes. Text is SVG text in the report's CJK family: the HTML report puts the SVG element
inline, where the page's embedded font subset (which holds the chart's characters) draws it.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from meterbench.reports.chart import Box, Chart, Label, Line, Mark

FAMILY = "'Noto Sans CJK SC', 'meterbench CJK', 'Source Han Sans SC', sans-serif"


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _line(shape: Line) -> str:
    points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
    dash = f' stroke-dasharray="{_n(shape.dash[0])} {_n(shape.dash[1])}"' if shape.dash else ""
    return (
        f'<polyline points="{points}" fill="none" stroke="{shape.color}" '
        f'stroke-width="{_n(shape.width)}"{dash}/>'
    )


def _mark(shape: Mark) -> str:
    opacity = f' fill-opacity="{_n(shape.opacity)}"' if shape.opacity < 1 else ""
    r = shape.size / 2
    if shape.shape == "circle":
        return (
            f'<circle cx="{_n(shape.x)}" cy="{_n(shape.y)}" r="{_n(r)}" '
            f'fill="{shape.color}"{opacity}/>'
        )
    x, y = shape.x, shape.y
    path = f"M{_n(x)},{_n(y - r)}L{_n(x + r)},{_n(y)}L{_n(x)},{_n(y + r)}L{_n(x - r)},{_n(y)}Z"
    return f'<path d="{path}" fill="{shape.color}"{opacity}/>'


def _box(shape: Box) -> str:
    fill = shape.fill or "none"
    return (
        f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" '
        f'height="{_n(shape.h)}" fill="{fill}" stroke="{shape.stroke}" '
        f'stroke-width="{_n(shape.width)}"/>'
    )


def _label(shape: Label) -> str:
    turn = (
        f' transform="rotate({_n(-shape.angle)} {_n(shape.x)} {_n(shape.y)})"'
        if shape.angle
        else ""
    )
    return (
        f'<text x="{_n(shape.x)}" y="{_n(shape.y)}" font-size="{_n(shape.size)}" '
        f'fill="{shape.color}" text-anchor="{shape.anchor}"{turn}>{escape(shape.text)}</text>'
    )


def chart_svg(chart: Chart, standalone: bool = True) -> str:
    """The SVG of ``chart`` (its size in points, scalable): a file, or with ``standalone``
    False an element to put inline in HTML."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>' if standalone else "",
        f'<svg role="img"  xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(chart.width)} '
        f'{_n(chart.height)}" width="{_n(chart.width)}pt" height="{_n(chart.height)}pt" '
        f"font-family={quoteattr(FAMILY)}>",
        f"<title>{escape(chart.title)}</title>",
        f'<rect width="{_n(chart.width)}" height="{_n(chart.height)}" fill="#ffffff"/>',
    ]
    for shape in chart.shapes:
        if isinstance(shape, Line):
            parts.append(_line(shape))
        elif isinstance(shape, Mark):
            parts.append(_mark(shape))
        elif isinstance(shape, Box):
            parts.append(_box(shape))
        else:
            parts.append(_label(shape))
    parts.append("</svg>")
    return "\n".join(parts).lstrip("\n") + "\n"
