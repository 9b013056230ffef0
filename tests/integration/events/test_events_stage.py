"""The events stage on the bus: MENTIONS_ANALYSED in (read through analysis.load_analysed), events out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from yuqing.analysis.models import AnalysisResult, TargetMatchRecord
from yuqing.core.bus import EVENTS_CHANGED, MENTIONS_ANALYSED
from yuqing.core.context import AppContext
from yuqing.events.models import Event, EventMention
from yuqing.events.stage import register
from yuqing.sources.models import Mention, Source, Target

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

POSTS = [
    ("示例银行信用卡乱收费，客户投诉年费被扣", "zh", "weibo"),
    ("示例银行信用卡年费扣费引发投诉，客户要求退款", "zh", "weibo"),
    ("Example Bank customers complain over hidden credit card fees", "en", "news"),
]


def _seed(ctx: AppContext) -> list[int]:
    with ctx.db.session() as s:
        src = Source(name="feed", kind="rss", platform="weibo", tier="personal", config={}, created_at=T0)
        tgt = Target(name="示例银行", created_at=T0)
        s.add_all([src, tgt])
        s.flush()
        ids = []
        for i, (text, lang, platform) in enumerate(POSTS):
            m = Mention(
                source_id=src.id,
                platform=platform,
                title=text,
                text=text,
                published_at=T0 + timedelta(minutes=i),
                ingested_at=T0 + timedelta(minutes=i),
                lang=lang,
                content_hash=f"h{i}",
                extra={},
            )
            s.add(m)
            s.flush()
            s.add(
                AnalysisResult(
                    mention_id=m.id,
                    lang=lang,
                    sentiment="negative",
                    negative_prob=0.9,
                    probs={},
                    risk_type="收费争议",
                    influence=20.0,
                    entities=[],
                    keywords=[],
                    tokens=[],
                    model_versions={},
                    analysed_at=T0,
                )
            )
            s.add(
                TargetMatchRecord(
                    mention_id=m.id, target_id=tgt.id, via="rule", negative=True, negative_prob=0.9
                )
            )
            ids.append(m.id)
    return ids


def test_stage_consumes_analysed_mentions(ctx: AppContext) -> None:
    ids = _seed(ctx)
    register(ctx)
    changes: list[dict] = []
    ctx.bus.subscribe(EVENTS_CHANGED, changes.extend)
    ctx.bus.publish(MENTIONS_ANALYSED, [{"mention_id": i} for i in ids])
    with ctx.db.session() as s:
        events = s.scalars(select(Event)).all()
        linked = s.scalars(select(EventMention.mention_id)).all()
    assert len(events) == 1  # the Chinese posts and the English story are one event
    assert sorted(linked) == sorted(ids)
    assert events[0].mention_count == 3 and events[0].platforms == ["news", "weibo"]
    assert [c["change"] for c in changes] == ["created", "level"]
    assert changes[1]["new_level"] == "IV"

    # redelivery: nothing new; a re-analysis that flips the sentiment updates the metrics
    changes.clear()
    ctx.bus.publish(MENTIONS_ANALYSED, [{"mention_id": ids[0]}])
    assert changes == []
    with ctx.db.session() as s:
        s.get(AnalysisResult, ids[0]).sentiment = "neutral"
    ctx.bus.publish(MENTIONS_ANALYSED, [{"mention_id": ids[0]}])
    assert [c["change"] for c in changes] == ["updated"]
    with ctx.db.session() as s:
        ev = s.scalars(select(Event)).one()
        assert ev.negative_count == 2 and ev.mention_count == 3
