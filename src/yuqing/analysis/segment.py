"""Word segmentation: rjieba with the finance user dictionary and the watch targets' names added."""

from __future__ import annotations

import functools
import heapq
import re
from collections import Counter
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


KEPT_CACHE_SIZE = 200_000
MAX_TOKENS = 400  # tokens kept per mention (the stage's, and what the risk model was trained on)


class Segmenter:
    """A jieba instance with the finance dictionary plus extra words (target names, products …)."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        self._kept: dict[str, str] = {}
        for word in (*finance_dictionary(), *extra_words):
            word = word.strip()
            if word and not word.isascii():
                self._jieba.add_word(word, USER_FREQ, "nz")

    def cut(self, text: str) -> list[str]:
        """Tokens without whitespace and punctuation; Latin words lower-cased; no URL fragments or
        repost markers (``strip_links``). What each jieba token becomes is remembered (the same few
        thousand words recur in every text)."""
        get, keep = self._kept.get, self._keep
        return [
            k
            for tok in self._jieba.cut(strip_links(text), False)
            if (k := get(tok)) or (k is None and (k := keep(tok)))
        ]

    def mention_tokens(self, text: str) -> list[str]:
        """A mention's tokens as the stage keeps them (at most ``MAX_TOKENS``; the risk model's words)."""
        return self.cut(text)[:MAX_TOKENS]

    def _keep(self, tok: str) -> str:
        """The token as kept, "" when it is dropped."""
        kept = tok
        if not kept.isalnum():
            kept = kept.strip() if kept[0].isalnum() or kept[-1].isalnum() else ""
        kept = kept.lower() if kept.isascii() else kept
        if len(self._kept) < KEPT_CACHE_SIZE:
            self._kept[tok] = kept
        return kept


def keywords(tokens: Iterable[str], limit: int = 8) -> list[str]:
    """Most salient content tokens: count x (1 + min(len, 4) / 4), no stopwords, no numbers, >= 2 chars;
    ties keep first-seen order."""
    get = _KEYWORD_WEIGHT.get
    scored = [
        (c * w, -i, t)
        for i, (t, c) in enumerate(Counter(tokens).items())  # first-seen order
        if (w := get(t)) or (w is None and (w := _keyword_weight(t)))
    ]
    return [t for _, _, t in heapq.nlargest(limit, scored)]


_KEYWORD_WEIGHT: dict[str, float] = {}  # token -> its keyword weight, remembered (0.0: never a keyword)


def _keyword_weight(t: str) -> float:
    w = (1 + (len(t) if len(t) < 4 else 4) / 4) if len(t) >= 2 and t not in STOPWORDS else 0.0
    if w and t.replace(".", "").isdigit():
        w = 0.0
    if len(_KEYWORD_WEIGHT) < KEPT_CACHE_SIZE:
        _KEYWORD_WEIGHT[t] = w
    return w


@functools.cache
def default_segmenter() -> Segmenter:
    return Segmenter()


@functools.lru_cache(maxsize=8)
def segmenter_for(extra_words: tuple[str, ...]) -> Segmenter:
    """A cached segmenter for a given set of extra words (the targets' names change rarely)."""
    return Segmenter(extra_words) if extra_words else default_segmenter()
