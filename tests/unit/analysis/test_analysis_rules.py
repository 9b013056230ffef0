"""Keyword rules (监测方案): parsing, errors that point at the position, matching."""

from __future__ import annotations

import pytest

from yuqing.analysis import rules
from yuqing.analysis.lang import normalise
from yuqing.errors import ValidationError


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("招行", "招行信用卡", True),
        ("招行 OR 招商银行", "招商银行发布年报", True),
        ("招行 | 招商银行", "工商银行发布年报", False),
        ("(招行 OR 招商银行) AND 信用卡", "招商银行信用卡中心", True),
        ("(招行 OR 招商银行) AND 信用卡", "招商银行房贷", False),
        ("招行 信用卡", "招行的信用卡", True),  # implicit AND
        ("招行 信用卡", "招行的房贷", False),
        ("招行 NOT 招聘", "招行招聘：校园招聘开启", False),
        ("招行 NOT 招聘", "招行乱收费", True),
        ("招行 AND NOT (招聘 OR 广告)", "招行广告", False),
        ("!招聘", "招行乱收费", True),
        ('"China Merchants Bank"', "china merchants bank fined", True),
        ('"China Merchants Bank"', "China Merchants fined a bank", False),
        ("CMB", "CMB app down", True),
        ("CMB", "CMBC app down", False),  # short Latin alias as a whole word
        ("cmb", "招行CMB信用卡", True),  # CJK next to Latin counts as a boundary
        ("华信 NEAR/10 收费", "华信银行又乱收费了", True),
        ("华信 NEAR/3 收费", "华信银行最近又开始乱收费了", False),
        ("收费 NEAR/3 华信", "收费的是华信", True),  # order does not matter
        ("(华信 OR 华信银行) NEAR/2 (收费 OR 扣费)", "华信银行扣费", True),
        ("招行 AND (收费 OR 扣费) NOT 招聘", "招行扣费", True),
        ("Ｃｍｂ", "cmb", True),  # full-width rule text normalised
        ("招行 OR 建行 信用卡", "招行", True),  # AND binds tighter than OR
    ],
)
def test_rule_matching(rule: str, text: str, expected: bool) -> None:
    assert rules.evaluate(rules.parse(rule), normalise(text)) is expected


@pytest.mark.parametrize(
    ("rule", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("招行 AND (", 8, "ends"),
        ("(招行 OR 招商银行", 0, "unclosed parenthesis"),
        ('"China Merchants', 0, "unclosed quote"),
        ("招行 OR", 5, "ends"),
        ("OR 招行", 0, "expected a term"),
        ("招行 )", 3, "unexpected"),
        ("招行 NEAR 收费", 3, "NEAR needs a distance"),
        ("招行 NEAR/5 (收费 AND 扣费)", 3, "NEAR needs terms"),
        ('招行 AND ""', 7, "empty phrase"),
    ],
)
def test_malformed_rules_point_at_the_position(rule: str, position: int, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        rules.parse(rule)
    err = info.value
    assert err.detail["position"] == position
    assert fragment in err.message
    lines = err.message.splitlines()
    assert lines[-2] == rule and lines[-1].endswith("^")


def test_trace_lists_found_and_missing_terms() -> None:
    node = rules.parse("(招行 OR 招商银行) AND 收费 NOT 招聘")
    tr = rules.trace(node, normalise("招行又乱收费"))
    assert tr.matched
    assert tr.found == ["招行", "收费"]
    assert tr.missing == ["招商银行", "招聘"]
    assert rules.positive_terms(node) == ["招行", "招商银行", "收费"]


def test_to_string_round_trips() -> None:
    node = rules.parse('(招行 OR "China Merchants") 收费 NOT 招聘')
    assert rules.parse(rules.to_string(node)) == rules.parse(
        rules.to_string(rules.parse(rules.to_string(node)))
    )
    assert rules.to_string(node) == '((招行 OR "china merchants") AND 收费 AND NOT 招聘)'
