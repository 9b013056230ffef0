"""A small, portable linear model: float16 weights in a joblib file, temperature-calibrated softmax.

Trained by :mod:`yuqing.analysis.train`; predicting is one sparse matrix product per batch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp


@dataclass
class LinearModel:
    name: str
    version: str
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features) float16 on disk, float32 in memory; binary: (1, n)
    intercept: np.ndarray
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)
    # Further fitted parts a model needs at prediction (arrays, small estimators); not in the card.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._coef_t = np.ascontiguousarray(self.coef.T)  # (n_features, n_classes): fast sparse @ dense

    def logits(self, x: sp.spmatrix | np.ndarray) -> np.ndarray:
        z = np.asarray(x @ self._coef_t, dtype=np.float64) + self.intercept
        if z.shape[1] == 1:  # binary logistic: classes[1] is the positive class
            z = np.hstack([np.zeros_like(z), z])
        return z

    def predict_proba(self, x: sp.spmatrix | np.ndarray) -> np.ndarray:
        z = self.logits(x) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "name": self.name,
                "version": self.version,
                "classes": list(self.classes),
                "coef": self.coef.astype(np.float16),
                "intercept": self.intercept.astype(np.float64),
                "temperature": float(self.temperature),
                "meta": self.meta,
                "extra": self.extra,
            },
            path,
            compress=3,
        )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        d = joblib.load(path)
        return cls(
            name=d["name"],
            version=d["version"],
            classes=tuple(d["classes"]),
            coef=np.asarray(d["coef"], dtype=np.float32),
            intercept=np.asarray(d["intercept"], dtype=np.float64),
            temperature=float(d["temperature"]),
            meta=dict(d.get("meta") or {}),
            extra=dict(d.get("extra") or {}),
        )


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood on held-out logits (Guo et al. 2017)."""
    from scipy.optimize import minimize_scalar

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    res = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return float(res.x)


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-class confidence over equal-width bins."""
    conf = proba.max(axis=1)
    pred = proba.argmax(axis=1)
    correct = (pred == y).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)
