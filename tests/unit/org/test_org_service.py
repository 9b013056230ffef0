"""The organisation: template loads, roles, roster rotation, stand-ins, validation errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import NotFound, ValidationError
from yuqing.org import service
from yuqing.org.models import Person

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def org(db):
    with db.session() as s:
        service.load_org_file(s, None, now=NOW)
    return db


def test_template_follows_the_plan(org) -> None:
    with org.session() as s:
        assert [p.key for p in service.members(s, "management", ("leader",))] == ["chen.jianguo"]
        assert {p.key for p in service.members(s, "management", ("deputy",))} == {"wang.li", "liu.yang"}
        assert [p.key for p in service.members(s, "response", ("leader",))] == ["zhou.ting"]
        assert service.members(s, "monitoring")[0].key == "zheng.hao"  # leader first
        assert service.is_member(s, "sun.lei", "response")
        assert service.is_member(s, "sun.lei", "management", ("member",))
        assert not service.is_member(s, "sun.lei", "management", ("leader", "deputy"))
        assert ("management", "leader") in service.roles_of(s, "chen.jianguo")


def test_reload_is_idempotent(org) -> None:
    with org.session() as s:
        service.load_org_file(s, None, now=NOW)
    with org.session() as s:
        assert s.query(Person).count() == 15
        assert len(service.members(s, "management")) == 7


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # rotation starts 2026-01-05 08:00 +08:00 = 00:00 UTC, 12 h shifts: lin, he, ma, lin, ...
        (datetime(2026, 1, 5, 0, 0, tzinfo=UTC), "lin.xiao"),
        (datetime(2026, 1, 5, 11, 59, tzinfo=UTC), "lin.xiao"),
        (datetime(2026, 1, 5, 12, 0, tzinfo=UTC), "he.jing"),
        (datetime(2026, 1, 6, 0, 0, tzinfo=UTC), "ma.chao"),
        (datetime(2026, 1, 6, 12, 0, tzinfo=UTC), "lin.xiao"),
        (datetime(2026, 1, 4, 23, 0, tzinfo=UTC), "ma.chao"),  # before the start wraps backwards
    ],
)
def test_rotation(at: datetime, expected: str) -> None:
    roster = {
        "rotation": ["lin.xiao", "he.jing", "ma.chao"],
        "shift_hours": 12,
        "start": "2026-01-05T08:00:00+08:00",
    }
    assert service.rotation_person(roster, at) == expected


def test_on_duty_uses_rotation_explicit_shifts_and_stand_ins(org) -> None:
    at = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    with org.session() as s:
        assert [p.key for p in service.on_duty(s, "monitoring", at)] == ["lin.xiao"]
        # management has no roster: the leader is on duty
        assert [p.key for p in service.on_duty(s, "management", at)] == ["chen.jianguo"]
        # the CEO is away: the standing stand-in acts
        ceo = service.get_person(s, "chen.jianguo")
        ceo.unavailable_until = at + timedelta(days=1)
        assert [p.key for p in service.on_duty(s, "management", at)] == ["wang.li"]
        assert service.available(s, ceo, at + timedelta(days=2)).key == "chen.jianguo"


def test_explicit_shift_and_dated_stand_in(db) -> None:
    data = service.read_org_file(None)
    data = copy.deepcopy(data)
    mon = next(g for g in data["groups"] if g["key"] == "monitoring")
    mon["shifts"] = [
        {
            "person": "ma.chao",
            "starts_at": "2026-01-05T00:00:00+00:00",
            "ends_at": "2026-01-05T06:00:00+00:00",
        }
    ]
    data["stand_ins"].append(
        {
            "person": "he.jing",
            "stand_in": "ma.chao",
            "starts_at": "2026-01-05T12:00:00+00:00",
            "ends_at": "2026-01-06T00:00:00+00:00",
        }
    )
    with db.session() as s:
        service.load_org(s, data, now=NOW)
        assert [p.key for p in service.on_duty(s, "monitoring", datetime(2026, 1, 5, 1, tzinfo=UTC))] == [
            "ma.chao"
        ]
        # he.jing's shift, but a dated stand-in covers it
        assert [p.key for p in service.on_duty(s, "monitoring", datetime(2026, 1, 5, 13, tzinfo=UTC))] == [
            "ma.chao"
        ]


def test_contact_points_follow_preference(org) -> None:
    with org.session() as s:
        ceo = service.get_person(s, "chen.jianguo")
        assert [c for c, _ in service.contact_points(ceo)] == ["wecom", "sms", "email"]
        with pytest.raises(NotFound):
            service.get_person(s, "nobody")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["people"].append({"key": "chen.jianguo", "name": "x"}), "duplicate key"),
        (lambda d: d["people"].append({"name": "no key"}), "needs key and name"),
        (lambda d: d["groups"][0].update(leader="ghost"), "unknown person 'ghost'"),
        (lambda d: d["people"][0].update(channels=["pigeon"]), "unknown channel: pigeon"),
        (lambda d: d["people"][0].update(channels=["dingtalk"]), "channel dingtalk needs dingtalk_id"),
        (lambda d: d["groups"][1]["roster"].update(start="tomorrow"), "invalid time"),
        (
            lambda d: d["stand_ins"].append({"person": "wang.li", "stand_in": "nobody"}),
            "unknown person 'nobody'",
        ),
    ],
)
def test_bad_organisation_is_refused_with_the_entry_named(mutate, message: str) -> None:
    data = copy.deepcopy(service.read_org_file(None))
    mutate(data)
    with pytest.raises(ValidationError, match=message):
        service.validate_org(data)


def test_unreadable_file(tmp_path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text("people: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationError, match="malformed"):
        service.read_org_file(bad)
    with pytest.raises(NotFound):
        service.read_org_file(tmp_path / "missing.yaml")
