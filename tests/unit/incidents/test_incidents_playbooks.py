"""Playbooks: the shipped file, selection by risk type/category, expansion per level, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import ValidationError
from yuqing.incidents import playbooks

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def book() -> playbooks.PlaybookSet:
    return playbooks.load_playbooks()


@pytest.mark.parametrize(
    ("category", "risk_type", "key"),
    [
        ("customer_complaint", None, "customer_dispute"),
        (None, "投诉维权", "customer_dispute"),
        ("negative_social", "提现困难", "customer_dispute"),  # the risk type wins over the category
        ("negative_media", None, "negative_media"),
        (None, "高管负面", "negative_media"),
        ("negative_social", None, "negative_social"),
        ("policy_reaction", None, "policy_reaction"),
        ("internal_management", None, "internal_management"),
        (None, None, "general"),
        (None, "其他", "general"),
    ],
)
def test_select(book, category, risk_type, key) -> None:
    assert playbooks.select_playbook(book, category, risk_type).key == key


def test_customer_dispute_expansion(book) -> None:
    pb = book.get("customer_dispute")
    level_ii = {s.key: s for s in playbooks.expand(pb, "II", T0)}
    assert level_ii["contact_complainant"].due_at == T0 + timedelta(hours=2)
    assert level_ii["contact_complainant"].owner == "customer_service"
    assert level_ii["statement_draft"].due_at == T0 + timedelta(hours=2)
    assert {"legal_review", "cs_script", "regulator_report"} <= set(level_ii)
    level_iv = {s.key: s for s in playbooks.expand(pb, "IV", T0)}
    assert "regulator_report" not in level_iv  # only for levels I and II
    assert level_iv["statement_draft"].due_at == T0 + timedelta(hours=6)
    ordered = playbooks.expand(pb, "I", T0)
    assert [s.due_at for s in ordered] == sorted(s.due_at for s in ordered)


def test_every_owner_role_is_declared(book) -> None:
    for pb in book.playbooks:
        for t in pb.tasks:
            assert t.owner in book.roles


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2h", 2 * 3600), ("30m", 1800), ("1d", 86400), ("1.5h", 5400), (3, 3 * 3600), ("4", 4 * 3600)],
)
def test_parse_offset(value, expected) -> None:
    assert playbooks.parse_offset(value).total_seconds() == expected


@pytest.mark.parametrize("value", ["2w", "", "h", True, "-1h"])
def test_parse_offset_refuses(value) -> None:
    with pytest.raises(ValidationError):
        playbooks.parse_offset(value)


ROLES = {"pr": ["group:response:leader"]}
GOOD_TASK = {"key": "t", "title": "T", "owner": "pr", "due": "1h"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"roles": ROLES, "playbooks": [{"key": "a", "name": "A", "match": {"categories": ["x"]}}]},
            "fallback",
        ),
        ({"roles": ROLES, "playbooks": [{"key": "g", "name": "G"}, {"key": "g", "name": "G2"}]}, "duplicate"),
        (
            {
                "roles": ROLES,
                "playbooks": [{"key": "g", "name": "G", "tasks": [{**GOOD_TASK, "owner": "x"}]}],
            },
            "owner",
        ),
        (
            {
                "roles": ROLES,
                "playbooks": [{"key": "g", "name": "G", "tasks": [{**GOOD_TASK, "levels": ["V"]}]}],
            },
            "level",
        ),
        (
            {
                "roles": ROLES,
                "playbooks": [{"key": "g", "name": "G", "tasks": [{**GOOD_TASK, "due": {"I": "1h"}}]}],
            },
            "default",
        ),
        ({"roles": ROLES, "playbooks": [{"key": "g", "tasks": []}]}, "name"),
    ],
)
def test_invalid_playbooks_name_the_problem(doc, message) -> None:
    with pytest.raises(ValidationError, match=message):
        playbooks.parse_playbooks(doc)
