"""Pure cores of the events stage: clusterer, metrics, tokens, burst detector, grading rules."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from yuqing.analysis import segment
from yuqing.core.contracts import AnalysedMention, TargetHit
from yuqing.errors import ConfigError, ValidationError
from yuqing.events.burst import BurstParams, detect, expected_count, poisson_tail
from yuqing.events.cluster import ClusterParams, Doc, OnlineClusterer
from yuqing.events.evaluate import evaluate_file, read_rows
from yuqing.events.grading import grade, load_rules, load_rules_text
from yuqing.events.metrics import ari, bcubed, nmi
from yuqing.events.settings import EventSettings
from yuqing.events.tokens import TARGET_PREFIX, mention_tokens, text_tokens

T0 = datetime(2026, 3, 2, tzinfo=UTC)

# -- metrics -----------------------------------------------------------------------------------

LABELINGS = [
    ([0, 0, 1, 1], [0, 0, 1, 1]),
    ([0, 0, 1, 1], [1, 1, 0, 0]),
    ([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]),
    ([0, 1, 2, 3], [0, 0, 0, 0]),
    ([0, 0, 1, 1, 2, 2, 2], [0, 1, 1, 2, 2, 2, 0]),
]


@pytest.mark.parametrize(("gold", "pred"), LABELINGS)
def test_nmi_ari_match_scikit_learn(gold: list[int], pred: list[int]) -> None:
    assert nmi(gold, pred) == pytest.approx(normalized_mutual_info_score(gold, pred), abs=1e-9)
    assert ari(gold, pred) == pytest.approx(adjusted_rand_score(gold, pred), abs=1e-9)


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        ([0, 0, 1, 1], [0, 0, 1, 1], (1.0, 1.0, 1.0)),
        ([0, 0, 1, 1], [0, 0, 0, 0], (0.5, 1.0, 2 / 3)),
        ([0, 0, 1, 1], [0, 1, 2, 3], (1.0, 0.5, 2 / 3)),
        ([0, 0, 0, 1], [0, 0, 1, 1], (0.75, (1 / 3 * 4 + 1 / 3 * 1 + 1) / 4 + 1 / 6 - 1 / 6, None)),
    ],
)
def test_bcubed_cases(gold: list[int], pred: list[int], expected: tuple) -> None:
    p, r, f = bcubed(gold, pred)
    assert p == pytest.approx(expected[0])
    if expected[2] is not None:
        assert r == pytest.approx(expected[1])
        assert f == pytest.approx(expected[2])
    else:  # gold {0,1,2},{3}; pred {0,1},{2,3}: recall = (2/3+2/3+1/3+1)/4
        assert r == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)


def test_metrics_reject_length_mismatch() -> None:
    with pytest.raises(ValueError):
        bcubed([1, 2], [1])


# -- clusterer ---------------------------------------------------------------------------------

STORIES = {
    "fee": [
        "bank credit card fee complaint refund",
        "credit card fee refund demanded",
        "hidden card fee complaint",
    ],
    "quake": [
        "earthquake strikes coast tsunami warning",
        "tsunami warning after earthquake",
        "earthquake toll rises",
    ],
    "final": ["cup final goal striker wins", "striker goal wins cup final", "final cup celebrations striker"],
}


def _stream(seed: int) -> tuple[list[Doc], list[str]]:
    items = [(label, text) for label, texts in STORIES.items() for text in texts]
    random.Random(seed).shuffle(items)
    return [Doc(i, t.split()) for i, (_, t) in enumerate(items)], [label for label, _ in items]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_clusterer_separates_stories_in_any_order(seed: int) -> None:
    docs, gold = _stream(seed)
    pred = OnlineClusterer(ClusterParams(min_docs=10)).run(docs)
    assert nmi(gold, pred) == pytest.approx(1.0)


def test_clusterer_is_deterministic() -> None:
    docs, _ = _stream(5)
    assert OnlineClusterer().run(docs) == OnlineClusterer().run(docs)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (["~fee", "@t:1", "@t:1", "示例", "收费"], ["~fee", "@t:1", "@t:1", "hidden", "card"], True),
        (["~fee", "@t:1", "@t:1", "收费", "信用卡"], ["~fee", "@t:2", "@t:2", "收费", "信用卡"], False),
        (["earthquake", "tsunami", "coast"], ["cup", "final", "striker"], False),
    ],
)
def test_clusterer_pairs(first: list[str], second: list[str], same: bool) -> None:
    c = OnlineClusterer(ClusterParams(min_docs=10))
    a, _ = c.assign(Doc(1, first))
    b, created = c.assign(Doc(2, second))
    assert (a == b) is same
    assert created is not same


def test_clusterer_keeps_apart_the_target_tokens_that_mention_tokens_writes() -> None:
    # The pure clusterer spells the prefix out rather than import the token module: same value.
    assert ClusterParams().exclusive_prefix == TARGET_PREFIX


def test_duplicates_follow_original_and_closed_clusters_get_nothing() -> None:
    c = OnlineClusterer(ClusterParams(min_docs=10))
    a, _ = c.assign(Doc(1, ["earthquake", "tsunami"]))
    b, _ = c.assign(Doc(2, ["cup", "final", "striker"]))
    assert c.assign(Doc(3, ["totally", "different", "words"], duplicate_of=1))[0] == a
    c.close(b)
    placed, created = c.assign(Doc(4, ["cup", "final", "striker"]))
    assert placed != b and created


def test_dormancy_bounds_memory_and_wakes_up() -> None:
    c = OnlineClusterer(ClusterParams(min_docs=10, dormant_after=timedelta(hours=1), max_dormant=1))
    a, _ = c.assign(Doc(1, ["earthquake", "tsunami", "coast"], T0))
    assert c.expire(T0 + timedelta(hours=2)) == [a]
    assert a not in c.active and a in c.dormant
    woke, created = c.assign(Doc(2, ["earthquake", "tsunami", "warning"], T0 + timedelta(hours=2)))
    assert woke == a and not created and a in c.active
    # the dormant store is bounded: the oldest summaries are forgotten
    c.assign(Doc(3, ["cup", "final"], T0 + timedelta(hours=3)))
    c.expire(T0 + timedelta(hours=10))
    assert len(c.dormant) == 1


def test_active_set_is_bounded() -> None:
    c = OnlineClusterer(ClusterParams(min_docs=10, max_active=3))
    for i in range(10):
        c.assign(Doc(i, [f"word{i}", f"other{i}"], T0 + timedelta(minutes=i)))
    assert len(c.active) <= 3


def test_split_and_merge_bookkeeping() -> None:
    c = OnlineClusterer(ClusterParams(min_docs=10))
    a, _ = c.assign(Doc(1, ["x", "y"]))
    c.absorb(a, {"z": 2}, 1, None)
    assert c.active[a].counts["z"] == 2 and c.active[a].m == 2
    c.withdraw(a, {"z": 2}, 1)
    assert "z" not in c.active[a].counts and c.active[a].m == 1


# -- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RT @jack: Bitcoin crashes overnight https://t.co/AbC123", ["bitcoin", "crashes", "overnight"]),
        (
            "Rates rise again, details at www.example.com/news?id=1 today",
            ["rates", "rise", "again", "details", "today"],
        ),
        ("信用卡年费乱扣 //@李四: 我也是 http://t.cn/zlHqg5e", ["~credit_card", "年费乱", "~fee"]),
        ("回复@王五: 银行客服终于回电话了", ["客服", "终于", "电话"]),
    ],
)
def test_links_and_repost_markers_are_not_words(text: str, expected: list[str]) -> None:
    """A shared t.co link or a repost chain says where a post came from, not what it is about."""
    assert text_tokens(text) == expected
    words = segment.default_segmenter().cut(text)
    assert not {"http", "https", "t", "co", "cn", "www", "rt", "jack", "李四", "王五"} & set(words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("招商银行乱收费遭客户投诉", {"~cmb", "~fee", "~customer", "~complaint"}),
        (
            "China Merchants Bank customers complain over hidden fees",
            {"~cmb", "~customer", "~complaint", "~fee"},
        ),
        ("网传某银行挤兑", {"~bank_run"}),
        ("Rumours of a bank run", {"~rumour", "~bank_run"}),
    ],
)
def test_bilingual_concepts(text: str, expected: set[str]) -> None:
    assert expected <= set(text_tokens(text))


def test_mention_tokens_carry_analysis_facets() -> None:
    m = AnalysedMention(
        mention_id=1,
        source_id=1,
        platform="news",
        source_tier="financial_media",
        url=None,
        title="Bank fined over data leak",
        text="",
        author=None,
        author_followers=0,
        published_at=T0,
        lang="en",
        duplicate_of_id=None,
        sentiment="negative",
        negative_prob=0.9,
        targets=(TargetHit(5, "X", True, 0.9),),
        entities=("招商银行",),
        risk_type="数据泄露",
    )
    toks = mention_tokens(m, target_weight=3)
    assert toks.count("@t:5") == 3
    assert "@r:数据泄露" in toks and "~cmb" in toks and "~fine" in toks and "~data_leak" in toks


# -- burst -------------------------------------------------------------------------------------


def _seasonal(days: int, day_rate: float, night_rate: float, seed: int = 1) -> dict[datetime, int]:
    import numpy as np

    rng = np.random.default_rng(seed)
    out = {}
    for h in range(days * 24):
        t = T0 + timedelta(hours=h)
        rate = day_rate if 8 <= t.hour < 20 else night_rate
        out[t] = int(rng.poisson(rate))
    return out


def test_poisson_tail_values() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - 2.718281828**-2)
    assert poisson_tail(10, 1.0) < 1e-6


def test_expected_follows_hour_of_day() -> None:
    hist = _seasonal(14, 10.0, 1.0)
    day = T0 + timedelta(days=14, hours=12)
    night = T0 + timedelta(days=14, hours=3)
    p = BurstParams()
    assert expected_count(hist, day, p) > 3 * expected_count(hist, night, p)


@pytest.mark.parametrize(
    ("hour", "observed", "fired"),
    [
        (12, 14, False),  # busy daytime hour: normal
        (3, 14, True),  # the same count at 3 am is a burst
        (3, 3, False),  # below the minimum count
        (12, 40, True),
    ],
)
def test_burst_cases(hour: int, observed: int, fired: bool) -> None:
    hist = _seasonal(14, 10.0, 1.0)
    at = T0 + timedelta(days=14, hours=hour)
    hist[at] = observed
    assert detect(hist, at, BurstParams()).fired is fired


def test_new_series_needs_min_count() -> None:
    at = T0 + timedelta(hours=5)
    assert not detect({at: 4}, at, BurstParams()).fired
    assert detect({at: 8}, at, BurstParams()).fired


# -- grading -----------------------------------------------------------------------------------

BASE = {
    "mention_count": 10,
    "negative_count": 3,
    "negative_share": 0.3,
    "window_count": 5,
    "velocity": 2.5,
    "growth": 1.0,
    "reach": 100.0,
    "platform_count": 1,
    "unique_authors": 8,
    "tier_rank": 1,
    "highest_tier": "personal",
    "central_media": False,
    "regulator": False,
    "risk_type": None,
}


@pytest.mark.parametrize(
    ("changes", "level", "phrase"),
    [
        ({}, "IV", "累计 10 条"),
        ({"risk_type": "挤兑/流动性谣言"}, "II", "风险类型：挤兑/流动性谣言"),
        ({"risk_type": "数据泄露"}, "II", "风险类型：数据泄露"),
        (
            {"tier_rank": 4, "highest_tier": "financial_media", "negative_share": 0.6, "negative_count": 12},
            "III",
            "财经媒体报道",
        ),
        (
            {"central_media": True, "negative_share": 0.78, "negative_count": 900, "tier_rank": 5},
            "II",
            "央媒报道",
        ),
        (
            {"central_media": True, "negative_share": 0.78, "negative_count": 1500, "window_count": 2400},
            "I",
            "2 小时内 2,400 条",
        ),
        ({"negative_count": 60}, "III", "负面 60 条"),
        ({"regulator": True, "negative_count": 12}, "II", "监管机构介入"),
    ],
)
def test_default_rules(changes: dict, level: str, phrase: str) -> None:
    g = grade({**BASE, **changes}, load_rules())
    assert g.level == level
    assert phrase in g.reasons
    assert len(g.reasons) == len(g.reasons_en)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "YAML syntax"),
        ("- a\n- b\n", "top level"),
        ("rules:\n  - {name: a, level: V, all: [{metric: reach, gte: 1}]}\n", "level must be one of"),
        ("rules:\n  - {name: a, level: II, all: [{metric: nope, gte: 1}]}\n", "unknown metric"),
        ("rules:\n  - {name: a, level: II, all: [{metric: reach, gte: high}]}\n", "needs a number"),
        ("rules:\n  - {name: a, level: II, all: [{metric: reach, gte: 1, lt: 2}]}\n", "exactly one operator"),
        ("rules:\n  - {name: a, level: II, all: []}\n", "non-empty"),
        ("rules:\n  - {name: a, level: II, all: [{metric: central_media, gte: 1}]}\n", "eq: true|false"),
        (
            "rules:\n  - {name: a, level: II, all: [{metric: reach, gte: 1}]}\n"
            "  - {name: a, level: I, all: [{metric: reach, gte: 2}]}\n",
            "duplicate rule name",
        ),
    ],
)
def test_bad_rules_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_rules_text(text, "test.yaml")


def test_rules_file_from_settings(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text(
        "window_hours: 1\nrules:\n  - {name: any_neg, level: III, all: [{metric: negative_count, gte: 1}]}\n"
    )
    rules = load_rules(str(f))
    assert grade({**BASE}, rules).level == "III"
    with pytest.raises(ConfigError, match="not found"):
        load_rules(str(tmp_path / "missing.yaml"))


# -- eval input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no rows"),
        ("{not json}\n", "line 1: invalid JSON"),
        ('{"id": 1, "text": "a", "label": 1}\n[1, 2]\n', "line 2: not a JSON object"),
        ('{"id": 1, "text": "a"}\n', "missing field"),
        ('{"id": 1, "text": 5, "label": 1}\n', "text is not a string"),
        ('{"id": 1, "text": "a", "label": 1, "time": "yesterday"}\n', "invalid time"),
    ],
)
def test_eval_input_errors(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        read_rows(f)


def test_eval_small_file(tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    rows = []
    n = 0
    for label, texts in STORIES.items():
        for t in texts:
            rows.append({"id": n, "text": t, "label": label, "time": (T0 + timedelta(minutes=n)).isoformat()})
            n += 1
    random.Random(3).shuffle(rows)
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = evaluate_file(f, EventSettings())
    assert out["n"] == 9
    assert 3 <= out["clusters_found"] <= 4
    assert out["bcubed_precision"] == pytest.approx(1.0)  # no two stories merged
    assert out["nmi"] >= 0.85
    assert out["docs_per_second"] > 0
