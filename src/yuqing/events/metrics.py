"""Clustering quality metrics: NMI, ARI and B-cubed precision / recall / F1 (pure functions)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence


def _check(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> int:
    if len(gold) != len(pred):
        raise ValueError("gold and predicted labels differ in length")
    return len(gold)


def nmi(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """Normalised mutual information, arithmetic-mean normalisation (as scikit-learn's default)."""
    n = _check(gold, pred)
    if n == 0:
        return 0.0
    g, p, joint = Counter(gold), Counter(pred), Counter(zip(gold, pred, strict=True))
    mi = sum(c / n * math.log(c * n / (g[a] * p[b])) for (a, b), c in joint.items())
    hg = -sum(c / n * math.log(c / n) for c in g.values())
    hp = -sum(c / n * math.log(c / n) for c in p.values())
    if hg == 0.0 and hp == 0.0:
        return 1.0
    denom = (hg + hp) / 2
    return max(0.0, min(1.0, mi / denom)) if denom > 0 else 0.0


def ari(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """Adjusted Rand index."""
    n = _check(gold, pred)
    if n < 2:
        return 1.0

    def comb2(x: int) -> float:
        return x * (x - 1) / 2

    joint = sum(comb2(c) for c in Counter(zip(gold, pred, strict=True)).values())
    sg = sum(comb2(c) for c in Counter(gold).values())
    sp = sum(comb2(c) for c in Counter(pred).values())
    expected = sg * sp / comb2(n)
    maximum = (sg + sp) / 2
    if maximum == expected:
        return 1.0
    return (joint - expected) / (maximum - expected)


def bcubed(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[float, float, float]:
    """B-cubed (precision, recall, F1), averaged over items (Bagga & Baldwin 1998)."""
    n = _check(gold, pred)
    if n == 0:
        return 0.0, 0.0, 0.0
    joint = Counter(zip(gold, pred, strict=True))
    g, p = Counter(gold), Counter(pred)
    precision = sum(c * c / p[b] for (_a, b), c in joint.items()) / n
    recall = sum(c * c / g[a] for (a, _b), c in joint.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
