"""``yuqing eval sentiment|subject|risk --data FILE.jsonl``: metrics of the current models."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from yuqing.analysis import datasets, features, lang, registry, risk, sentiment, subject
from yuqing.analysis.core import Models
from yuqing.analysis.settings import AnalysisSettings
from yuqing.analysis.train import _classification_metrics, subject_score
from yuqing.errors import ValidationError

SENT_3 = ("negative", "neutral", "positive")
DEFAULTS = AnalysisSettings()  # `yuqing eval` scores the default configuration
SENT_2 = ("negative", "non_negative")


def _text(obj: dict[str, Any], path: Path, key: str = "text") -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v.strip():
        raise ValidationError(
            f"{path}:{obj['_line']}: 缺少文本字段 {key!r} / missing or empty {key!r}",
            code="bad_line",
            line=obj["_line"],
        )
    return v


def _label(obj: dict[str, Any], path: Path, allowed: tuple[str, ...] | frozenset[str]) -> str:
    v = obj.get("label")
    if not isinstance(v, str) or v not in allowed:
        raise ValidationError(
            f"{path}:{obj['_line']}: 未知标签 / unknown label {v!r}; "
            f"expected one of: {', '.join(sorted(allowed))}",
            code="unknown_label",
            line=obj["_line"],
        )
    return v


def models_from(model_dir: str | None, english_transformer: str | None = None) -> Models:
    return Models(
        sentiment_zh=registry.get_model("sentiment_zh", model_dir),
        sentiment_en=registry.sentiment_en(
            model_dir, english_transformer or DEFAULTS.english_transformer, DEFAULTS.english_transformer_below
        ),
        subject=registry.get_model("subject", model_dir),
        risk=registry.get_model("risk", model_dir),
    )


def eval_sentiment(path: Path, models: Models) -> dict[str, Any]:
    rows = datasets.read_jsonl(path)
    texts = [_text(r, path) for r in rows]
    labels = [_label(r, path, (*SENT_3, "non_negative")) for r in rows]
    two_class = "non_negative" in labels
    if (two_class and "neutral" in labels) or (two_class and "positive" in labels):
        bad = next(r for r, lab in zip(rows, labels, strict=True) if lab in ("neutral", "positive"))
        raise ValidationError(
            f"{path}:{bad['_line']}: 二分类文件中不能混用 / "
            "two-class file (negative|non_negative) mixes 3-class labels",
            code="unknown_label",
            line=bad["_line"],
        )
    t0 = time.perf_counter()
    langs = [lang.detect(t) for t in texts]
    preds = sentiment.predict(texts, langs, {"zh": models.sentiment_zh, "en": models.sentiment_en})
    elapsed = time.perf_counter() - t0
    p = [r.label for r in preds]
    if two_class:
        p = ["negative" if x == "negative" else "non_negative" for x in p]
    m: dict[str, Any] = dict(_classification_metrics(labels, p))
    m.setdefault("negative_precision", 0.0)
    m.setdefault("negative_recall", 0.0)
    m.setdefault("negative_f1", 0.0)
    m["texts_per_second"] = round(len(texts) / max(elapsed, 1e-9), 1)
    m["labels"] = list(SENT_2 if two_class else SENT_3)
    return m


def eval_subject(path: Path, models: Models) -> dict[str, Any]:
    rows = datasets.read_jsonl(path)
    recs, preds = [], []
    t0 = time.perf_counter()
    for r in rows:
        text = _text(r, path)
        ents, negs = r.get("entities"), r.get("negative_entities", [])
        if not isinstance(ents, list) or not all(isinstance(e, str) for e in ents):
            raise ValidationError(
                f"{path}:{r['_line']}: entities 须为字符串列表 / entities must be a list of strings",
                line=r["_line"],
            )
        if not isinstance(negs, list) or not all(isinstance(e, str) for e in negs):
            raise ValidationError(
                f"{path}:{r['_line']}: negative_entities 须为字符串列表 / must be a list of strings",
                line=r["_line"],
            )
        unknown = [e for e in negs if e not in ents]
        if unknown:
            raise ValidationError(
                f"{path}:{r['_line']}: negative_entities 不在 entities 中 / not among entities: {unknown}",
                code="unknown_label",
                line=r["_line"],
            )
        title = r.get("title") or ""
        recs.append(
            datasets.SubjectRecord(str(r["_line"]), str(title), text, list(ents), bool(negs), list(negs))
        )
        pr = subject.predict(models.subject, text, ents, str(title))
        preds.append({x.entity for x in pr if x.negative})
    elapsed = time.perf_counter() - t0
    m: dict[str, Any] = dict(subject_score(recs, preds))
    m["texts_per_second"] = round(len(rows) / max(elapsed, 1e-9), 1)
    return m


def _risk_types(obj: dict[str, Any], path: Path) -> list[str]:
    """``label`` is one type or a list of types (a text bundling several events about different
    subjects: the prediction is right when it is any of them); the first is the row's own label."""
    v = obj.get("label")
    items = v if isinstance(v, list) and v else [v]
    return [_label({**obj, "label": item}, path, frozenset(risk.RISK_TYPES)) for item in items]


def eval_risk(path: Path, models: Models) -> dict[str, Any]:
    rows = datasets.read_jsonl(path)
    texts = [_text(r, path) for r in rows]
    golds = [_risk_types(r, path) for r in rows]
    t0 = time.perf_counter()
    x = features.zh_vectors(texts) if models.risk is not None else None
    preds = [r.risk_type for r in risk.predict_matrix(models.risk, texts, x)]
    elapsed = time.perf_counter() - t0
    # A prediction among a row's listed types counts as that row's label.
    labels = [p if p in g else g[0] for g, p in zip(golds, preds, strict=True)]
    m: dict[str, Any] = dict(_classification_metrics(labels, preds, negative="__none__"))
    m["texts_per_second"] = round(len(texts) / max(elapsed, 1e-9), 1)
    m["labels_seen"] = len(set(labels))
    m["multi_type_rows"] = sum(1 for g in golds if len(g) > 1)
    m["confusions_top"] = _top_confusions(labels, preds)
    return m


def _top_confusions(y: list[str], p: list[str], k: int = 5) -> list[list[Any]]:
    counts: dict[tuple[str, str], int] = {}
    for a, b in zip(y, p, strict=True):
        if a != b:
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return [[a, b, n] for (a, b), n in sorted(counts.items(), key=lambda kv: -kv[1])[:k]]


EVALUATORS = {"sentiment": eval_sentiment, "subject": eval_subject, "risk": eval_risk}


def evaluate(
    kind: str, path: Path, model_dir: str | None = None, english_transformer: str | None = None
) -> dict[str, Any]:
    """Metrics of the models in ``model_dir`` (default: shipped), English sentiment configured as
    ``english_transformer`` (default: the setting's default)."""
    if kind not in EVALUATORS:
        raise ValidationError(f"未知的评估类型 / unknown eval kind {kind!r}; expected sentiment|subject|risk")
    m = EVALUATORS[kind](path, models_from(model_dir, english_transformer))
    m["kind"] = kind
    m["data"] = str(path)
    return m


__all__ = ["evaluate"]
