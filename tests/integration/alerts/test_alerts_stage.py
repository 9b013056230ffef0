"""The stage on the bus: events.changed / signals.fired / sources.unhealthy become routed alerts,
sent inline in a replay (manual clock, in-process bus); redelivery never double-sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yuqing.alerts import stage
from yuqing.alerts.models import Alert, AlertRecipient, Delivery
from yuqing.core.bus import EVENTS_CHANGED, SIGNALS_FIRED
from yuqing.core.context import AppContext


@pytest.fixture
def sctx(ctx: AppContext, tmp_path: Path) -> AppContext:
    from yuqing.org.service import load_org_file

    ctx.settings.alerts.outbox_dir = str(tmp_path / "outbox")
    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    stage.register(ctx)
    return ctx


def _event(ctx: AppContext, level: str | None = "II") -> int:
    pytest.importorskip("yuqing.events.service", reason="events stage not installed")
    from yuqing.events.models import Event
    from yuqing.sources.models import Mention, Source, Target

    now = ctx.clock.now()
    with ctx.db.session() as s:
        src = Source(name="新闻源", kind="rss", created_at=now, config={})
        s.add(src)
        s.add(Target(name="华信银行", created_at=now))
        s.flush()
        m = Mention(
            source_id=src.id,
            platform="news",
            url="https://news.example.com/1",
            title="华信银行网点排长队",
            text="…",
            published_at=now,
            ingested_at=now,
            content_hash="h1",
        )
        s.add(m)
        s.flush()
        ev = Event(
            title="华信银行网点排长队",
            level=level,
            level_reasons=["多家财经媒体报道"],
            status="active",
            first_seen=now,
            last_seen=now,
            mention_count=30,
            negative_count=24,
            negative_share=0.8,
            platforms=["news"],
            reach=5e4,
            velocity=9.0,
            target_ids=[1],
            top_mention_ids=[m.id],
            created_at=now,
            updated_at=now,
        )
        s.add(ev)
        s.flush()
        return ev.id


def test_event_change_alerts_and_sends_inline_once(sctx: AppContext, tmp_path: Path) -> None:
    event_id = _event(sctx)
    msg = {"event_id": event_id, "change": "level", "old_level": "III", "new_level": "II"}
    sctx.bus.publish(EVENTS_CHANGED, [msg])
    sctx.bus.publish(EVENTS_CHANGED, [msg, {"event_id": event_id, "change": "updated"}])  # redelivery
    with sctx.db.session() as s:
        alerts = list(s.scalars(select(Alert)))
        assert [(a.kind, a.level, a.dedup_key) for a in alerts] == [
            ("event", "II", f"event:{event_id}:level:II")
        ]
        statuses = list(s.scalars(select(Delivery.status)))
        assert statuses and set(statuses) == {"sent"}
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "outbox").glob("*.json")]
    assert len(docs) == len(statuses)
    assert docs[0]["alert"]["top_mentions"][0]["url"] == "https://news.example.com/1"
    assert docs[0]["alert"]["numbers"]["mention_count"] == 30


def test_ungraded_event_is_not_alerted(sctx: AppContext) -> None:
    event_id = _event(sctx, level=None)
    sctx.bus.publish(EVENTS_CHANGED, [{"event_id": event_id, "change": "created"}, {"event_id": 99999}])
    with sctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 0


def test_signal_alert_goes_to_monitoring_on_duty(sctx: AppContext) -> None:
    event_id = _event(sctx)
    sctx.bus.publish(
        SIGNALS_FIRED,
        [
            {
                "signal_id": 5,
                "target_id": 1,
                "event_id": event_id,
                "kind": "negative_volume",
                "observed": 40,
                "expected": 3.5,
            }
        ]
        * 2,
    )
    with sctx.db.session() as s:
        a = s.scalar(select(Alert).where(Alert.kind == "signal"))
        assert a is not None and a.dedup_key == "signal:5" and "华信银行" in a.title
        assert a.data["numbers"]["observed"] == 40
        who = set(s.scalars(select(AlertRecipient.person_key).where(AlertRecipient.alert_id == a.id)))
        assert who and who <= {
            "lin.xiao",
            "he.jing",
            "ma.chao",
            "zheng.hao",
            "zhou.ting",
            "wang.li",
            "liu.yang",
        }


def test_source_unhealthy_goes_to_logistics(sctx: AppContext) -> None:
    sctx.bus.publish(
        "sources.unhealthy",
        [{"source_id": 3, "status": "failing", "reasons": ["连续 5 次抓取失败 / 5 failures"]}],
    )
    with sctx.db.session() as s:
        a = s.scalar(select(Alert).where(Alert.kind == "source_health"))
        assert a is not None and a.reasons == ["连续 5 次抓取失败 / 5 failures"]
        who = set(s.scalars(select(AlertRecipient.person_key).where(AlertRecipient.alert_id == a.id)))
    assert who == {"feng.tao", "wu.qiang", "gao.yuan"}


def test_bad_configuration_refused_when_the_stage_starts(ctx: AppContext, tmp_path: Path) -> None:
    from yuqing.errors import ConfigError

    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "rules:\n  - {name: x, when: {min_level: V}, notify: [{group: monitoring}]}\n", encoding="utf-8"
    )
    ctx.settings.alerts.rules_file = str(bad)
    with pytest.raises(ConfigError, match=r"rules\.0\.when\.min_level"):
        stage.register(ctx)
    ctx.settings.alerts.rules_file = None
    ctx.extras.clear()
    ctx.settings.alerts.channels = {"sms": {"url": "https://sms.example.com", "phone_field": 3}}
    with pytest.raises(ConfigError, match=r"channels\.sms\.phone_field"):
        stage.register(ctx)
