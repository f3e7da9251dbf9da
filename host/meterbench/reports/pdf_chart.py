"""A `Chart` drawn with the PDF's own vector operators and its embedded CJK font.

No raster, no second font: lines, marks and boxes are PDF paths, labels are PDF text in the
document's font (so they are searchable and sharp at any zoom). The chart is scaled to the
given width; its top-left corner goes at the current position.
"""

from __future__ import annotations

from collections.abc import Callable

from fpdf import FPDF

from meterbench.reports.chart import Box, Chart, Label, Line, Mark

PT_PER_MM = 72 / 25.4
Place = Callable[[float, float], tuple[float, float]]  # chart point -> page position


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def chart_height(chart: Chart, width: float) -> float:
    """Height (document units) of ``chart`` drawn ``width`` wide."""
    return chart.height * width / chart.width


def draw_chart(pdf: FPDF, chart: Chart, width: float, font: str) -> None:
    """Draw ``chart`` ``width`` wide at the current position and move below it."""
    scale = width / chart.width
    left, top = pdf.get_x(), pdf.get_y()

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * scale, top + y * scale

    with pdf.local_context():
        for shape in chart.shapes:
            if isinstance(shape, Line):
                pdf.set_draw_color(*_rgb(shape.color))
                pdf.set_line_width(shape.width * scale)
                if shape.dash:
                    pdf.set_dash_pattern(shape.dash[0] * scale, shape.dash[1] * scale)
                pdf.polyline([at(x, y) for x, y in shape.points])
                if shape.dash:
                    pdf.set_dash_pattern()
            elif isinstance(shape, Mark):
                _mark(pdf, shape, at, scale)
            elif isinstance(shape, Box):
                pdf.set_draw_color(*_rgb(shape.stroke))
                pdf.set_line_width(shape.width * scale)
                x, y = at(shape.x, shape.y)
                if shape.fill:
                    pdf.set_fill_color(*_rgb(shape.fill))
                pdf.rect(x, y, shape.w * scale, shape.h * scale, "DF" if shape.fill else "D")
            else:
                _label(pdf, shape, at, scale, font)
    pdf.set_xy(left, top + chart.height * scale)


def _mark(pdf: FPDF, shape: Mark, at: Place, scale: float) -> None:
    pdf.set_fill_color(*_rgb(shape.color))
    x, y = at(shape.x, shape.y)
    r = shape.size / 2 * scale
    with pdf.local_context(fill_opacity=shape.opacity):
        if shape.shape == "circle":
            pdf.ellipse(x - r, y - r, 2 * r, 2 * r, "F")
        else:
            pdf.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)], style="F")


def _label(pdf: FPDF, shape: Label, at: Place, scale: float, font: str) -> None:
    pdf.set_font(font, size=shape.size * scale * PT_PER_MM)
    pdf.set_text_color(*_rgb(shape.color))
    x, y = at(shape.x, shape.y)
    width = pdf.get_string_width(shape.text)
    shift = {"start": 0.0, "middle": width / 2, "end": width}[shape.anchor]
    if shape.angle:
        with pdf.rotation(shape.angle, x, y):
            pdf.text(x - shift, y, shape.text)
    else:
        pdf.text(x - shift, y, shape.text)
