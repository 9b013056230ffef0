"""Target-level negativity (CCF BDCI 2019 金融信息负面及主体判定): is the text negative about *this* entity?

For each (text, entity) pair the features are
  * the whole text's char 1-3-grams (is the text negative at all),
  * char 1-3-grams of windows of ±WINDOW (10) characters around the entity's occurrences, the entity
    itself replaced by a placeholder (what is said next to it),
  * the entity's last character — its kind (…行, …贷, …宝, …网, …司, …会, …局): +0.012 BDCI
    score in grouped CV (mean of three fold assignments). The last two or three characters would
    add +0.001 by naming platforms that recur across stories, and then over-weight those names in
    new stories (a bank's own wealth-product default read as the old platform's), so they are not
    used (docs/benchmarks/analysis.md),
  * structure: entity contained in a longer listed entity / contains a shorter one, number of
    occurrences, in the title, relative first position, length, rank among the entities.
A linear model scores each pair; a second stage (gradient-boosted trees, stacked on out-of-fold
scores) turns the pair score, a text-level negativity score and the entity's rank among the text's
entities into P(negative about entity): the labels name the main subject, not every entity next to
a negative word (+0.012 BDCI score in grouped CV). Post-rule from the task's labelling: when a
predicted negative entity is contained in a longer predicted negative entity (小资 in 小资钱包),
only the longer one is the subject.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from yuqing.analysis import features, trees
from yuqing.analysis.linear import LinearModel

WINDOW = 10  # chosen by grouped CV among 10/20/35
WINDOW_FEATURES = 2**17
ENTITY_FEATURES = 2**12
PLACEHOLDER = "Ⓔ"
OTHER = "Ⓞ"
N_DENSE = 10
THRESHOLD = 0.5


def _occurrences(text: str, entity: str, limit: int = 4) -> list[int]:
    out: list[int] = []
    i = text.find(entity)
    while i >= 0 and len(out) < limit:
        out.append(i)
        i = text.find(entity, i + len(entity))
    return out


def window_text(text: str, entity: str, others: Sequence[str]) -> str:
    """Windows around the entity's occurrences; the entity and the other entities masked."""
    parts = []
    for i in _occurrences(text, entity):
        left = text[max(0, i - WINDOW) : i]
        right = text[i + len(entity) : i + len(entity) + WINDOW]
        parts.append(f"{left}{PLACEHOLDER}{right}")
    joined = " | ".join(parts)
    for o in sorted(others, key=len, reverse=True):
        if o and o != entity and entity not in o:
            joined = joined.replace(o, OTHER)
    return joined


def entity_kind(entity: str) -> list[str]:
    return [f"kind:{entity[-1:]}"]


def dense_features(text: str, title: str, entity: str, entities: Sequence[str]) -> list[float]:
    occ = _occurrences(text, entity, 50)
    contained = any(entity != o and entity in o for o in entities)
    contains = any(entity != o and o in entity for o in entities)
    rank = entities.index(entity) / max(1, len(entities) - 1) if entity in entities else 1.0
    return [
        1.0,
        float(contained),
        float(contains),
        math.log1p(len(occ)),
        float(bool(title) and entity in title),
        (occ[0] / max(1, len(text))) if occ else 1.0,
        min(len(entity), 12) / 12,
        rank,
        float(not occ),
        float(len(entities) == 1),
    ]


def pair_parts(
    items: Sequence[tuple[str, str, str, Sequence[str]]],
) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """The text, pair (window and entity kind) and structure blocks of the rows for (text, title,
    entity, all_entities)."""
    texts = [f"{title}。{text}" if title and title not in text else text for text, title, _, _ in items]
    distinct: dict[str, int] = {}  # a text's pairs share its vector: computed once
    rows = [distinct.setdefault(t, len(distinct)) for t in texts]
    x_text = features.zh_vectors(list(distinct))[rows]
    x_win = features.hashed_char_ngrams(
        [window_text(t, e, ents) for t, (_, _, e, ents) in zip(texts, items, strict=True)], WINDOW_FEATURES
    )
    x_name = features.word_vectors([entity_kind(e) for _, _, e, _ in items], ENTITY_FEATURES, bigrams=False)
    x_pair = sp.hstack([x_win, x_name], format="csr")
    dense = np.asarray(
        [dense_features(t, ti, e, ents) for t, (_, ti, e, ents) in zip(texts, items, strict=True)],
        dtype=np.float32,
    ).reshape(len(items), N_DENSE)
    return x_text, x_pair, dense


def join_parts(x_text: sp.csr_matrix, x_pair: sp.csr_matrix, dense: np.ndarray) -> sp.csr_matrix:
    """The pair model's rows: the three blocks side by side."""
    return sp.hstack([x_text, x_pair, sp.csr_matrix(dense)], format="csr")


def pair_matrix(items: Sequence[tuple[str, str, str, Sequence[str]]]) -> sp.csr_matrix:
    """Rows for (text, title, entity, all_entities) tuples."""
    return join_parts(*pair_parts(items))


@dataclass(frozen=True)
class SubjectPrediction:
    entity: str
    negative_prob: float
    negative: bool


def postprocess(entities: Sequence[str], probs: Sequence[float], threshold: float = THRESHOLD) -> list[bool]:
    """Negative flags; an entity contained in a longer negative entity is dropped."""
    neg = [p >= threshold for p in probs]
    for i, e in enumerate(entities):
        if neg[i] and any(neg[j] and e != o and e in o for j, o in enumerate(entities)):
            neg[i] = False
    return neg


def group_starts(items: Sequence[tuple[str, str, str, Sequence[str]]]) -> np.ndarray:
    """Index of the first pair of each text: the pairs of one text are consecutive (callers build
    them that way), a new text starts where (text, title, entity list) changes."""
    starts = [
        i
        for i, it in enumerate(items)
        if i == 0 or (it[0], it[1], it[3]) != (items[i - 1][0], items[i - 1][1], items[i - 1][3])
    ]
    return np.asarray(starts, dtype=np.int64)


def stack_features(
    pair_logit: np.ndarray, text_logit: np.ndarray, starts: np.ndarray, dense: np.ndarray
) -> np.ndarray:
    """Second-stage inputs per pair: its own score, the text's negativity, and how it ranks against
    the other entities of the same text (the BDCI labels name the main subject, not every entity
    near a negative word)."""
    n = len(pair_logit)
    bounds = [*starts.tolist(), n]
    rank, top, size = np.zeros(n), np.zeros(n), np.zeros(n)
    for a, b in itertools.pairwise(bounds):
        z = pair_logit[a:b]
        rank[a + np.argsort(-z, kind="stable")] = np.arange(b - a)
        top[a:b], size[a:b] = z.max(), b - a
    return np.column_stack([pair_logit, text_logit, rank, top, pair_logit - top, size, dense])


def predict_pairs(
    model: LinearModel,
    items: Sequence[tuple[str, str, str, Sequence[str]]],
    starts: Sequence[int] | None = None,
) -> list[float]:
    """P(negative about entity) for (text, title, entity, all_entities) tuples, in one batch;
    ``starts``: index of each text's first pair (default: where the text or entity list changes)."""
    if not items:
        return []
    x_text, x_pair, dense = pair_parts(items)
    x = join_parts(x_text, x_pair, dense)
    stacker = model.extra.get("stacker")
    if stacker is None:
        return [float(p) for p in model.predict_proba(x)[:, 1]]
    pair_logit = model.logits(x)[:, 1]
    text_logit = np.asarray(x_text @ model.extra["text_coef"]).ravel() + float(model.extra["text_intercept"])
    first = np.asarray(starts, dtype=np.int64) if starts is not None else group_starts(items)
    f = stack_features(pair_logit, text_logit, first, dense)
    return [float(p) for p in trees.predict_proba(stacker, f)]


def predict(
    model: LinearModel | None,
    text: str,
    entities: Sequence[str],
    title: str = "",
    text_negative_prob: float | None = None,
) -> list[SubjectPrediction]:
    """Per-entity negativity. Without a model: the text's negative probability, halved for an entity
    contained in another one (a cheap fallback)."""
    ents = [e for e in dict.fromkeys(entities) if e]
    if not ents:
        return []
    if model is None:
        base = 0.0 if text_negative_prob is None else text_negative_prob
        probs = [base * (0.5 if any(e != o and e in o for o in ents) else 1.0) for e in ents]
    else:
        probs = predict_pairs(model, [(text, title, e, ents) for e in ents])
    threshold = float(model.meta.get("threshold", THRESHOLD)) if model is not None else THRESHOLD
    flags = postprocess(ents, probs, threshold)
    return [SubjectPrediction(e, p, f) for e, p, f in zip(ents, probs, flags, strict=True)]


def attribution(preds: Sequence[SubjectPrediction]) -> dict[str, float]:
    """How much of the text's negativity each entity carries, 0..1: its subject probability relative
    to the most likely subject in the text; an entity contained in a longer one that the model flags
    gets at most half. The stage multiplies this with the text's negative probability: the sentiment
    model says how negative the text is, the subject model says about whom."""
    if not preds:
        return {}
    top = max(p.negative_prob for p in preds)
    out = {}
    for p in preds:
        share = p.negative_prob / top if top > 0 else 1.0
        if any(
            p.entity != o.entity and p.entity in o.entity and o.negative_prob >= p.negative_prob * 0.5
            for o in preds
        ):
            share = min(share, 0.5)
        out[p.entity] = round(share, 4)
    return out
