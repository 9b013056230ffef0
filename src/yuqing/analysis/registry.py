"""Loads the shipped (or retrained) models once per process, lazily."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from yuqing.analysis.linear import LinearModel

MODEL_FILES = {
    "sentiment_zh": "sentiment_zh.joblib",
    "sentiment_en": "sentiment_en.joblib",
    "subject": "subject_zh.joblib",
    "risk": "risk_zh.joblib",
}
_cache: dict[tuple[str, str], LinearModel | None] = {}
_lock = threading.Lock()


def shipped_dir() -> Path:
    return Path(str(resources.files("yuqing.analysis").joinpath("models_data")))


def model_path(key: str, model_dir: str | Path | None = None) -> Path:
    base = Path(model_dir) if model_dir else shipped_dir()
    path = base / MODEL_FILES[key]
    if model_dir and not path.is_file():  # a retrained set may hold only some models
        path = shipped_dir() / MODEL_FILES[key]
    return path


def get_model(key: str, model_dir: str | Path | None = None) -> LinearModel | None:
    """The model, or None when no file exists (the stage then uses its lexicon fallback)."""
    path = model_path(key, model_dir)
    cache_key = (key, str(path))
    with _lock:
        if cache_key not in _cache:
            _cache[cache_key] = LinearModel.load(path) if path.is_file() else None
        return _cache[cache_key]


def clear_cache() -> None:
    with _lock:
        _cache.clear()
