"""Language, segmentation, target matching, entities, influence: tables of cases."""

from __future__ import annotations

import pytest

from yuqing.analysis import entities, lang, segment
from yuqing.analysis.influence import influence_score
from yuqing.analysis.targets import TargetSpec, compile_target, extra_words, match_targets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("招商银行信用卡乱收费", "zh"),
        ("招行App又崩了 CMB", "zh"),
        ("China Merchants Bank was fined by the regulator", "en"),
        ("$CMB down 5% https://t.co/abc", "en"),
        ("12345 ！！！", "other"),
        ("Die Bank hat Gebühren erhöht und die Kunden sind wütend über höhere Gebühren", "other"),
        ("銀行の手数料が上がった", "other"),
        ("", "other"),
    ],
)
def test_language(text: str, expected: str) -> None:
    assert lang.detect(text) == expected


def test_segmentation_uses_finance_and_target_words() -> None:
    seg = segment.Segmenter(["华信银行", "掌上生活"])
    tokens = seg.cut("华信银行的掌上生活APP出现暴力催收，客户投诉乱收费！")
    assert "华信银行" in tokens and "掌上生活" in tokens
    assert "暴力催收" in tokens and "乱收费" in tokens
    assert "！" not in tokens and "，" not in tokens
    assert "app" in tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("利率3.5%！", ["利率", "3", "5"]),  # punctuation and whitespace go
        ("A股 —— 大涨", ["A股", "大", "涨"]),  # only all-Latin tokens are lower-cased
        ("Hello, WORLD", ["hello", "world"]),
        ("“保本”？", ["保本"]),
        ("", []),
    ],
)
def test_segmentation_tokens(text: str, expected: list[str]) -> None:
    seg = segment.Segmenter()
    # Twice: the second cut answers from the remembered tokens and must say the same.
    assert seg.cut(text) == expected
    assert seg.cut(text) == expected


def test_keywords_skip_stopwords_and_numbers() -> None:
    kws = segment.keywords(["的", "收费", "收费", "2026", "银行", "了", "银行", "银行"])
    assert kws[0] == "银行" and "收费" in kws
    assert "的" not in kws and "2026" not in kws


CMB = TargetSpec(
    id=1,
    name="招商银行",
    aliases=("招行", "CMB", "China Merchants Bank"),
    executives=("王良",),
    products=("掌上生活",),
)
CMB_RULE = TargetSpec(id=2, name="招行方案", aliases=("招行",), rule="(招商银行 OR 招行) NOT 招聘")
HX = TargetSpec(id=3, name="华信银行", aliases=("华信",), exclude=("华信证券",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("招商银行信用卡乱收费", [(1, "name"), (2, "rule")]),
        ("招行App崩了", [(1, "alias"), (2, "rule")]),
        ("招行招聘：2026届校园招聘", [(1, "alias")]),  # the rule excludes 招聘 adverts
        ("CMB app is down again", [(1, "alias")]),
        ("CMBC app is down again", []),  # CMB only as a whole word
        ("china merchants bank fined", [(1, "alias")]),
        ("王良出席论坛", [(1, "executive")]),
        ("掌上生活APP闪退", [(1, "product")]),
        ("华信银行又扣费", [(3, "name")]),
        ("华信证券发布研报，华信银行也参与", []),  # exclusion word
        ("工商银行发布年报", []),
    ],
)
def test_target_matching(text: str, expected: list[tuple[int, str]]) -> None:
    targets = [compile_target(t) for t in (CMB, CMB_RULE, HX)]
    assert [(m.target_id, m.via) for m in match_targets(text, targets)] == expected


def test_target_match_spans_point_at_names() -> None:
    [m] = match_targets("投诉：招行乱收费", [compile_target(CMB)])
    assert m.spans == ((3, 5),)
    assert m.matched_terms == ("招行",)
    assert "掌上生活" in extra_words([CMB, HX]) and "王良" in extra_words([CMB])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天去招商银行办理业务", ["招商银行"]),
        ("小资钱包的合作方恒丰银行被查", ["小资钱包", "恒丰银行"]),
        ("北京正聚源通鼎信用管理有限公司涉嫌诈骗", ["北京正聚源通鼎信用管理有限公司"]),
        ("该公司表示将依法维权", []),
        ("平安保险与中信证券签约", ["平安保险", "中信证券"]),
    ],
)
def test_entity_patterns(text: str, expected: list[str]) -> None:
    got = [e.text for e in entities.extract_entities(text) if e.kind == "ORG"]
    assert got == expected


def test_entities_from_targets() -> None:
    got = {(e.text, e.kind) for e in entities.extract_entities("王良表示掌上生活将升级，招行回应", [CMB])}
    assert {("王良", "PER"), ("掌上生活", "PRODUCT"), ("招行", "ORG")} <= got


@pytest.mark.parametrize(
    ("tier", "followers", "reposts", "comments", "likes", "views", "expected"),
    [
        ("personal", 0, 0, 0, 0, 0, 10.0),
        ("central_media", 0, 0, 0, 0, 0, 50.0),
        ("financial_media", 0, 0, 0, 0, 0, 40.0),
        ("self_media", 10_000_000, 0, 0, 0, 0, 45.0),  # followers saturate at 10 million
        ("personal", 0, 33_334, 0, 0, 0, 35.0),  # engagement saturates at 100 000
        ("central_media", 10**9, 10**7, 10**7, 10**7, 10**9, 100.0),
        ("unknown_tier", 0, 0, 0, 0, 0, 10.0),
        ("personal", -5, -1, 0, 0, 0, 10.0),  # negative counts are ignored
        ("local_media", 999, 9, 0, 0, 0, 48.0),  # 30 + 25*3/7 + 25*log10(28)/5 = 47.95
    ],
)
def test_influence_formula(
    tier: str, followers: int, reposts: int, comments: int, likes: int, views: int, expected: float
) -> None:
    assert influence_score(tier, followers, reposts, comments, likes, views) == expected


def test_influence_is_monotonic_in_each_input() -> None:
    base = influence_score("self_media", 1000, 10, 10, 10, 1000)
    assert influence_score("financial_media", 1000, 10, 10, 10, 1000) > base
    assert influence_score("self_media", 100_000, 10, 10, 10, 1000) > base
    assert influence_score("self_media", 1000, 100, 10, 10, 1000) > base
    assert influence_score("self_media", 1000, 10, 10, 10, 1000, duplicates=50) > base
