"""Charts as PNG images with Chinese text drawn in a real CJK font (matplotlib, Agg backend).

The font is looked up among the installed ones (``settings.reports.fonts``, in order) and checked
to contain the glyphs of a test string; without one we refuse with a clear error rather than draw
boxes. Debian: ``apt-get install fonts-noto-cjk`` or ``fonts-wqy-microhei``.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.figure import Figure

from yuqing.errors import ConfigError

PROBE = "舆情日报负面声量"
DEFAULT_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Serif CJK SC",
)
MISSING_FONT = (
    "未找到中文字体，无法生成图表 / no CJK font installed: charts would show boxes instead of Chinese. "
    "Install one: apt-get install fonts-noto-cjk fonts-wqy-microhei"
)


@dataclass(frozen=True)
class CjkFont:
    name: str
    path: str
    index: int  # face index inside a .ttc collection


def has_glyphs(path: str, text: str, index: int = 0) -> bool:
    """True when the font file maps every character of ``text`` to a real glyph (id != 0)."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path, fontNumber=index, lazy=True)
    except Exception:
        return False
    try:
        cmap = font.getBestCmap() or {}
        return all(ch.isspace() or cmap.get(ord(ch)) not in (None, ".notdef") for ch in text)
    finally:
        font.close()


@functools.lru_cache(maxsize=8)
def find_cjk_font(preferred: tuple[str, ...] = DEFAULT_FONTS) -> CjkFont:
    """The first installed font of ``preferred`` that really has Chinese glyphs (ConfigError if none)."""
    found = _search(preferred)
    if found is None:
        # matplotlib caches the font list on first use: fonts installed since are not in it.
        known = {e.fname for e in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _search(preferred)
    if found is None:
        raise ConfigError(MISSING_FONT)
    return found


def _search(preferred: tuple[str, ...]) -> CjkFont | None:
    # matplotlib's own choice for each family (the regular face, as charts will use it)
    for name in preferred:
        try:
            resolved = font_manager.findfont(
                font_manager.FontProperties(family=name), fallback_to_default=False
            )
        except ValueError:
            continue
        index = int(getattr(resolved, "face_index", 0) or 0)
        if has_glyphs(str(resolved), PROBE, index):
            return CjkFont(name, str(resolved), index)
    # Any other installed font that covers the probe (a firm's own font, say), regular faces first
    entries = sorted(
        font_manager.fontManager.ttflist,
        key=lambda e: (str(e.weight).lower() not in ("400", "normal", "regular"), e.style != "normal"),
    )
    for entry in entries:
        if ("CJK" in entry.name or "Hei" in entry.name or "Song" in entry.name) and has_glyphs(
            entry.fname, PROBE, getattr(entry, "index", 0) or 0
        ):
            return CjkFont(entry.name, entry.fname, getattr(entry, "index", 0) or 0)
    return None


def _figure(width: float = 8.0, height: float = 3.2) -> Figure:
    return Figure(figsize=(width, height), dpi=110)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _rc(font: CjkFont) -> Any:
    return {
        "font.family": [font.name, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.fonttype": "none",
    }


def volume_chart(
    font: CjkFont,
    title: str,
    labels: Sequence[str],
    totals: Sequence[int],
    negatives: Sequence[int],
    share: bool = True,
) -> bytes:
    """Bars of total and negative volume per bucket, with the negative share as a line."""
    with matplotlib.rc_context(_rc(font)):
        fig = _figure()
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(labels)))
        ax.bar(x, totals, color="#9bb7d4", label="总量 / total")
        ax.bar(x, negatives, color="#d9534f", label="负面 / negative")
        ax.set_title(title)
        ax.set_ylabel("条 / mentions")
        step = max(1, -(-len(labels) // 8))
        ax.set_xticks(x[::step])
        ax.set_xticklabels([labels[i] for i in x[::step]], rotation=0, fontsize=8)
        handles, names = ax.get_legend_handles_labels()
        if share:
            ax2 = ax.twinx()
            shares = [(n / t * 100) if t else float("nan") for t, n in zip(totals, negatives, strict=True)]
            (line,) = ax2.plot(
                x, shares, color="#8a1c1c", marker="o", markersize=3, label="负面占比 / negative %"
            )
            ax2.set_ylim(0, 100)
            ax2.set_ylabel("负面占比 %")
            handles.append(line)
            names.append(line.get_label())
        ax.legend(
            handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False
        )
        return _png(fig)


def bar_chart(font: CjkFont, title: str, labels: Sequence[str], values: Sequence[float]) -> bytes:
    """Horizontal bars (platform mix, risk types)."""
    with matplotlib.rc_context(_rc(font)):
        fig = _figure(7.0, max(1.8, 0.45 * len(labels) + 0.8))
        ax = fig.add_subplot(1, 1, 1)
        y = list(range(len(labels)))[::-1]
        ax.barh(y, values, color="#4a7ab5")
        ax.set_yticks(y)
        ax.set_yticklabels(list(labels))
        ax.set_title(title)
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, f" {v:g}", va="center", fontsize=8)
        return _png(fig)


def sentiment_chart(
    font: CjkFont, title: str, hours: Sequence[datetime], mean_prob: Sequence[float], labels: Sequence[str]
) -> bytes:
    """The mean negative probability per hour (the event's sentiment curve)."""
    with matplotlib.rc_context(_rc(font)):
        fig = _figure()
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(hours)))
        ax.plot(x, [p * 100 for p in mean_prob], color="#8a1c1c", marker=".", label="平均负面概率 %")
        ax.set_ylim(0, 100)
        ax.set_title(title)
        ax.set_ylabel("负面概率 % / negative probability")
        step = max(1, -(-len(labels) // 8))
        ax.set_xticks(x[::step])
        ax.set_xticklabels([labels[i] for i in x[::step]], fontsize=8)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, frameon=False)
        return _png(fig)


def text_probe(font: CjkFont, text: str) -> bytes:
    """An image of ``text`` alone (used to check that glyphs, not boxes, are drawn)."""
    with matplotlib.rc_context(_rc(font)):
        fig = _figure(3.0, 0.8)
        fig.text(0.02, 0.3, text, fontsize=20)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
