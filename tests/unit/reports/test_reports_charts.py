"""Charts draw real Chinese glyphs, never the missing-glyph box (needs a CJK font installed)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from conftest import need_cjk_font
from yuqing.errors import ConfigError
from yuqing.reports import charts


@pytest.fixture(scope="module")
def font() -> charts.CjkFont:
    return need_cjk_font()


def _pixels(png: bytes) -> np.ndarray:
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_the_chosen_font_maps_chinese_to_real_glyphs(font):
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    assert font.name in charts.DEFAULT_FONTS or "CJK" in font.name or "Hei" in font.name
    ft = FT2Font(font.path, face_index=font.index)
    assert all(ft.get_char_index(ord(ch)) != 0 for ch in "舆情日报负面声量华信银行")
    assert ft.get_char_index(0xE000) == 0  # a private-use code point has no glyph: the check can fail
    # matplotlib itself resolves the family we set to that file
    resolved = font_manager.findfont(font_manager.FontProperties(family=font.name), fallback_to_default=False)
    assert resolved == font.path


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_rendered_cjk_characters_are_distinct_glyphs_not_boxes(font):
    """Missing glyphs all render as the same box; real glyphs differ from each other and from the box."""
    a = _pixels(charts.text_probe(font, "舆"))
    b = _pixels(charts.text_probe(font, "情"))
    box1 = _pixels(charts.text_probe(font, "\ue000"))
    box2 = _pixels(charts.text_probe(font, "\ue001"))
    blank = _pixels(charts.text_probe(font, " "))
    assert np.array_equal(box1, box2)  # the method: two missing glyphs look identical
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, box1) and not np.array_equal(b, box1)
    assert not np.array_equal(a, blank)  # something was drawn


def test_has_glyphs_is_false_for_a_latin_only_font():
    from matplotlib import font_manager

    dejavu = font_manager.findfont("DejaVu Sans")
    assert charts.has_glyphs(dejavu, "abc")
    assert not charts.has_glyphs(dejavu, "舆情")


def test_no_cjk_font_is_a_clear_error(monkeypatch):
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])  # nothing installed either
    with pytest.raises(ConfigError, match="fonts-noto-cjk"):
        _find_only(("No Such Font",))


def test_fonts_installed_after_matplotlib_cached_its_list_are_found(font):
    """matplotlib caches the font list on first use; a CJK font installed later is found by a rescan."""
    from matplotlib import font_manager

    saved = font_manager.fontManager.ttflist
    try:
        font_manager.fontManager.ttflist = [e for e in saved if e.name == "DejaVu Sans"]  # a stale cache
        font_manager.fontManager._findfont_cached.cache_clear()
        charts.find_cjk_font.cache_clear()
        assert charts.find_cjk_font().path == font.path
        assert len(font_manager.fontManager.ttflist) > 1  # found by the rescan
    finally:
        font_manager.fontManager.ttflist = saved
        font_manager.fontManager._findfont_cached.cache_clear()
        charts.find_cjk_font.cache_clear()


def _find_only(names: tuple[str, ...]) -> None:
    """``find_cjk_font`` restricted to fonts that do not exist."""
    from matplotlib import font_manager

    saved = font_manager.fontManager.ttflist
    try:
        font_manager.fontManager.ttflist = [e for e in saved if e.name == "DejaVu Sans"]
        font_manager.fontManager._findfont_cached.cache_clear()
        charts.find_cjk_font.cache_clear()
        charts.find_cjk_font(names)
    finally:
        font_manager.fontManager.ttflist = saved
        font_manager.fontManager._findfont_cached.cache_clear()
        charts.find_cjk_font.cache_clear()


def test_volume_chart_is_a_png(font):
    png = charts.volume_chart(font, "声量 / volume", ["1日", "2日", "3日"], [3, 0, 5], [1, 0, 4])
    assert png.startswith(b"\x89PNG")
    assert _pixels(png).shape[1] > 500
