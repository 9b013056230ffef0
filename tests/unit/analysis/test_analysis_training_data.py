"""What the sentiment models are trained on: label-defining emoticons, stable held-out splits."""

from __future__ import annotations

import numpy as np
import pytest

from yuqing.analysis import train
from yuqing.analysis.datasets import Labelled


def test_weibo_label_emoticons_are_removed_from_most_training_posts() -> None:
    recs = [Labelled(f"第{i}条：心情[哈哈]真的[爱你]", "positive", "weibo_senti_100k") for i in range(500)]
    out = [train.training_text(r) for r in recs]
    stripped = [t for t in out if "[" not in t]
    kept = [t for t, r in zip(out, recs, strict=True) if t == r.text]
    assert len(stripped) + len(kept) == len(recs)
    assert 0.7 < len(stripped) / len(recs) < 0.9  # one post in five keeps them
    assert all("心情" in t and "真的" in t for t in stripped)  # only the emoticons go
    assert out == [train.training_text(r) for r in recs]  # the same rows every run


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (Labelled("[哈哈][哈哈]", "positive", "weibo_senti_100k"), "[哈哈][哈哈]"),  # nothing else to keep
        (Labelled("房间很好[哈哈]", "positive", "chnsenticorp"), "房间很好[哈哈]"),  # not labelled by them
        (Labelled("[1] fees rose", "negative", "twitter_fin"), "[1] fees rose"),
    ],
)
def test_training_text_leaves_other_rows_alone(rec: Labelled, expected: str) -> None:
    assert train.training_text(rec) == expected


def test_a_set_added_later_does_not_move_the_earlier_held_out_rows() -> None:
    rng = np.random.default_rng(3)
    src = np.array(["twitter_fin"] * 300 + ["financial_phrasebank"] * 200)
    y = rng.choice(["negative", "neutral", "positive"], size=len(src))
    _, ho_before = train.sentiment_split(src, y)
    src2 = np.concatenate([src, ["cfpb_complaints"] * 100])
    y2 = np.concatenate([y, ["negative"] * 100])
    tr, ho = train.sentiment_split(src2, y2)
    assert sorted(ho[ho < len(src)]) == sorted(ho_before)
    assert set(tr) | set(ho) == set(range(len(src2))) and not set(tr) & set(ho)
    assert 10 <= int(np.sum(ho >= len(src))) <= 20  # the new set keeps its own 15 %
