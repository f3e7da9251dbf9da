"""Each PDF's font written without decoding and encoding every glyph again.

fpdf2 cuts the font of every PDF to the glyphs that PDF uses and writes the cut with
fontTools, whose default is to recalculate bounding boxes: every glyph is decoded and encoded
again (a fifth of a batch's rendering time), although its bytes come out as they went in. The
glyphs come unchanged from the batch's font subset, whose boxes fontTools computed when it
wrote that file. Only the font-wide figures that depend on which glyphs a PDF uses need
computing: the font box and maximum points and contours (``head``, ``maxp``), the extreme
side bearings and extents (``hhea``, ``vhea``). `embed_quickly` computes them as fontTools'
own ``recalc`` methods do, from per-glyph figures measured once per process, and then writes
the font with recalculation off: the bytes are those fontTools would write
(``host/tests/test_reports_pdf_speedups.py`` renders documents both ways and compares).

A font with a composite glyph, or one whose stored box is not the computed one, is written
the stock way. Only fontTools versions whose ``recalc`` methods were checked are handled.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import fontTools
from fontTools.ttLib import TTFont

from meterbench.reports.stock_switch import StockSwitch

CHECKED_VERSIONS = frozenset({"4.68.0"})
_switch = StockSwitch()


@dataclass(frozen=True, slots=True)
class GlyphFigures:
    """What the font-wide figures need of one simple glyph."""

    contours: int
    points: int
    x_min: int
    y_min: int
    x_max: int
    y_max: int


def supported() -> bool:
    return fontTools.version in CHECKED_VERSIONS and not _switch.stock


@functools.lru_cache(maxsize=8)
def _reference(path: str, face: int) -> TTFont:
    """The batch's subset font, parsed once per process to measure its glyphs."""
    return TTFont(path, fontNumber=face, lazy=True, recalcTimestamp=False)


@functools.lru_cache(maxsize=100_000)
def glyph_figures(path: str, face: int, name: str) -> GlyphFigures | None:
    """The figures of glyph ``name`` of face ``face`` of the font file ``path``; None for a
    glyph this module cannot vouch for (composite, or a stored box not the computed one)."""
    font = _reference(path, face)
    glyf = font["glyf"]
    glyph = glyf[name]
    if glyph.isComposite():
        return None
    glyph.expand(glyf)
    if glyph.numberOfContours == 0:
        return GlyphFigures(0, 0, 0, 0, 0, 0)
    stored = (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax)
    glyph.recalcBounds(glyf)
    if (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax) != stored:
        return None
    points, contours = glyph.getMaxpValues()
    return GlyphFigures(contours, points, *stored)


def prepare(font: TTFont, path: str | Path, face: int) -> None:
    """Have ``font`` (face ``face`` of ``path``, to be subset and saved by fpdf2) saved
    quickly."""
    if supported() and "glyf" in font and "CFF " not in font and "VARC" not in font:
        quick = functools.partial(embed_quickly, font, str(path), face)
        font.save = quick  # type: ignore[method-assign]


def embed_quickly(font: TTFont, path: str, face: int, file: BinaryIO | str, **kwargs: Any) -> None:
    """``font.save(file)`` with the recalculated figures set beforehand, or the stock way."""
    order = font.getGlyphOrder()
    figures = {name: glyph_figures(path, face, name) for name in order}
    if any(f is None for f in figures.values()):
        TTFont.save(font, file, **kwargs)
        return
    known = {name: f for name, f in figures.items() if f is not None and f.contours}
    _set_maxp_and_head(font, order, known)
    _set_side_bearings(font["hhea"], font["hmtx"], known, horizontal=True)
    if "vhea" in font and "vmtx" in font:
        _set_side_bearings(font["vhea"], font["vmtx"], known, horizontal=False)
    font.recalcBBoxes = False
    try:
        TTFont.save(font, file, **kwargs)
    finally:
        font.recalcBBoxes = True


def _set_maxp_and_head(font: TTFont, order: list[str], known: dict[str, GlyphFigures]) -> None:
    """As fontTools' ``maxp.recalc`` (simple glyphs only)."""
    maxp: Any = font["maxp"]
    head: Any = font["head"]
    hmtx: Any = font["hmtx"]
    maxp.numGlyphs = len(order)
    outlined = [(name, known[name]) for name in order if name in known]
    if outlined:
        head.xMin = min(f.x_min for _, f in outlined)
        head.yMin = min(f.y_min for _, f in outlined)
        head.xMax = max(f.x_max for _, f in outlined)
        head.yMax = max(f.y_max for _, f in outlined)
    else:
        head.xMin = head.yMin = head.xMax = head.yMax = 0
    maxp.maxPoints = max((f.points for _, f in outlined), default=0)
    maxp.maxContours = max((f.contours for _, f in outlined), default=0)
    maxp.maxCompositePoints = maxp.maxCompositeContours = 0
    maxp.maxComponentElements = maxp.maxComponentDepth = 0
    if all(hmtx[name][1] == f.x_min for name, f in outlined):
        head.flags = head.flags | 0x2
    else:
        head.flags = head.flags & ~0x2


def _set_side_bearings(
    table: Any, metrics: Any, known: dict[str, GlyphFigures], horizontal: bool
) -> None:
    """As fontTools' ``hhea.recalc`` / ``vhea.recalc``, for the glyphs with outlines."""
    advance_max = max(advance for advance, _ in metrics.metrics.values())
    extents = {
        name: (f.x_max - f.x_min) if horizontal else (f.y_max - f.y_min)
        for name, f in known.items()
    }
    low_first = low_second = float("inf")
    extent_max = -float("inf")
    for name, size in extents.items():
        advance, first = metrics[name]
        low_first = min(low_first, first)
        low_second = min(low_second, advance - first - size)
        extent_max = max(extent_max, first + size)
    if not extents:
        low_first = low_second = extent_max = 0
    if horizontal:
        table.advanceWidthMax = advance_max
        table.minLeftSideBearing, table.minRightSideBearing = low_first, low_second
        table.xMaxExtent = extent_max
    else:
        table.advanceHeightMax = advance_max
        table.minTopSideBearing, table.minBottomSideBearing = low_first, low_second
        table.yMaxExtent = extent_max


def stock_font_embedding() -> AbstractContextManager[None]:
    """fpdf2's own way of writing fonts for the duration, in this thread (to compare)."""
    return _switch.use_stock()
