"""Table cell heights measured once per text and style, not once per table.

fpdf2 (2.8.x) lays a table out twice: it first renders every cell in a dry run, only to learn
how tall each row must be, then renders it for real. The dry run costs as much as the real
one (two fifths of a batch's PDF time), and most cells of a batch recur in every record:
labels, headers, the same values. `install` makes the dry run of a plain text cell (no image,
no row or column span) a look-up keyed by everything its height depends on (text, column
width, combined style, padding, alignment, font, font size, spacing) — computed by fpdf2 the
first time the key is seen.

A dry run leaves two traces that outlive it: the glyphs it used get their codes in the PDF's
font in the order they first appear, and the fonts it set are listed among the page's
resources. Each cached height therefore keeps the glyphs its dry run picked, in order, and
the fonts it listed, and a look-up picks and lists them again, so every PDF is the one fpdf2
would write. A dry run that broke the page (it renders a header and footer too) or listed any
other resource is not cached, and a cached height is used only where the cell fits on the
page, where fpdf2's dry run would not break the page either. The PDFs are the same to the
byte (``host/tests/test_reports_pdf_speedups.py`` renders documents and random tables both
ways and compares).
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import fpdf
from fpdf.enums import Align, PDFResourceType
from fpdf.fonts import SubsetMap
from fpdf.output import ResourceCatalog
from fpdf.table import Table

from meterbench.reports.stock_switch import StockSwitch

CHECKED_VERSIONS = frozenset({"2.8.9"})
LIMIT = 50_000  # cached heights per process (a batch of 24 meters needs ~3,000)
_STOCK_CELL = Table._render_table_cell
_STOCK_PICK = SubsetMap.pick
_STOCK_ADD = ResourceCatalog.add
_state = threading.local()  # what the running dry run picks and lists
_switch = StockSwitch()
_heights: dict[tuple[Any, ...], _Height] = {}
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Height:
    """A cell's dry-run result and what the dry run left behind."""

    image_height: float
    text_height: float
    picks: tuple[tuple[str, int], ...]  # (font key, code point) in the order picked
    fonts: frozenset[str]  # font keys the dry run needed (they must exist already)
    listed: frozenset[str]  # font keys of the fonts listed among the page's resources


def supported() -> bool:
    return fpdf.FPDF_VERSION in CHECKED_VERSIONS


def install() -> None:
    """Measure table cells through the cache from now on (a checked fpdf2 only)."""
    if supported():
        Table._render_table_cell = _render_table_cell  # type: ignore[method-assign]
        SubsetMap.pick = _recording_pick  # type: ignore[method-assign]
        ResourceCatalog.add = _recording_add  # type: ignore[method-assign]


def stock_table_heights() -> AbstractContextManager[None]:
    """fpdf2's own dry runs for the duration, in this thread (to compare against them)."""
    return _switch.use_stock()


def clear_cache() -> None:
    with _lock:
        _heights.clear()


def cache_size() -> int:
    return len(_heights)


def _recording_pick(self: SubsetMap, unicode: int) -> int | None:
    picks = getattr(_state, "picks", None)
    if picks is not None:
        picks.append((self.font.fontkey, unicode))
    return _STOCK_PICK(self, unicode)


# fpdf2 clears the cache behind its pick when it writes the fonts
_recording_pick.cache_clear = _STOCK_PICK.cache_clear  # type: ignore[attr-defined]


def _recording_add(
    self: ResourceCatalog, resource_type: PDFResourceType, resource: Any, page_number: Any
) -> str | None:
    listed = getattr(_state, "listed", None)
    if listed is not None:
        listed.append((resource_type, resource, page_number))
    return _STOCK_ADD(self, resource_type, resource, page_number)


def _render_table_cell(
    self: Table,
    i: int,
    j: int,
    cell: Any,
    row_height: float,
    cell_height_info: Any = None,
    cell_x_positions: Any = None,
    **kwargs: Any,
) -> tuple[bool, float, float]:
    plain = (
        cell_height_info is None
        and not kwargs
        and not cell.img
        and cell.text
        and cell.rowspan == 1
        and cell.colspan == 1
        and not _switch.stock
    )
    if not plain:
        return _STOCK_CELL(
            self, i, j, cell, row_height, cell_height_info, cell_x_positions, **kwargs
        )
    pdf = self._fpdf
    key = _key(self, i, j, cell, row_height)
    known = _heights.get(key)
    if (
        known is not None
        and known.fonts <= pdf.fonts.keys()
        and pdf.auto_page_break
        and pdf.y + known.text_height + row_height < pdf.page_break_trigger
    ):
        for fontkey, unicode in known.picks:
            _STOCK_PICK(pdf.fonts[fontkey].subset, unicode)  # type: ignore[union-attr]
        for fontkey in known.listed:  # fonts are numbered per PDF, in the order first set
            _STOCK_ADD(pdf._resource_catalog, PDFResourceType.FONT, pdf.fonts[fontkey].i, pdf.page)
        return False, known.image_height, known.text_height
    before, page = set(pdf.fonts), pdf.page
    _state.picks, _state.listed = picks, listed = [], []
    try:
        result = _STOCK_CELL(self, i, j, cell, row_height, None, cell_x_positions)
    finally:
        _state.picks = _state.listed = None
    page_break, image_height, text_height = result
    numbers = {font.i for font in pdf.fonts.values()}
    fonts_only = all(
        kind is PDFResourceType.FONT and at == page and number in numbers
        for kind, number, at in listed
    )
    if not page_break and fonts_only and len(_heights) < LIMIT:
        fonts = frozenset(set(pdf.fonts) - before) | {getattr(pdf.current_font, "fontkey", "")}
        fonts |= {fontkey for fontkey, _ in picks}
        keys_of = {font.i: fontkey for fontkey, font in pdf.fonts.items()}
        listed_keys = frozenset(keys_of[number] for _, number, _ in listed)
        fonts |= listed_keys
        with _lock:
            _heights[key] = _Height(image_height, text_height, tuple(picks), fonts, listed_keys)
    return result


def _key(table: Table, i: int, j: int, cell: Any, row_height: float) -> tuple[Any, ...]:
    """Everything a plain cell's dry-run height and glyphs depend on."""
    pdf = table._fpdf
    text_align = cell.align or table._text_align
    if not isinstance(text_align, str | Align):
        text_align = text_align[j]
    font = pdf.current_font
    return (
        cell.text,
        repr(cell.style),
        repr(table.rows[i].style),
        repr(table._initial_style),
        repr(table._headings_style) if i < table._num_heading_rows else None,
        table._cell_fill_mode.should_fill_cell(i, j) and repr(table._cell_fill_color),
        repr(cell.padding or table._padding),
        str(text_align),
        cell.link,
        round(table._get_col_width(i, j, cell.colspan), 9),
        row_height,
        table._line_height,
        table._markdown,
        str(table._wrapmode),
        pdf.font_family,
        pdf.font_style,
        pdf.font_size_pt,
        getattr(font, "fontkey", None),
        str(getattr(font, "ttffile", "")),
        pdf.char_spacing,
        pdf.font_stretching,
        pdf.k,
        pdf.underline,
        pdf.strikethrough,
        repr(getattr(pdf, "text_shaping", None)),
    )
