"""The one font of every PDF (plots included): Noto Sans CJK SC, from a PyPI package (OFL-1.1).

``noto-cjk-sans-otc`` ships the Noto Sans CJK Regular collection (one .ttc file, ten faces);
face 2 is Simplified Chinese, with Latin glyphs. Nothing is downloaded at run time and no
system font is needed, so a PDF renders the same on any machine that installed meterbench with
pip. The PDF embeds only the glyphs it uses (a subset). Monospaced ASCII (frames, raw counts)
uses the PDF standard font Courier, which every PDF reader has and which costs no embedding.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from meterbench.reports.errors import ReportError

PACKAGE = "noto_cjk_sans_otc"
FILE = "NotoSansCJK-Regular.ttc"
SANS_FACE = 2
SANS_FAMILY = "Noto Sans CJK SC"


@cache
def font_file() -> Path:
    """The collection's path; a clear error when the font package is missing."""
    try:
        found = resources.files(PACKAGE).joinpath(FILE)
    except ModuleNotFoundError:
        raise ReportError(
            "the CJK font package is missing: pip install noto-cjk-sans-otc "
            "(it is a dependency of meterbench)"
        ) from None
    path = Path(str(found))
    if not path.is_file():
        raise ReportError(f"font file {FILE} not found in package {PACKAGE}")
    return path


@cache
def check_faces() -> None:
    """Refuse a collection whose faces moved: a wrong face would print Japanese glyphs."""
    from fontTools.ttLib import TTFont

    with TTFont(font_file(), fontNumber=SANS_FACE, lazy=True) as font:
        name = font["name"].getDebugName(1)
    if name != SANS_FAMILY:
        raise ReportError(f"{FILE} face {SANS_FACE} is {name!r}, expected {SANS_FAMILY!r}")


@dataclass(frozen=True, slots=True)
class PdfFonts:
    """Font files for one or more PDFs: the collection itself, or a subset made for a batch.

    fpdf2 parses and subsets the font of every PDF it writes; with 65,000 glyphs that costs
    most of a second per file. When many documents are rendered at once, `subset_fonts` cuts
    the collection once to the characters they use, and each PDF then starts from that.
    """

    path: Path
    face: int
    chars: frozenset[str] | None = None  # None: every glyph of the collection

    def covers(self, text: str) -> bool:
        return self.chars is None or set(text) <= self.chars


def full_fonts() -> PdfFonts:
    return PdfFonts(font_file(), SANS_FACE)


# Always in a subset: whatever page furniture (numbers, dates, hashes) may print.
BASE_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) | frozenset(
    "·—±≤≥°%µ−×’“”…，。：；（）、"
)

_workdir: tempfile.TemporaryDirectory[str] | None = None


def _subset_dir() -> Path:
    global _workdir
    if _workdir is None:
        _workdir = tempfile.TemporaryDirectory(prefix="meterbench-fonts-")
    return Path(_workdir.name)


def chars_of(text: str) -> frozenset[str]:
    return frozenset(text) | BASE_CHARS


@cache
def subset_face(face: int, chars: frozenset[str]) -> Path:
    """One face cut to ``chars``, with TrueType outlines: a .ttf file in a temporary folder,
    made once per process and character set."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from meterbench.reports.truetype import cff_to_truetype

    text = "".join(sorted(chars))
    options = subset.Options(notdef_outline=True, recommended_glyphs=True)
    with TTFont(font_file(), fontNumber=face, lazy=True, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        cff_to_truetype(font)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        path = _subset_dir() / f"face{face}-{digest}.ttf"
        font.save(str(path))
    return path


def subset_fonts(text: str) -> PdfFonts:
    """Fonts cut to the characters of ``text`` (plus `BASE_CHARS`), made once per process."""
    check_faces()
    chars = chars_of(text)
    return PdfFonts(subset_face(SANS_FACE, chars), 0, chars)
