"""Turn a (small, subset) CFF-outline font into a TrueType-outline font.

fpdf2 re-subsets the font of every PDF it writes; with CFF outlines that means interpreting
every charstring again, with TrueType outlines it is a cheap table copy (about three times
faster per PDF). Cubic curves become quadratic ones within 1 font unit (of 1000 per em), far
below what print or screen can show.
"""

from __future__ import annotations

from typing import Any

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

MAX_ERROR = 1.0  # font units
_CFF_ONLY = ("CFF ", "VORG")
_TRUETYPE_MAXP = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxTwilightPoints",
    "maxStorage",
    "maxFunctionDefs",
    "maxInstructionDefs",
    "maxStackElements",
    "maxSizeOfInstructions",
    "maxComponentElements",
    "maxComponentDepth",
)


def cff_to_truetype(font: TTFont) -> None:
    """Replace the CFF table of ``font`` with glyf/loca, in place."""
    # fontTools tables get their fields at run time: typed as Any here
    order = font.getGlyphOrder()
    glyphs: Any = font.getGlyphSet()
    glyf: Any = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    for tag in _CFF_ONLY:
        if tag in font:
            del font[tag]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp: Any = font["maxp"]
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for attribute in _TRUETYPE_MAXP:
        setattr(maxp, attribute, 0)  # recomputed from glyf when the font is saved
    head: Any = font["head"]
    post: Any = font["post"]
    head.glyphDataFormat = 0
    post.formatType = 3.0  # no glyph names needed
    font.sfntVersion = "\x00\x01\x00\x00"
