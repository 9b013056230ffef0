"""Tokens the clusterer sees: words (Chinese via rjieba, English words), shared bilingual concepts and
the analysis' structured signals (watch targets, risk type, entities).

Cross-language scheme: every surface form listed in ``key_terms.yaml`` (e.g. 手续费 / fee) is
replaced by one concept token ``~fee``; multi-word English forms and Chinese forms are also found as
substrings of the text. Analysed mentions add ``@t:<target id>`` (the clusterer turns these into a
fixed bonus, see ``cluster.py``), ``@r:<risk type>`` and ``@e:<entity>`` tokens. A Chinese Weibo post
and an English wire story about the same case then share the target, the risk type, entities and the
key concepts, which is what pulls them into one event (their words sit in different partitions and
neither help nor hurt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from yuqing.core.contracts import AnalysedMention
from yuqing.errors import ConfigError
from yuqing.sources.dedup import strip_links

TARGET_PREFIX = "@t:"  # a watch target's token: ``@t:<target id>``
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_ZH_KEEP = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")

EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "your",
        "not",
        "no",
        "so",
        "if",
        "than",
        "then",
        "there",
        "here",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "also",
        "about",
        "into",
        "over",
        "after",
        "before",
        "more",
        "most",
        "said",
        "says",
        "say",
        "new",
    ]
)
ZH_STOP = frozenset(
    [
        "的",
        "了",
        "在",
        "是",
        "我",
        "有",
        "和",
        "就",
        "不",
        "人",
        "都",
        "一",
        "一个",
        "上",
        "也",
        "很",
        "到",
        "说",
        "要",
        "去",
        "你",
        "会",
        "着",
        "没有",
        "看",
        "好",
        "自己",
        "这",
        "那",
        "他",
        "她",
        "它",
        "们",
        "我们",
        "你们",
        "他们",
        "这个",
        "那个",
        "什么",
        "还",
        "被",
        "把",
        "让",
        "给",
        "对",
        "与",
        "及",
        "等",
        "而",
        "但",
        "并",
        "或",
        "之",
        "其",
        "为",
        "以",
        "于",
        "从",
        "又",
        "已",
        "已经",
        "吗",
        "吧",
        "呢",
        "啊",
        # generic in a bank-monitoring stream: they carry no story
        "银行",
        "网友",
        "记者",
        "表示",
        "消息",
    ]
)


@dataclass(frozen=True)
class KeyTerms:
    word_to_concept: dict[str, str]
    phrase_pattern: re.Pattern[str] | None
    phrase_to_concept: dict[str, str]


@lru_cache(maxsize=1)
def key_terms() -> KeyTerms:
    """The shipped bilingual dictionary (``key_terms.yaml``)."""
    text = resources.files("yuqing.events").joinpath("key_terms.yaml").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:  # pragma: no cover - shipped file
        raise ConfigError(f"关键词词典无效 / invalid key_terms.yaml: {exc}") from exc
    words: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for concept, forms in data.items():
        token = f"~{concept}"
        for form in [*forms.get("zh", []), *forms.get("en", [])]:
            form = str(form).lower().strip()
            if not form:
                continue
            if " " in form or _CJK.search(form):
                phrases[form] = token
            if " " not in form:
                words[form] = token
    pattern = None
    if phrases:
        alts = sorted(phrases, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(p) for p in alts))
    return KeyTerms(words, pattern, phrases)


def segment(text: str) -> list[str]:
    """Words of a text: rjieba for Chinese runs, lowercase words for the rest; stop words, URLs and
    repost markers dropped."""
    text = strip_links(text).lower()
    if _CJK.search(text):
        import rjieba

        out = []
        for w in rjieba.cut(text):
            w = w.strip()
            if not w or not _ZH_KEEP.search(w) or w in ZH_STOP or w in EN_STOP:
                continue
            if len(w) == 1 and _CJK.match(w):
                continue
            out.append(w)
        return out
    return [w for w in _WORD.findall(text) if w not in EN_STOP and len(w) > 1]


def concepts(text: str, words: list[str]) -> list[str]:
    """Map words to concept tokens (words in the dictionary are replaced) and add phrase concepts."""
    kt = key_terms()
    out = [kt.word_to_concept.get(w, w) for w in words]
    if kt.phrase_pattern is not None:
        seen = set(out)
        for m in kt.phrase_pattern.finditer(text.lower()):
            tok = kt.phrase_to_concept[m.group(0)]
            if tok not in seen:
                out.append(tok)
                seen.add(tok)
    return out


def text_tokens(text: str) -> list[str]:
    """Tokens of raw text (the eval command and mentions without analysis tokens)."""
    return concepts(text, segment(text))


def _keep(w: str) -> bool:
    if not w or w in ZH_STOP or w in EN_STOP or w.isdigit() or not _ZH_KEEP.search(w):
        return False
    return not (len(w) == 1 and (_CJK.match(w) or w.isascii()))


def mention_tokens(m: AnalysedMention, *, target_weight: int = 1, max_words: int = 30) -> list[str]:
    """Tokens of an analysed mention: words (the first ``max_words``: title first) + concepts + targets
    (each ``target_weight`` times), risk type and entities."""
    raw = f"{m.title}\n{m.text}"
    words = [t.strip().lower() for t in m.tokens] if m.tokens else segment(raw)
    words = [w for w in words if _keep(w)][:max_words]
    toks = concepts(raw, words)
    kt = key_terms()
    for hit in m.targets:
        toks += [f"{TARGET_PREFIX}{hit.target_id}"] * target_weight
    if m.risk_type:
        toks.append(f"@r:{m.risk_type}")
    for ent in m.entities:
        e = ent.lower().strip()
        if e:
            toks.append(kt.word_to_concept.get(e, f"@e:{e}"))
    return toks
