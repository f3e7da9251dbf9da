"""Line breaking for fpdf2 in linear instead of quadratic time, and once per text.

fpdf2 (2.8.x) decides where a line of a `multi_cell` (every table cell, every paragraph)
breaks by adding characters one by one, and before each one it measures the whole line again
from its first character: a 120-character line costs ~7,000 glyph-width look-ups, and the
records' parameter paragraphs run to 1,500 characters. It also breaks every table cell twice
(to size the row, then to draw it), and most texts recur in every record of a batch.

`FastLine` is fpdf2's own `CurrentLine` with one change: the width of the line so far is
kept per fragment and extended by the characters added since the last measurement, instead
of being summed from scratch. Glyph widths are integers (font units), so the running sum is
exactly the sum fpdf2 computes, and the final scaling is fpdf2's own formula. Fragments it
cannot measure this way (core fonts, text shaping, symbol fonts) are measured by fpdf2.

`CachedLineBreak` is fpdf2's `MultiLineBreak` that remembers the lines of each text (see
there), and computes those of one plain run of text directly (`plain_break`). Both give
the lines fpdf2 gives, so the PDFs are the same to the byte;
``host/tests/test_reports_linebreak.py`` renders documents both ways and compares.

`install` puts both in place of fpdf2's classes for the whole process (every FPDF gets the
same lines either way); only fpdf2 versions whose line breaker was checked are patched.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, NamedTuple

import fpdf
from fpdf import fpdf as fpdf_module
from fpdf import line_break
from fpdf.enums import Align, WrapMode
from fpdf.fonts import CoreFont, TTFFont
from fpdf.graphics_state import GraphicsState
from fpdf.line_break import CurrentLine, Fragment, MultiLineBreak, TextLine

from meterbench.reports.plain_break import break_plain

# fpdf2 releases whose CurrentLine / Fragment.get_width this module reproduces.
CHECKED_VERSIONS = frozenset({"2.8.9"})
_STOCK_LINE = CurrentLine
_STOCK_BREAK = MultiLineBreak


class _Measured:
    """The glyph widths (font units) of a fragment's first ``count`` characters."""

    __slots__ = ("chars", "count", "units")

    def __init__(self, chars: list[str]) -> None:
        self.chars = chars  # the very list measured: fpdf2 replaces it when it trims
        self.count = 0
        self.units: float = 0  # integers: fpdf2's glyph widths are rounded font units


def _plain(fragment: Fragment) -> bool:
    """Can the width be summed from the font's glyph-width table, as fpdf2 itself does?"""
    font = fragment.font
    return (
        isinstance(font, TTFFont)
        and not font.is_symbol
        and not fragment.text_shaping_parameters
        and type(fragment) is Fragment
    )


class FastLine(CurrentLine):
    """fpdf2's `CurrentLine` with an incrementally kept width (see the module doc)."""

    def __init__(self, max_width: float, print_sh: bool = False, indent: float = 0) -> None:
        super().__init__(max_width, print_sh, indent)
        self._measured: dict[int, _Measured] = {}

    @property
    def width(self) -> float:  # type: ignore[override]
        width: float = 0
        for i, fragment in enumerate(self.fragments):
            width += self._fragment_width(fragment, i > 0)
        return width

    def _fragment_width(self, fragment: Fragment, initial_cs: bool) -> float:
        if not _plain(fragment):
            return fragment.get_width(initial_cs=initial_cs)
        chars = fragment.characters
        seen = self._measured.get(id(fragment))
        if seen is None or seen.chars is not chars or seen.count > len(chars):
            seen = self._measured[id(fragment)] = _Measured(chars)
        font = fragment.font
        assert isinstance(font, TTFFont)
        if seen.count < len(chars):
            widths = font.cw
            seen.units += sum(widths[ord(c)] for c in chars[seen.count :])
            seen.count = len(chars)
        size_pt = fragment.font_size_pt
        if size_pt > font.biggest_size_pt:
            font.biggest_size_pt = size_pt
        return _scaled(fragment, seen.units * size_pt * 0.001, len(chars), initial_cs)


def _scaled(fragment: Fragment, w: float, char_len: int, initial_cs: bool) -> float:
    """fpdf2's `Fragment.get_width` after the glyph widths are summed: stretching, spacing."""
    char_spacing = fragment.char_spacing
    if fragment.font_stretching != 100:
        w *= fragment.font_stretching * 0.01
        char_spacing *= fragment.font_stretching * 0.01
    if fragment.char_spacing != 0:
        if initial_cs:
            w += char_spacing * char_len
        else:
            w += char_spacing * (char_len - 1)
    return w / fragment.k


class _Piece(NamedTuple):
    """One fragment of a broken line: which input fragment it came from, and its text."""

    source: int
    chars: tuple[str, ...]
    link: str | int | None


class _Shape(NamedTuple):
    """A `TextLine` without its fragments' graphics states (those belong to one FPDF)."""

    pieces: tuple[_Piece, ...]
    text_width: float
    number_of_spaces: int
    align: Align
    height: float
    max_width: float | None
    trailing_nl: bool
    trailing_form_feed: bool
    indent: float


CACHE_SIZE = 20_000
_cache: OrderedDict[tuple[Any, ...], tuple[_Shape, ...]] = OrderedDict()
_lock = threading.Lock()  # documents may be rendered in threads (the lab server)
_STATE_FIELDS = tuple(f.name for f in fields(GraphicsState))


def _state_key(fragment: Fragment) -> tuple[Any, ...] | None:
    """Everything of a fragment's graphics state, with its font named by file and face."""
    state = fragment.graphics_state
    if state.text_shaping or type(fragment) is not Fragment:
        return None
    font = state.current_font
    if isinstance(font, TTFFont) and not font.is_symbol:
        font_key: tuple[str, ...] = ("ttf", font.fontkey, str(font.ttffile), font.name)
    elif isinstance(font, CoreFont):  # a PDF standard font: fixed widths per name
        font_key = ("core", font.fontkey)
    else:
        return None
    key: list[Any] = []
    for name in _STATE_FIELDS:
        value = getattr(state, name)
        if name == "current_font":
            value = font_key
        elif name == "dash_pattern":
            value = tuple(sorted(value.items()))
        key.append(value)
    return tuple(key)


def _break_key(fragments: Sequence[Fragment], settings: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What fpdf2's line breaking depends on; None when it is not plain text in a TTF font."""
    parts: list[Any] = [settings]
    for fragment in fragments:
        state = _state_key(fragment)
        if state is None:
            return None
        parts.append(("".join(fragment.characters), state, fragment.k, fragment.link))
    return tuple(parts)


def _shape(line: TextLine, sources: Sequence[Fragment]) -> _Shape | None:
    pieces = []
    for fragment in line.fragments:
        source = next(
            (i for i, s in enumerate(sources) if s.graphics_state is fragment.graphics_state),
            None,
        )
        if source is None or type(fragment) is not Fragment or fragment.k != sources[source].k:
            return None
        pieces.append(_Piece(source, tuple(fragment.characters), fragment.link))
    return _Shape(tuple(pieces), *line[1:])


def _line(shape: _Shape, sources: Sequence[Fragment]) -> TextLine:
    fragments = [
        Fragment(list(p.chars), sources[p.source].graphics_state, sources[p.source].k, p.link)
        for p in shape.pieces
    ]
    return TextLine(fragments, *shape[1:])


class CachedLineBreak(MultiLineBreak):
    """fpdf2's `MultiLineBreak` that remembers, per process, how a text broke into lines.

    A table cell is broken twice by fpdf2 (to size its row, then to draw it), and most texts
    of a record recur in every record of a batch (labels, headings, the plan's parameters).
    The lines are kept keyed by everything fpdf2's line breaking reads (the characters, every
    field of the fragments' graphics states, the font by file and face, the width and the
    settings) and rebuilt around the new call's own fragments, so a repeated text gets the
    very lines fpdf2 would have computed again.
    """

    def __init__(
        self,
        fragments: Sequence[Fragment],
        max_width: float | Callable[[float], float],
        margins: Sequence[float],
        align: Align = Align.L,
        print_sh: bool = False,
        wrapmode: WrapMode = WrapMode.WORD,
        line_height: float = 1.0,
        skip_leading_spaces: bool = False,
        first_line_indent: float = 0,
    ) -> None:
        super().__init__(
            fragments,
            max_width,
            margins,
            align,
            print_sh,
            wrapmode,
            line_height,
            skip_leading_spaces,
            first_line_indent,
        )
        self._sources = fragments
        self._replay: Iterator[TextLine] | None = None
        self._recorded: list[_Shape] | None = None
        self._key: tuple[Any, ...] | None = None
        if callable(max_width):  # a width that depends on where the line lands
            return
        settings = (
            max_width,
            tuple(margins),
            align,
            print_sh,
            wrapmode,
            line_height,
            skip_leading_spaces,
            first_line_indent,
        )
        self._key = _break_key(fragments, settings)
        if self._key is None:
            return
        with _lock:
            shapes = _cache.get(self._key)
            if shapes is not None:
                _cache.move_to_end(self._key)
        if shapes is not None:
            _note_sizes(fragments)
            self._replay = (_line(shape, fragments) for shape in shapes)
            return
        lines = break_plain(fragments, *settings)
        if lines is None:
            self._recorded = []  # fpdf2 breaks it, and the lines are recorded on the way
            return
        recorded = [_shape(line, fragments) for line in lines]
        if all(recorded):
            self._store(tuple(shape for shape in recorded if shape is not None))
        _note_sizes(fragments)
        self._replay = iter(lines)

    def get_line(self) -> TextLine | None:
        if self._replay is not None:
            return next(self._replay, None)
        line = super().get_line()
        if self._recorded is None or self._key is None:
            return line
        if line is None:
            self._store(tuple(self._recorded))
            self._recorded = None
            return None
        shape = _shape(line, self._sources)
        if shape is None:
            self._recorded = None
        else:
            self._recorded.append(shape)
        return line

    def _store(self, shapes: tuple[_Shape, ...]) -> None:
        assert self._key is not None
        with _lock:
            _cache[self._key] = shapes
            if len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)


def _note_sizes(fragments: Sequence[Fragment]) -> None:
    """What measuring the text tells the font in fpdf2: the biggest size it is used at."""
    for fragment in fragments:
        font = fragment.font
        if fragment.characters and isinstance(font, TTFFont):
            size_pt = fragment.font_size_pt
            if size_pt > font.biggest_size_pt:
                font.biggest_size_pt = size_pt


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def cache_size() -> int:
    return len(_cache)


def supported() -> bool:
    return fpdf.FPDF_VERSION in CHECKED_VERSIONS


def install() -> None:
    """Use `FastLine` and `CachedLineBreak` in fpdf2 from now on (a checked fpdf2 only)."""
    if supported():
        line_break.CurrentLine = FastLine  # type: ignore[misc]
        setattr(fpdf_module, "MultiLineBreak", CachedLineBreak)  # noqa: B010


@contextmanager
def stock_line_breaking() -> Iterator[None]:
    """fpdf2's own line breaking for the duration (to compare against it)."""
    # The PDF renderer installs the fast paths when first imported: imported in here, the
    # install would be undone on leaving.
    import meterbench.reports.pdf  # noqa: F401

    saved = line_break.CurrentLine, getattr(fpdf_module, "MultiLineBreak")  # noqa: B009
    line_break.CurrentLine = _STOCK_LINE  # type: ignore[misc]
    setattr(fpdf_module, "MultiLineBreak", _STOCK_BREAK)  # noqa: B010
    try:
        yield
    finally:
        line_break.CurrentLine = saved[0]  # type: ignore[misc]
        setattr(fpdf_module, "MultiLineBreak", saved[1])  # noqa: B010
