"""The shipped English sentiment transformer (int8 ONNX): loading, batching, routing, the cascade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yuqing.analysis import registry, sentiment
from yuqing.analysis.linear import LinearModel
from yuqing.analysis.sentiment import Cascade
from yuqing.analysis.transformer import TransformerModel

MODEL = registry.get_transformer("sentiment_en")
NEGATIVE = "Bank shares plunge after the regulator fines the lender for mis-selling; analysts slash targets"
POSITIVE = "Lender posts record quarterly profit, raises its dividend and beats every analyst estimate"
NEUTRAL = "The bank will publish its third-quarter results on October 28"


def test_shipped_transformer_is_complete() -> None:
    assert isinstance(MODEL, TransformerModel)
    assert MODEL.classes == ("negative", "neutral", "positive")
    assert MODEL.version.startswith("sentiment_en_tf-") and 0.05 < MODEL.temperature < 20
    meta = MODEL.meta
    assert meta["metrics"]["held_out"]["n"] > 1000 and "twitter_fin" in meta["metrics"]["held_out_by_source"]
    assert any(k.startswith("base:") for k in meta["data"])  # the base model's hash is recorded
    assert (registry.shipped_dir() / "sentiment_en_tf.md").is_file()


@pytest.mark.parametrize(
    ("text", "label"), [(NEGATIVE, "negative"), (POSITIVE, "positive"), (NEUTRAL, "neutral")]
)
def test_clear_cases(text: str, label: str) -> None:
    assert MODEL is not None
    (result,) = sentiment.predict([text], ["en"], {"en": MODEL})
    assert result.label == label
    assert sum(result.probs.values()) == pytest.approx(1.0)


def test_a_text_scores_the_same_whatever_else_is_in_the_batch() -> None:
    assert MODEL is not None
    texts = ["Stocks fall", "", "x" * 2000, POSITIVE] * 3
    together = MODEL.logits(texts)
    alone = np.vstack([MODEL.logits([t]) for t in texts[:4]])
    assert np.array_equal(together[:4], alone) and np.array_equal(together[:4], together[4:8])


def test_routing_follows_the_setting_and_a_retrained_set(tmp_path: Path) -> None:
    assert MODEL is not None
    default = registry.sentiment_en()
    assert isinstance(default, Cascade) and default.second.version == MODEL.version and default.below == 0.8
    every = registry.sentiment_en(transformer="all")
    assert isinstance(every, TransformerModel) and every.version == MODEL.version
    linear = registry.sentiment_en(transformer="off")
    assert isinstance(linear, LinearModel)
    linear.save(tmp_path / "sentiment_en.joblib")
    registry.clear_cache()
    try:  # a retrained n-gram model keeps the shipped transformer behind it
        retrained = registry.sentiment_en(tmp_path)
        assert isinstance(retrained, Cascade) and retrained.first is not linear
        assert retrained.second.version == MODEL.version
        assert registry.sentiment_en(tmp_path, transformer="off") is retrained.first
    finally:
        registry.clear_cache()


def test_cascade_hands_only_the_unsure_texts_to_the_transformer() -> None:
    linear = registry.sentiment_en(transformer="off")
    assert isinstance(linear, LinearModel) and MODEL is not None
    texts = [NEGATIVE, POSITIVE, NEUTRAL, "Shares of the bank moved today"]

    def run(model: sentiment.SentimentModel) -> list[dict[str, float]]:
        return [r.probs for r in sentiment.predict(texts, ["en"] * len(texts), {"en": model})]

    assert run(Cascade(linear, MODEL, 0.0)) == run(linear)  # never unsure
    assert run(Cascade(linear, MODEL, 1.0)) == run(MODEL)  # always unsure
    mixed, lin = run(Cascade(linear, MODEL, 0.8)), run(linear)
    for m, r in zip(mixed, lin, strict=True):
        assert (m == r) == (max(r.values()) >= 0.8)
