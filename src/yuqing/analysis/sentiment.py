"""Sentiment: negative / neutral / positive with calibrated probabilities, for Chinese and English.

Linear models over hashed n-grams (``features``) trained by ``yuqing train sentiment``; softmax
with a temperature fitted on a held-out split. Without a model file a small lexicon fallback
answers (so that a fresh clone without trained models still runs), flagged as ``lexicon-0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from yuqing.analysis import features
from yuqing.analysis.linear import LinearModel
from yuqing.analysis.transformer import TransformerModel


@dataclass(frozen=True)
class Cascade:
    """The n-gram model answers where it is sure; the transformer decides the rest (speed: the
    transformer costs ~30x more per text)."""

    first: LinearModel
    second: TransformerModel
    below: float  # top probability of ``first`` under which ``second`` decides

    @property
    def version(self) -> str:
        return f"{self.first.version}+{self.second.version}<{self.below:g}"


SentimentModel = LinearModel | TransformerModel | Cascade

LABELS = ("negative", "neutral", "positive")
NEG_WORDS = (
    "投诉",
    "欺诈",
    "诈骗",
    "违规",
    "处罚",
    "罚款",
    "暴雷",
    "爆雷",
    "挤兑",
    "维权",
    "故障",
    "泄露",
    "亏损",
    "逾期",
    "催收",
    "跑路",
    "失联",
    "骗",
    "坑",
    "差",
    "垃圾",
    "愤怒",
    "退钱",
    "下跌",
    "跌停",
    "风险",
)
POS_WORDS = ("好评", "满意", "感谢", "点赞", "优秀", "上涨", "涨停", "增长", "获奖", "荣获", "创新高", "喜欢")
EN_NEG = (
    "fraud",
    "fine",
    "fined",
    "loss",
    "lawsuit",
    "outage",
    "breach",
    "down",
    "fall",
    "falls",
    "cut",
    "weak",
)
EN_POS = ("gain", "gains", "rise", "rises", "up", "beat", "beats", "record", "strong", "growth", "upgrade")


@dataclass(frozen=True)
class SentimentResult:
    label: str
    negative_prob: float
    probs: dict[str, float]


def _lexicon(text: str, lang: str) -> SentimentResult:
    low = text.lower()
    neg = sum(low.count(w) for w in (EN_NEG if lang == "en" else NEG_WORDS))
    pos = sum(low.count(w) for w in (EN_POS if lang == "en" else POS_WORDS))
    score = pos - neg
    p_neg = float(1 / (1 + np.exp(score + 0.5)))  # no hits -> 0.38
    p_pos = float(1 / (1 + np.exp(-score + 0.5)))
    p_neu = max(0.0, 1 - p_neg - p_pos)
    total = p_neg + p_neu + p_pos
    probs = {"negative": p_neg / total, "neutral": p_neu / total, "positive": p_pos / total}
    return SentimentResult(max(probs, key=lambda k: probs[k]), probs["negative"], probs)


def _results(proba: np.ndarray, classes: Sequence[str]) -> list[SentimentResult]:
    idx = {c: i for i, c in enumerate(classes)}
    out = []
    for row in proba:
        probs = {lab: float(row[idx[lab]]) if lab in idx else 0.0 for lab in LABELS}
        out.append(
            SentimentResult(LABELS[int(np.argmax([probs[lab] for lab in LABELS]))], probs["negative"], probs)
        )
    return out


def predict_matrix(
    model: LinearModel, x: sp.spmatrix, texts: Sequence[str] = (), lang: str = "zh"
) -> list[SentimentResult]:
    """``x`` is the text vector; the lexicon columns are appended when the model was trained with them."""
    if model.coef.shape[1] == x.shape[1] + features.N_LEXICON:
        x = features.sentiment_design(x, texts, lang)
    return _results(model.predict_proba(x), model.classes)


def predict(
    texts: Sequence[str], langs: Sequence[str], models: Mapping[str, SentimentModel | None]
) -> list[SentimentResult]:
    """Batch prediction; ``models`` maps ``zh``/``en`` to a model (or None for the lexicon)."""
    results: list[SentimentResult | None] = [None] * len(texts)
    for lang in ("zh", "en"):
        rows = [i for i, lg in enumerate(langs) if (lg == "en") == (lang == "en")]
        if not rows:
            continue
        model = models.get(lang)
        sub = [texts[i] for i in rows]
        if model is None:
            out = [_lexicon(t, lang) for t in sub]
        elif isinstance(model, TransformerModel):
            out = _results(model.predict_proba(sub), model.classes)
        elif isinstance(model, Cascade):
            out = predict_matrix(model.first, features.vectors(sub, lang), sub, lang)
            unsure = [j for j, r in enumerate(out) if max(r.probs.values()) < model.below]
            if unsure:
                second = _results(model.second.predict_proba([sub[j] for j in unsure]), model.second.classes)
                for j, r in zip(unsure, second, strict=True):
                    out[j] = r
        else:
            out = predict_matrix(model, features.vectors(sub, lang), sub, lang)
        for i, r in zip(rows, out, strict=True):
            results[i] = r
    return [r for r in results if r is not None]
