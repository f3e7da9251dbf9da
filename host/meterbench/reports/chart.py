"""A chart as a few vector shapes, drawn the same way into SVG (HTML) and into the PDF.

Two plots do not need a plotting library: lines, marks, boxes and labels in a box of
``width`` x ``height`` points (y downwards) are all they are made of. Keeping them as data
lets the HTML and the PDF draw the very same figure, with the PDF's own embedded CJK font, and
lets tests read back what a plot shows (`Axes` maps values to positions and back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Line:
    """An open polyline; ``role`` and ``key`` say what it shows (for readers and tests)."""

    points: tuple[Point, ...]
    color: str
    width: float = 0.8
    dash: tuple[float, float] | None = None
    role: str = ""
    key: object = None


@dataclass(frozen=True, slots=True)
class Mark:
    """A marker centred on (x, y): ``size`` is its full width in points."""

    x: float
    y: float
    shape: Literal["circle", "diamond"]
    size: float
    color: str
    opacity: float = 1.0
    role: str = ""
    key: object = None


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    stroke: str
    fill: str | None = None
    width: float = 0.6


@dataclass(frozen=True, slots=True)
class Label:
    """Text anchored at (x, y) on its baseline, turned ``angle`` degrees counter-clockwise."""

    x: float
    y: float
    text: str
    size: float
    color: str = "#1c2530"
    anchor: Literal["start", "middle", "end"] = "start"
    angle: float = 0.0


Shape = Line | Mark | Box | Label


@dataclass(frozen=True, slots=True)
class Axes:
    """Categories 0..n-1 across [left, right], values [low, high] up [bottom, top]."""

    left: float
    top: float
    right: float
    bottom: float
    categories: int
    low: float
    high: float

    def x_of(self, index: float) -> float:
        band = (self.right - self.left) / max(self.categories, 1)
        return self.left + (index + 0.5) * band

    @property
    def band(self) -> float:
        return (self.right - self.left) / max(self.categories, 1)

    def y_of(self, value: float) -> float:
        span = self.high - self.low
        return self.bottom - (value - self.low) / span * (self.bottom - self.top)

    def value_at(self, y: float) -> float:
        span = self.high - self.low
        return self.low + (self.bottom - y) / (self.bottom - self.top) * span


@dataclass(slots=True)
class Chart:
    width: float
    height: float
    title: str
    axes: Axes | None = None
    shapes: list[Shape] = field(default_factory=list)

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)

    def texts(self) -> str:
        """Every character the chart prints (the PDF's font subset must hold them)."""
        return "".join(s.text for s in self.shapes if isinstance(s, Label))


def nice_ticks(low: float, high: float, most: int = 7) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten,
    computed in decimal so labels print without binary noise."""
    if high <= low:
        high = low + 1.0
    raw = Decimal(repr((high - low) / max(most - 1, 1)))
    power = Decimal(1).scaleb(raw.adjusted())
    step = next(
        f * power for f in (Decimal(1), Decimal(2), Decimal(5), Decimal(10)) if f * power >= raw
    )
    start = (Decimal(repr(low)) / step).to_integral_value(rounding="ROUND_FLOOR") * step
    ticks: list[float] = []
    value = start
    while float(value) <= high + float(step) * 1e-9 or len(ticks) < 2:
        ticks.append(float(value))
        value += step
    if ticks[-1] < high:
        ticks.append(float(value))
    return ticks


def tick_text(value: float) -> str:
    text = f"{Decimal(repr(value)).normalize():f}"
    return "0" if text in ("-0", "0") else text


def text_width(text: str, size: float) -> float:
    """Approximate advance width: CJK glyphs one em, Latin about half (layout only)."""
    return sum(size if ord(c) > 0x2E7F else size * 0.56 for c in text)


def span_of(values: Sequence[float | None]) -> tuple[float, float] | None:
    found = [v for v in values if v is not None and v == v]
    return (min(found), max(found)) if found else None
