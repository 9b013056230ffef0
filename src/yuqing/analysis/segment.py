"""Word segmentation: rjieba with the finance user dictionary and the watch targets' names added."""

from __future__ import annotations

import functools
import heapq
import re
from collections.abc import Iterable
from importlib import resources

import rjieba

from yuqing.sources.dedup import strip_links

_EN_TOKEN = re.compile(r"[a-z0-9][a-z0-9.&'$-]*")
USER_FREQ = 200_000  # high enough that a dictionary word wins over the default split

STOPWORDS = frozenset(
    [
        "的",
        "了",
        "在",
        "是",
        "和",
        "与",
        "及",
        "对",
        "向",
        "从",
        "被",
        "把",
        "到",
        "给",
        "为",
        "等",
        "也",
        "就",
        "都",
        "而",
        "又",
        "或",
        "但",
        "这",
        "那",
        "有",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "一个",
        "没有",
        "不",
        "就是",
        "还",
        "要",
        "会",
        "将",
        "已",
        "已经",
        "并",
        "其",
        "之",
        "于",
        "以",
        "由",
        "所",
        "上",
        "下",
        "中",
        "个",
        "着",
        "过",
        "吗",
        "呢",
        "吧",
        "啊",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "by",
        "with",
        "at",
        "as",
        "from",
        "that",
        "this",
        "it",
        "its",
    ]
)


@functools.cache
def finance_dictionary() -> tuple[str, ...]:
    """Words of the shipped finance user dictionary (``dicts/finance_dict.txt``, one word a line)."""
    text = resources.files("yuqing.analysis").joinpath("dicts/finance_dict.txt").read_text("utf-8")
    words = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line.split()[0])
    return tuple(words)


class Segmenter:
    """A jieba instance with the finance dictionary plus extra words (target names, products …)."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        for word in (*finance_dictionary(), *extra_words):
            word = word.strip()
            if word and not word.isascii():
                self._jieba.add_word(word, USER_FREQ, "nz")

    def cut(self, text: str) -> list[str]:
        """Tokens without whitespace and punctuation; Latin words lower-cased; no URL fragments or
        repost markers (``strip_links``)."""
        out = []
        for tok in self._jieba.cut(strip_links(text), False):
            if tok.isalnum() or ((tok[0].isalnum() or tok[-1].isalnum()) and (tok := tok.strip())):
                out.append(tok.lower() if tok.isascii() else tok)
        return out


def keywords(tokens: Iterable[str], limit: int = 8) -> list[str]:
    """Most salient content tokens: count x (1 + min(len, 4) / 4), no stopwords, no numbers, >= 2 chars;
    ties keep first-seen order."""
    counts: dict[str, int] = {}
    for tok in tokens:
        if len(tok) >= 2 and tok not in STOPWORDS:
            counts[tok] = counts.get(tok, 0) + 1
    scored = [
        (c * (1 + (len(t) if len(t) < 4 else 4) / 4), -i, t)
        for i, (t, c) in enumerate(counts.items())
        if not t.replace(".", "").isdigit()
    ]
    return [t for _, _, t in heapq.nlargest(limit, scored)]


@functools.cache
def default_segmenter() -> Segmenter:
    return Segmenter()


@functools.lru_cache(maxsize=8)
def segmenter_for(extra_words: tuple[str, ...]) -> Segmenter:
    """A cached segmenter for a given set of extra words (the targets' names change rarely)."""
    return Segmenter(extra_words) if extra_words else default_segmenter()
