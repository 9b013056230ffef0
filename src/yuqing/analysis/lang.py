"""Language identification (zh / en / other) by script counts: fast, deterministic, no model."""

from __future__ import annotations

import re
import unicodedata

# Runs, not single characters: counting the characters of a few runs is cheaper than building one
# string per character.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[A-Za-z]+")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_TABLE = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")  # full-width letters/digits


def normalise(text: str) -> str:
    """Full-width letters/digits to half-width (punctuation kept as is), lower-cased Latin."""
    if _FULLWIDTH.search(text):
        text = text.translate(_TABLE)
    return text.lower()


def detect(text: str) -> str:
    """``zh`` when Chinese characters carry the text, ``en`` for Latin-script text, else ``other``.

    A Chinese post quoting an English ticker stays ``zh``: one CJK character weighs as much as
    three Latin letters (about one English word per two Chinese characters of content).
    """
    text = text[:400]
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    cjk = sum(map(len, _CJK.findall(text)))
    latin = sum(map(len, _LATIN.findall(text)))
    kana = sum(map(len, _KANA_HANGUL.findall(text)))
    if kana > cjk / 4 and kana >= 2:
        return "other"
    if cjk == 0 and latin == 0:
        return "other"
    if cjk * 3 >= latin:
        return "zh" if cjk >= 2 or latin == 0 else "en"
    # Latin script: accept as English only if mostly ASCII letters (not e.g. Vietnamese, German umlauts…)
    accented = sum(1 for ch in text if ch.isalpha() and ord(ch) > 127 and unicodedata.category(ch) == "Ll")
    return "en" if accented <= latin * 0.05 else "other"
