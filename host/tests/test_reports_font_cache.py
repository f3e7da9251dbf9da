"""Font cuts are kept for the next process: a batch's documents print the same characters as
the last batch's, and cutting the CJK font is the costliest step before rendering. A damaged
cut is cut again; where the cache cannot be written, the process cuts into its own folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from meterbench.reports import fonts

TEXT = "电能表检定记录 0.5 %"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fonts.subset_face.cache_clear()  # as a new process would start
    yield tmp_path / "cache" / "meterbench" / "fonts"
    fonts.subset_face.cache_clear()


def cut(text: str = TEXT) -> Path:
    return fonts.subset_fonts(text).path


def refuse_to_cut(monkeypatch) -> None:
    def no(*args):
        raise AssertionError("cut again")

    monkeypatch.setattr(fonts, "_cut", no)


def test_the_next_process_reads_the_cut_instead_of_cutting(own_cache, monkeypatch):
    first = cut()
    assert first.parent == own_cache
    data = first.read_bytes()
    fonts.subset_face.cache_clear()
    refuse_to_cut(monkeypatch)
    assert cut() == first and first.read_bytes() == data
    assert list(own_cache.iterdir()) == [first]  # no partial files left


def test_other_characters_get_their_own_cut(own_cache):
    assert cut(TEXT) != cut(TEXT + "合格")
    assert len(list(own_cache.iterdir())) == 2


def test_a_cut_cut_short_is_cut_again(own_cache):
    first = cut()
    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 3])
    fonts.subset_face.cache_clear()
    again = cut()
    assert again == first and again.read_bytes() == data
    with TTFont(again) as font:
        cmap = font.getBestCmap()
        assert cmap is not None and cmap[ord("检")]


def test_an_unwritable_cache_leaves_the_cut_to_the_process(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = cut()
    assert not path.is_relative_to(blocker) and path.is_file()
    with TTFont(path) as font:
        cmap = font.getBestCmap()
        assert cmap is not None and ord("电") in cmap


def test_a_cut_has_every_glyph_asked_for_and_no_layout_tables():
    """Nothing shapes text from the cut (fpdf2 writes without text shaping, browsers need no
    layout for these pages), so its layout tables are dropped: a third of the cutting time
    and half of every HTML file's embedded font."""
    with TTFont(cut()) as font:
        assert "glyf" in font and "CFF " not in font
        assert not set(fonts.LAYOUT_TABLES) & set(font.keys())
        cmap = font.getBestCmap()
        assert cmap is not None and all(ord(c) in cmap for c in TEXT)
