"""The one font of every PDF (plots included): Noto Sans CJK SC, from a PyPI package (OFL-1.1).

``noto-cjk-sans-otc`` ships the Noto Sans CJK Regular collection (one .ttc file, ten faces);
face 2 is Simplified Chinese, with Latin glyphs. Nothing is downloaded at run time and no
system font is needed, so a PDF renders the same on any machine that installed meterbench with
pip. The PDF embeds only the glyphs it uses (a subset). Monospaced ASCII (frames, raw counts)
uses the PDF standard font Courier, which every PDF reader has and which costs no embedding.
"""

from __future__ import annotations

import hashlib
import os
import struct
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

# Bump when a cut of the same characters would come out differently (options, conversion).
CUT_VERSION = 2
# OpenType layout (substitutions, positioning): the PDFs are written without text shaping and
# the web pages need none for Chinese, so a cut drops them. Subsetting them took a third of
# the cut's time and half its size (which every HTML file carries).
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH")
_workdir: tempfile.TemporaryDirectory[str] | None = None


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/meterbench/fonts`` (~/.cache/meterbench/fonts): cuts kept for the
    next process, as a lab's batches print the same characters again and again."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home).expanduser() / "meterbench" / "fonts"


def _temporary_dir() -> Path:
    """Where cuts go when the cache cannot be written (this process only)."""
    global _workdir
    if _workdir is None:
        _workdir = tempfile.TemporaryDirectory(prefix="meterbench-fonts-")
    return Path(_workdir.name)


def chars_of(text: str) -> frozenset[str]:
    return frozenset(text) | BASE_CHARS


def _cut_name(face: int, text: str) -> str:
    """A cut's file name: the characters, the face, the font file and the cutting code."""
    source = font_file().stat()
    from fontTools import version as fonttools_version

    identity = f"{CUT_VERSION}|{fonttools_version}|{source.st_size}|{source.st_mtime_ns}|{face}"
    digest = hashlib.sha256(f"{identity}|{text}".encode()).hexdigest()[:24]
    return f"face{face}-{digest}.ttf"


@cache
def subset_face(face: int, chars: frozenset[str]) -> Path:
    """One face cut to ``chars``, with TrueType outlines: a .ttf file, cut once per machine
    and character set (in `cache_dir`) or, where that cannot be written, once per process."""
    text = "".join(sorted(chars))
    name = _cut_name(face, text)
    cached = cache_dir() / name
    if _readable_font(cached):
        return cached
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        return _cut(face, text, cached)
    except OSError:  # a read-only or full home: this process keeps its own cut
        return _cut(face, text, _temporary_dir() / name)


def _readable_font(path: Path) -> bool:
    """A complete cut (a file cut short or damaged is cut again)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True, checkChecksums=2) as font:
            reader = font.reader
            if reader is None:
                return False
            tags = reader.keys()  # the reader is not iterable itself
            for tag in tags:
                reader[tag]  # reads the table and checks its checksum
            return "glyf" in font and font["maxp"].numGlyphs > 0
    except (OSError, TTLibError, AssertionError, ValueError, KeyError, struct.error):
        return False


def _cut(face: int, text: str, path: Path) -> Path:
    """Cut, convert to TrueType outlines and write ``path`` whole (a concurrent process
    reading it sees the old file or the new one, never half of one)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from meterbench.reports.truetype import cff_to_truetype

    options = subset.Options(
        notdef_outline=True,
        recommended_glyphs=True,
        layout_features=[],
        drop_tables=subset.Options().drop_tables + list(LAYOUT_TABLES),
    )
    with TTFont(font_file(), fontNumber=face, lazy=True, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        cff_to_truetype(font)
        # a name of its own: another process or thread may be writing the same cut
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(handle)
        partial = Path(name)
        try:
            font.save(str(partial))
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return path


def subset_fonts(text: str) -> PdfFonts:
    """Fonts cut to the characters of ``text`` (plus `BASE_CHARS`), cut once (`subset_face`)."""
    check_faces()
    chars = chars_of(text)
    return PdfFonts(subset_face(SANS_FACE, chars), 0, chars)
