"""A fitted binary gradient-boosted tree ensemble as plain arrays, predicted with numpy.

scikit-learn's HistGradientBoosting predicts with OpenMP threads, whose start-up costs tens of
milliseconds per call on a busy machine — far more than the prediction itself for the few rows an
analysis batch has. Flattening the trees into arrays also keeps the shipped model file free of
pickled estimator objects. All trees are walked at once, one numpy step per level for the walks
still under way.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def flatten(hgb: Any) -> dict[str, np.ndarray]:
    """Arrays of a fitted binary ``HistGradientBoostingClassifier`` (numeric features, no NaN)."""
    trees = [p.nodes for (p,) in hgb._predictors]
    offsets = np.cumsum([0] + [len(t) for t in trees[:-1]])
    nodes = np.concatenate(trees)
    shift = np.repeat(offsets, [len(t) for t in trees])
    leaf = nodes["is_leaf"].astype(bool)
    own = np.arange(len(nodes))
    return {
        "feature": np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32),
        "threshold": nodes["num_threshold"].astype(np.float64),
        # A leaf points to itself: that is how a walk knows it has arrived.
        "left": np.where(leaf, own, nodes["left"].astype(np.int64) + shift).astype(np.int32),
        "right": np.where(leaf, own, nodes["right"].astype(np.int64) + shift).astype(np.int32),
        "value": np.where(leaf, nodes["value"], 0.0).astype(np.float64),
        "roots": offsets.astype(np.int32),
        "baseline": np.array(float(np.ravel(hgb._baseline_prediction)[0])),
    }


def predict_proba(t: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """P(class 1) per row. Only (row, tree) walks still at an inner node take the next step: paths
    are mostly far shorter than the deepest one."""
    x = np.asarray(x, dtype=np.float64)
    n, k = len(x), len(t["roots"])
    node = np.tile(t["roots"], n)  # (row, tree) walks, row-major
    row = np.repeat(np.arange(n), k)
    inner = t["left"] != np.arange(len(t["left"]))  # a leaf points to itself
    walking = np.flatnonzero(inner[node])
    while walking.size:
        at = node[walking]
        go_left = x[row[walking], t["feature"][at]] <= t["threshold"][at]
        at = np.where(go_left, t["left"][at], t["right"][at])
        node[walking] = at
        walking = walking[inner[at]]
    raw = t["value"][node].reshape(n, k).sum(axis=1) + float(t["baseline"])
    return np.asarray(1.0 / (1.0 + np.exp(-raw)))
