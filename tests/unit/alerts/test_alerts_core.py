"""Pure core of the alerting stage, as tables of cases: routing, working hours, rule validation,
escalation schedule, noise control, signed ack links, message rendering, back-off."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.alerts import ack, escalation, grouping, outbox
from yuqing.alerts.messages import AlertView, MentionLink, render, render_digest, safe_url
from yuqing.alerts.routing import (
    AlertFacts,
    OrgView,
    WorkingHours,
    is_working_time,
    load_ruleset,
    parse_duration,
    parse_ruleset,
    route,
)
from yuqing.errors import ConfigError

TZ = "Asia/Shanghai"
MON_10 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Beijing
MON_23 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 23:00 Beijing
SAT_10 = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)  # Saturday 10:00 Beijing

ORG = OrgView(
    names={
        "ceo": "行长",
        "mkt": "营销副组长",
        "cmp": "合规副组长",
        "pr": "公关负责人",
        "mon": "监测组长",
        "duty": "值班员",
        "ops": "后勤",
        "it": "IT",
    },
    groups={
        "management": {"leader": ("ceo",), "deputy": ("mkt", "cmp"), "member": ("it",)},
        "monitoring": {"leader": ("mon",), "member": ("duty",)},
        "response": {"leader": ("pr",)},
        "logistics": {"leader": ("ops",), "member": ("it",)},
    },
    on_duty={"monitoring": ("duty",)},
)


def people(level: str | None, kind: str = "event", org: OrgView = ORG, at: datetime = MON_10) -> list[str]:
    return [d.person for d in route(load_ruleset(), AlertFacts(kind=kind, level=level, at=at), org, TZ)]


@pytest.mark.parametrize(
    ("level", "kind", "expected"),
    [
        ("IV", "event", ["duty"]),
        ("III", "event", ["duty"]),
        ("II", "event", ["duty", "pr", "mkt", "cmp"]),
        ("I", "event", ["duty", "pr", "mkt", "cmp", "ceo"]),
        (None, "signal", ["duty"]),
        ("II", "incident_overdue_task", ["duty", "pr", "mkt", "cmp"]),
        (None, "source_health", ["ops", "it"]),
        (None, "channel_health", ["ops", "it"]),
    ],
)
def test_default_rules_follow_the_plan(level: str | None, kind: str, expected: list[str]) -> None:
    assert people(level, kind) == expected


def test_nobody_on_shift_falls_back_to_leader_and_stand_ins_apply() -> None:
    org = OrgView(names=ORG.names, groups=ORG.groups, on_duty={}, stand_ins={"ceo": "mkt"})
    assert people("I", org=org) == ["mon", "pr", "mkt", "cmp"]  # mkt once, also standing in for ceo
    decisions = route(load_ruleset(), AlertFacts(kind="event", level="I", at=MON_10), org, TZ)
    mkt = next(d for d in decisions if d.person == "mkt")
    assert any("standing in for ceo" in r for r in mkt.reasons)


def test_explain_names_rule_and_time() -> None:
    d = route(load_ruleset(), AlertFacts(kind="event", level="II", at=SAT_10), ORG, TZ)
    pr = next(x for x in d if x.person == "pr")
    assert pr.reasons[0].startswith("规则 level-ii-leaders") and "off hours" in pr.reasons[0]
    assert "response" in pr.reasons[0]


@pytest.mark.parametrize(
    ("at", "working"),
    [
        (MON_10, True),
        (MON_23, False),
        (SAT_10, False),
        (datetime(2026, 3, 2, 0, 59, tzinfo=UTC), False),  # 08:59
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), True),  # 09:00
        (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), False),  # 18:00
    ],
)
def test_working_hours(at: datetime, working: bool) -> None:
    assert is_working_time(at, WorkingHours(), TZ) is working


def test_holidays_and_make_up_workdays() -> None:
    wh = WorkingHours(holidays=(MON_10.date(),), workdays=(SAT_10.date(),))
    assert not is_working_time(MON_10, wh, TZ) and is_working_time(SAT_10, wh, TZ)


RULES = {
    "rules": [
        {
            "name": "night-iii",
            "when": {"levels": ["III"], "time": "off_hours"},
            "notify": [{"group": "monitoring", "roles": ["leader"]}],
        },
        {
            "name": "day-only",
            "when": {"time": "working_hours", "kinds": ["signal"]},
            "notify": [{"person": "it"}],
        },
        {"name": "cards", "when": {"risk_types": ["信用卡"], "targets": [3]}, "notify": [{"person": "cmp"}]},
        {"name": "off", "enabled": False, "when": {}, "notify": [{"person": "ceo"}]},
    ]
}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (AlertFacts("event", "III", MON_10), []),
        (AlertFacts("event", "III", MON_23), ["mon"]),
        (AlertFacts("event", "II", MON_23), []),
        (AlertFacts("signal", None, MON_10), ["it"]),
        (AlertFacts("signal", None, SAT_10), []),
        (AlertFacts("event", "IV", MON_10, target_ids=(3, 4), risk_type="信用卡"), ["cmp"]),
        (AlertFacts("event", "IV", MON_10, target_ids=(4,), risk_type="信用卡"), []),
    ],
)
def test_custom_rules_by_time_target_and_risk(facts: AlertFacts, expected: list[str]) -> None:
    assert [d.person for d in route(parse_ruleset(RULES), facts, ORG, TZ)] == expected


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rules": [{"name": "x", "notify": []}]}, "rules.0.notify"),
        ({"rules": [{"name": "x", "notify": [{"group": "g", "person": "p"}]}]}, "rules.0.notify.0"),
        (
            {"rules": [{"name": "x", "when": {"levels": ["V"]}, "notify": [{"person": "p"}]}]},
            "rules.0.when.levels.0",
        ),
        (
            {"rules": [{"name": "x", "when": {"colour": "red"}, "notify": [{"person": "p"}]}]},
            "rules.0.when.colour",
        ),
        (
            {"rules": [{"name": "x", "notify": [{"person": "p", "roles": ["boss"]}]}]},
            "rules.0.notify.0.roles.0",
        ),
        ({"escalation": {"I": {"ack_within": "soon"}}}, "escalation.I.ack_within"),
        ({"working_hours": {"start": "18:00", "end": "09:00"}}, "working_hours"),
        ({"timezone": "Mars/Olympus"}, "(top)"),
        (
            {
                "rules": [
                    {"name": "a", "notify": [{"person": "p"}]},
                    {"name": "a", "notify": [{"person": "q"}]},
                ]
            },
            "(top)",
        ),
    ],
)
def test_bad_rules_refused_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_ruleset(data)
    assert f"at {field}:" in str(exc.value)


def test_rules_file_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="not found"):
        load_ruleset(tmp_path / "missing.yaml")
    p = tmp_path / "r.yaml"
    p.write_text("rules: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_ruleset(p)


@pytest.mark.parametrize(
    ("value", "seconds"), [(90, 90.0), ("30s", 30.0), ("10m", 600.0), ("2h", 7200.0), ("1d", 86400.0)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_escalation_schedule_and_due() -> None:
    chain = load_ruleset().escalation["I"]
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    sched = [
        (f.step, f.repeat, f.final, (f.due_at - t0).total_seconds() / 60)
        for f in escalation.schedule(chain, t0)
    ]
    assert sched == [(0, 0, False, 10), (0, 1, False, 15), (1, 0, False, 20), (2, 0, True, 30)]
    assert escalation.due_firings(chain, t0, t0 + timedelta(minutes=9), set()) == []
    due = escalation.due_firings(chain, t0, t0 + timedelta(minutes=16), {(0, 0)})
    assert [(f.step, f.repeat) for f in due] == [(0, 1)]
    assert escalation.next_due(chain, t0, {(0, 0), (0, 1), (1, 0), (2, 0)}) is None
    assert escalation.chain_for(load_ruleset(), None) == load_ruleset().escalation["IV"]


NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
POL = grouping.NoisePolicy(min_interval_s=600, storm_threshold=5, storm_window_s=300)


@pytest.mark.parametrize(
    ("level", "history", "action", "delay", "urgent"),
    [
        ("IV", grouping.NoiseHistory(), "send", 0, False),
        ("II", grouping.NoiseHistory(), "send", 0, True),  # new serious alert: urgent
        (
            "IV",
            grouping.NoiseHistory(last_sent_at=NOW - timedelta(seconds=60), max_level_sent="IV"),
            "defer",
            540,
            False,
        ),
        (
            "IV",
            grouping.NoiseHistory(last_sent_at=NOW - timedelta(seconds=700), max_level_sent="IV"),
            "send",
            0,
            False,
        ),
        (
            "III",
            grouping.NoiseHistory(last_sent_at=NOW - timedelta(seconds=60), max_level_sent="IV"),
            "send",
            0,
            True,
        ),
        (
            "IV",
            grouping.NoiseHistory(pending_send_at=NOW + timedelta(seconds=100), max_level_sent="IV"),
            "merge",
            100,
            False,
        ),
        (
            "I",
            grouping.NoiseHistory(pending_send_at=NOW + timedelta(seconds=100), max_level_sent="II"),
            "send",
            0,
            True,
        ),
        ("IV", grouping.NoiseHistory(recent_to_person=5), "defer", 300, False),
        (
            "III",
            grouping.NoiseHistory(recent_to_person=5, subject_known=True, max_level_sent="III"),
            "defer",
            300,
            False,
        ),
        (
            "II",
            grouping.NoiseHistory(recent_to_person=50),
            "send",
            0,
            True,
        ),  # storms never hold back serious news
    ],
)
def test_noise_plan(
    level: str, history: grouping.NoiseHistory, action: str, delay: float, urgent: bool
) -> None:
    p = grouping.plan(NOW, level, history, POL)
    assert (p.action, (p.send_at - NOW).total_seconds(), p.urgent) == (action, delay, urgent)


def test_ack_token_round_trip_and_tampering() -> None:
    exp = NOW + timedelta(hours=1)
    tok = ack.make_token("k1", 42, "zhou.ting", exp)
    claim = ack.verify_token("k1", tok, NOW)
    assert (claim.alert_id, claim.person) == (42, "zhou.ting")
    with pytest.raises(ack.InvalidAckToken):
        ack.verify_token("other-key", tok, NOW)
    _payload, sig = tok.split(".")
    forged = ack.make_token("k1", 43, "zhou.ting", exp).split(".")[0] + "." + sig
    with pytest.raises(ack.InvalidAckToken):
        ack.verify_token("k1", forged, NOW)
    with pytest.raises(ack.InvalidAckToken):
        ack.verify_token("k1", "garbage", NOW)
    with pytest.raises(ack.ExpiredAckToken):
        ack.verify_token("k1", tok, exp)
    assert ack.ack_url("http://x/", tok).startswith("http://x/alerts/ack?token=")


VIEW = AlertView(
    alert_id=1,
    kind="event",
    title="<img src=x onerror=alert(1)> 挤兑传闻",
    level="I",
    reasons=("负面占比 90% <b>",),
    numbers={"mention_count": 1234, "negative_share": 0.9},
    mentions=(
        MentionLink("正常链接", "https://a.example/1"),
        MentionLink("坏链接", "javascript:alert(1)"),
        MentionLink("[x](y)", "https://a.example/2"),
    ),
    ack_url="http://127.0.0.1:8000/alerts/ack?token=t",
    raised_at=NOW,
    updates=2,
)


def test_render_contains_what_a_manager_needs_and_escapes() -> None:
    m = render(VIEW, TZ)
    assert m.subject.startswith("【舆情预警】[I级 特别重大]") and "Level I Critical" in m.subject
    for part in (
        "原因 / Why",
        "负面占比",
        "1,234",
        "90%",
        "https://a.example/1",
        "确认收到 / Acknowledge",
        "2 updates",
    ):
        assert part in m.text
    assert "2026-03-02 09:00 CST" in m.text
    assert "<img" not in m.html and "&lt;img" in m.html and 'href="javascript' not in m.html
    assert "javascript:" not in m.markdown and "\\[x\\]\\(y\\)" in m.markdown
    assert m.payload["top_mentions"][1]["url"] is None
    d = render_digest([VIEW, VIEW], TZ)
    assert "2 条预警" in d.subject and d.payload["count"] == 2 and "<img" not in d.html


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.example/x?y=1", True),
        ("HTTP://A.EXAMPLE", True),
        ("javascript:alert(1)", False),
        ("ftp://x", False),
        ('https://a.example/"onmouseover', False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok


def test_backoff_grows_capped_with_jitter_and_keys_are_stable() -> None:
    rng = random.Random(1)
    delays = [outbox.backoff_seconds(a, 2.0, 60.0, rng) for a in range(1, 9)]
    assert all(
        0.5 * min(60, 2 * 2 ** (a - 1)) <= d <= min(60, 2 * 2 ** (a - 1))
        for a, d in zip(range(1, 9), delays, strict=True)
    )
    assert delays[-1] <= 60
    assert outbox.idempotency_key(1, "p", "email", "initial") == "yq-alert-1/p/email/initial"
    assert outbox.fingerprint("t", "I", ["r"], {"a": 1}) == outbox.fingerprint("t", "I", ["r"], {"a": 1})
    assert outbox.fingerprint("t", "I", ["r"], {"a": 1}) != outbox.fingerprint("t", "II", ["r"], {"a": 1})
    assert outbox.digest_key(["b", "a"]) == outbox.digest_key(["a", "b"])


def test_channel_secrets_masked_in_settings_but_usable() -> None:
    from yuqing.alerts.notifiers.base import load_channels
    from yuqing.config import load_settings, masked_dump

    chans = {
        "hook": {"type": "webhook", "url": "https://h.example/x", "secret": "s3cret-value"},
        "wecom": {"url": "https://qyapi.example/send?key=KEY123"},
    }
    settings = load_settings(alerts={"channels": chans})
    dumped = json.dumps(masked_dump(settings), ensure_ascii=False)
    assert "s3cret-value" not in dumped and "KEY123" not in dumped
    built = load_channels(None, settings.alerts.channels)
    assert built["hook"].config.secret.get_secret_value() == "s3cret-value"  # type: ignore[attr-defined]
    assert built["wecom"].config.url.endswith("key=KEY123")  # type: ignore[attr-defined]
