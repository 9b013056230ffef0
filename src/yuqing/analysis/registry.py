"""Loads the shipped (or retrained) models once per process, lazily."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from yuqing.analysis.linear import LinearModel
from yuqing.analysis.sentiment import Cascade
from yuqing.analysis.transformer import TransformerModel

MODEL_FILES = {
    "sentiment_zh": "sentiment_zh.joblib",
    "sentiment_en": "sentiment_en.joblib",
    "subject": "subject_zh.joblib",
    "risk": "risk_zh.joblib",
}
_cache: dict[tuple[str, str], LinearModel | None] = {}
_tf_cache: dict[tuple[str, str], TransformerModel | None] = {}
_lock = threading.Lock()


def shipped_dir() -> Path:
    return Path(str(resources.files("yuqing.analysis").joinpath("models_data")))


def _resolve(name: str, model_dir: str | Path | None) -> Path:
    path = (Path(model_dir) if model_dir else shipped_dir()) / name
    if model_dir and not path.is_file():  # a retrained set may hold only some models
        path = shipped_dir() / name
    return path


def model_path(key: str, model_dir: str | Path | None = None) -> Path:
    return _resolve(MODEL_FILES[key], model_dir)


# A transformer that, when its files are present, answers for a key instead of the linear model.
TRANSFORMER_FILES = {"sentiment_en": "sentiment_en_tf.json"}


def get_model(key: str, model_dir: str | Path | None = None) -> LinearModel | None:
    """The model, or None when no file exists (the stage then uses its lexicon fallback)."""
    path = model_path(key, model_dir)
    cache_key = (key, str(path))
    with _lock:
        if cache_key not in _cache:
            _cache[cache_key] = LinearModel.load(path) if path.is_file() else None
        return _cache[cache_key]


def get_transformer(key: str, model_dir: str | Path | None = None) -> TransformerModel | None:
    """The transformer for ``key`` when shipped (or in ``model_dir``), else None."""
    name = TRANSFORMER_FILES.get(key)
    if name is None:
        return None
    path = _resolve(name, model_dir)
    cache_key = ("tf:" + key, str(path))
    with _lock:
        if cache_key not in _tf_cache:
            _tf_cache[cache_key] = TransformerModel.load(path) if path.is_file() else None
        return _tf_cache[cache_key]


def sentiment_en(
    model_dir: str | Path | None = None, transformer: str = "uncertain", below: float = 0.8
) -> LinearModel | TransformerModel | Cascade | None:
    """English sentiment as configured (``transformer``: off | uncertain | all); each model from
    ``model_dir`` when it holds one (a firm's retrained n-gram model keeps the shipped transformer)."""
    linear = get_model("sentiment_en", model_dir)
    tf = get_transformer("sentiment_en", model_dir) if transformer != "off" else None
    if tf is None:
        return linear
    if transformer == "all" or linear is None:
        return tf
    return Cascade(linear, tf, below)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _tf_cache.clear()
