"""Possibly related events: TF-IDF cosine of their words, shared words as the reason."""

from __future__ import annotations

import pytest

from yuqing.events.related import Related, readable, related

FEE = {"分期": 5, "~fee": 6, "0利息": 3, "宣传": 2, "@t:1": 9, "@e:华信银行": 4}
OTHERS = {
    2: {"分期": 2, "~fee": 2, "误导": 1, "@t:1": 2},  # the same story, told later
    3: {"分期": 2, "~fee": 2, "误导": 1, "@t:7": 2},  # the same words about another bank
    4: {"降温": 3, "加衣服": 2, "@t:1": 1},  # the bank's name only
    5: {"招聘": 2, "理财经理": 1, "@e:华信银行": 1},  # only the bank as an entity
    6: {"天气": 1, "晚霞": 2},
}


def test_the_same_story_is_related_other_banks_and_chatter_are_not() -> None:
    out = related(FEE, OTHERS)
    assert [r.event_id for r in out] == [2]
    assert out[0].shared[:2] == ("fee", "分期") and 0.2 <= out[0].score <= 1


@pytest.mark.parametrize(
    ("target", "candidates", "expected"),
    [
        ({}, OTHERS, []),  # an event with no words has no relatives
        ({"@t:1": 3}, OTHERS, []),  # the watch target alone is not a shared word
        (FEE, {}, []),
        ({"a": 1, "b": 1}, {9: {"a": 1, "b": 1}, 8: {"a": 1, "b": 1}}, [8, 9]),  # ties: lower id first
        ({"a": 1, "b": 1}, {9: {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, 8: {"a": 1, "b": 1}}, [8, 9]),
    ],
)
def test_related_cases(
    target: dict[str, int], candidates: dict[int, dict[str, int]], expected: list[int]
) -> None:
    assert [r.event_id for r in related(target, candidates, min_score=0.1)] == expected


def test_limit_threshold_and_readable_words() -> None:
    many = {i: {"a": 1, "b": 1, f"x{i}": i} for i in range(1, 10)}
    assert len(related({"a": 1, "b": 1}, many, limit=3, min_score=0.0)) == 3
    assert related({"a": 1, "b": 1}, many, min_score=1.01) == []
    assert [readable(t) for t in ("~credit_card", "@e:华信银行", "@r:收费争议", "分期")] == [
        "credit card",
        "华信银行",
        "收费争议",
        "分期",
    ]
    both = {"华信银行": 1, "@e:华信银行": 1}
    r = related({**both, "x": 1}, {2: {**both, "y": 1}}, min_score=0.0)
    assert r == [Related(2, r[0].score, ("华信银行",))]  # the word and the entity read the same: once
