"""The events service over a real database (SQLite by default, PostgreSQL when asked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yuqing.core.bus import EVENTS_CHANGED, SIGNALS_FIRED
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.core.contracts import AnalysedMention, TargetHit
from yuqing.errors import ConfigError, NotFound, ValidationError
from yuqing.events.models import Event, EventBucket, EventCorrection, EventLevelChange, EventMention, Signal
from yuqing.events.service import CLUSTERER_KEY, EventService, list_snapshots, load_snapshot

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BANK = TargetHit(target_id=7, name="示例银行", negative=True, negative_prob=0.9)
OTHER = TargetHit(target_id=9, name="另一家银行", negative=False, negative_prob=0.1)


def am(
    mid: int,
    title: str,
    text: str = "",
    *,
    at: datetime = T0,
    lang: str = "zh",
    platform: str = "weibo",
    tier: str = "personal",
    author: str | None = None,
    negative: bool = True,
    targets: tuple[TargetHit, ...] = (BANK,),
    risk: str | None = "投诉维权",
    dup: int | None = None,
    influence: float = 10.0,
) -> AnalysedMention:
    return AnalysedMention(
        mention_id=mid,
        source_id=1 if platform == "weibo" else 2,
        platform=platform,
        source_tier=tier,
        url=None,
        title=title,
        text=text,
        author=author or f"user{mid}",
        author_followers=100 * mid,
        published_at=at,
        lang=lang,
        duplicate_of_id=dup,
        sentiment="negative" if negative else "neutral",
        negative_prob=0.9 if negative else 0.1,
        targets=targets,
        risk_type=risk,
        influence=influence,
    )


FEE_ZH = [
    "示例银行信用卡乱收费，客户投诉年费被扣",
    "示例银行信用卡年费扣费引发投诉，客户要求退款",
    "又一位客户投诉示例银行信用卡隐形收费",
]
OUTAGE_ZH = "另一家银行手机银行系统故障，无法登录转账"
FEE_EN = "Example Bank customers complain over hidden credit card fees"


def process(ctx: AppContext, batch: list[AnalysedMention]):
    svc = EventService(ctx)
    ctx.extras["svc"] = svc
    with ctx.db.session() as s:
        result = svc.process(s, batch)
    with ctx.db.session() as s:
        svc.publish(s, result)
    return result


def collect(ctx: AppContext, topic: str) -> list[dict]:
    got: list[dict] = []
    ctx.bus.subscribe(topic, got.extend)
    return got


def event_of(ctx: AppContext, mention_id: int) -> int:
    with ctx.db.session() as s:
        eid = s.scalar(select(EventMention.event_id).where(EventMention.mention_id == mention_id))
    assert eid is not None
    return eid


def test_clusters_cross_language_and_duplicates(ctx: AppContext) -> None:
    changes = collect(ctx, EVENTS_CHANGED)
    batch = [am(i + 1, t, at=T0 + timedelta(minutes=i)) for i, t in enumerate(FEE_ZH)]
    batch.append(
        am(4, OUTAGE_ZH, at=T0 + timedelta(minutes=5), targets=(OTHER,), risk="系统故障", negative=True)
    )
    batch.append(am(5, FEE_EN, lang="en", platform="news", at=T0 + timedelta(minutes=6)))
    batch.append(am(6, "转发", "//转发", at=T0 + timedelta(minutes=7), dup=1, targets=()))
    result = process(ctx, batch)
    fee = event_of(ctx, 1)
    assert {event_of(ctx, m) for m in (1, 2, 3, 5, 6)} == {fee}
    assert event_of(ctx, 4) != fee
    assert sorted(result.created) == sorted({fee, event_of(ctx, 4)})
    created = [c for c in changes if c["change"] == "created"]
    assert {c["event_id"] for c in created} == set(result.created)
    # at most one "updated" per event per batch
    updated = [c["event_id"] for c in changes if c["change"] == "updated"]
    assert len(updated) == len(set(updated))
    with ctx.db.session() as s:
        snap = load_snapshot(s, fee)
    assert snap.mention_count == 5
    assert snap.negative_count == 5
    assert snap.platforms == ("news", "weibo")
    assert snap.target_ids == (7,)
    assert snap.level == "IV"
    assert snap.title


def test_redelivery_is_idempotent(ctx: AppContext) -> None:
    batch = [am(i + 1, t) for i, t in enumerate(FEE_ZH)]
    process(ctx, batch)
    again = process(ctx, batch)
    assert again.skipped == 3
    assert again.created == [] and again.updated == []
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(EventMention)) == 3
        assert s.scalar(select(func.sum(EventBucket.count))) == 3
        ev = s.scalars(select(Event)).one()
        assert ev.mention_count == 3


def test_state_rebuilt_from_database(ctx: AppContext) -> None:
    process(ctx, [am(1, FEE_ZH[0]), am(2, OUTAGE_ZH, targets=(OTHER,), risk="系统故障")])
    ctx.extras.pop(CLUSTERER_KEY)  # a fresh worker process
    process(ctx, [am(3, FEE_ZH[1], at=T0 + timedelta(hours=1))])
    assert event_of(ctx, 3) == event_of(ctx, 1)


def test_dormant_event_wakes_up(ctx: AppContext, clock: ManualClock) -> None:
    process(ctx, [am(1, FEE_ZH[0]), am(2, FEE_ZH[1])])
    eid = event_of(ctx, 1)
    clock.advance(timedelta(hours=100))
    process(ctx, [am(3, OUTAGE_ZH, at=clock.now(), targets=(OTHER,), risk="系统故障")])
    with ctx.db.session() as s:
        assert s.get(Event, eid).status == "dormant"
    process(ctx, [am(4, FEE_ZH[2], at=clock.now())])
    assert event_of(ctx, 4) == eid
    with ctx.db.session() as s:
        assert s.get(Event, eid).status == "active"


def test_grading_rises_with_reasons(ctx: AppContext, clock: ManualClock) -> None:
    levels = collect(ctx, EVENTS_CHANGED)
    process(ctx, [am(1, FEE_ZH[0])])
    eid = event_of(ctx, 1)
    # a financial-media report and more negative posts: III (media_negative)
    batch = [am(100 + i, FEE_ZH[i % 3], at=T0 + timedelta(minutes=i)) for i in range(12)]
    batch.append(am(200, FEE_EN, lang="en", platform="news", tier="financial_media"))
    clock.advance(timedelta(minutes=20))
    process(ctx, batch)
    # central media joins: II
    clock.advance(timedelta(minutes=20))
    process(
        ctx,
        [am(300 + i, FEE_ZH[i % 3], at=clock.now()) for i in range(10)]
        + [am(400, FEE_ZH[0], platform="news", tier="central_media", at=clock.now())],
    )
    with ctx.db.session() as s:
        snap = load_snapshot(s, eid)
        history = s.scalars(
            select(EventLevelChange).where(EventLevelChange.event_id == eid).order_by(EventLevelChange.id)
        ).all()
    assert [h.new_level for h in history] == ["IV", "III", "II"]
    assert snap.level == "II"
    assert "央媒报道" in snap.level_reasons
    assert any("负面占比" in r for r in snap.level_reasons)
    assert history[-1].metrics["central_media"] is True
    level_msgs = [m for m in levels if m["change"] == "level" and m["event_id"] == eid]
    assert [(m["old_level"], m["new_level"]) for m in level_msgs] == [
        (None, "IV"),
        ("IV", "III"),
        ("III", "II"),
    ]


def test_run_rumour_goes_straight_to_two(ctx: AppContext) -> None:
    process(ctx, [am(1, "网传示例银行要倒闭，储户排队取钱", risk="挤兑/流动性谣言")])
    with ctx.db.session() as s:
        snap = load_snapshot(s, event_of(ctx, 1))
    assert snap.level == "II"
    assert snap.level_reasons == ("风险类型：挤兑/流动性谣言",)


def test_burst_signal_fires_once_against_baseline(ctx: AppContext, clock: ManualClock) -> None:
    signals = collect(ctx, SIGNALS_FIRED)
    # two weeks of quiet background: one mention every 6 hours
    mid = 1
    for h in range(0, 14 * 24, 6):
        at = T0 + timedelta(hours=h)
        clock.set(at)
        process(ctx, [am(mid, FEE_ZH[mid % 3], at=at, negative=False)])
        mid += 1
    assert signals == []
    at = T0 + timedelta(days=14, minutes=30)
    clock.set(at)
    process(ctx, [am(mid + i, FEE_ZH[i % 3], at=at) for i in range(30)])
    kinds = {(m["kind"], m["target_id"], m["event_id"] is not None) for m in signals}
    assert ("volume", 7, False) in kinds
    assert ("negative_volume", 7, False) in kinds
    assert all(m["signal_id"] for m in signals)
    n = len(signals)
    clock.advance(timedelta(minutes=10))
    process(ctx, [am(mid + 100 + i, FEE_ZH[i % 3], at=clock.now()) for i in range(30)])
    assert len(signals) == n  # cooldown: no repeat within the hour
    with ctx.db.session() as s:
        sig = s.scalars(select(Signal).where(Signal.target_id == 7, Signal.kind == "volume")).one()
    assert sig.observed == 30 and sig.expected < 2
    assert "突增" in sig.message


def test_merge_and_split_stick(ctx: AppContext) -> None:
    process(ctx, [am(1, FEE_ZH[0]), am(2, OUTAGE_ZH, targets=(OTHER,), risk="系统故障")])
    a, b = event_of(ctx, 1), event_of(ctx, 2)
    svc = EventService(ctx)
    with ctx.db.session() as s:
        svc.merge(s, [a, b], by="analyst1")
    assert event_of(ctx, 2) == a
    with ctx.db.session() as s:
        assert s.get(Event, b).status == "merged"
        assert load_snapshot(s, b).event_id == a  # merged ids resolve to the survivor
        assert load_snapshot(s, a).mention_count == 2
        assert [e.event_id for e in list_snapshots(s)] == [a]
    # a new outage mention cannot go to the closed event
    process(ctx, [am(3, OUTAGE_ZH + "，客户着急", targets=(OTHER,), risk="系统故障")])
    assert event_of(ctx, 3) != b

    with ctx.db.session() as s:
        new = svc.split(s, a, [2, 3] if event_of(ctx, 3) == a else [2], by="analyst1")
    with ctx.db.session() as s:
        corr = s.scalars(select(EventCorrection).order_by(EventCorrection.id)).all()
        assert [c.kind for c in corr] == ["merge", "split"]
        assert corr[1].result_event_id == new.id
        assert (
            s.get(
                EventMention, s.scalar(select(EventMention.id).where(EventMention.mention_id == 2))
            ).assigned_by
            == "analyst"
        )
    assert event_of(ctx, 2) == new.id and event_of(ctx, 1) == a
    # a repost of the split-off mention follows it, not the event it was split from
    process(ctx, [am(4, "转发", dup=2, targets=())])
    assert event_of(ctx, 4) == new.id


def test_corrections_validate(ctx: AppContext) -> None:
    process(ctx, [am(1, FEE_ZH[0])])
    eid = event_of(ctx, 1)
    svc = EventService(ctx)
    with pytest.raises(ValidationError), ctx.db.session() as s:
        svc.merge(s, [eid], by="x")
    with pytest.raises(NotFound), ctx.db.session() as s:
        svc.merge(s, [eid, 999], by="x")
    with pytest.raises(ValidationError), ctx.db.session() as s:
        svc.split(s, eid, [1], by="x")  # would empty the event
    with pytest.raises(ValidationError), ctx.db.session() as s:
        svc.split(s, eid, [42], by="x")


def test_list_filters(ctx: AppContext) -> None:
    process(ctx, [am(1, FEE_ZH[0]), am(2, OUTAGE_ZH, targets=(OTHER,), risk="系统故障")])
    with ctx.db.session() as s:
        assert [e.target_ids for e in list_snapshots(s, target_id=9)] == [(9,)]
        assert len(list_snapshots(s, level="IV")) == 2
        assert list_snapshots(s, level="I") == []
        assert len(list_snapshots(s, status="active")) == 2
        with pytest.raises(NotFound):
            load_snapshot(s, 12345)


def test_bad_rules_file_fails_at_load(ctx: AppContext, tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "rules:\n  - name: x\n    level: V\n    all: [{metric: reach, gte: 1}]\n", encoding="utf-8"
    )
    ctx.settings.events.grading_rules_file = str(bad)
    with pytest.raises(ConfigError, match="level must be one of"):
        EventService(ctx)


def test_dormant_state_survives_restart_and_archives(ctx: AppContext, clock: ManualClock) -> None:
    process(ctx, [am(1, FEE_ZH[0]), am(2, FEE_ZH[1])])
    eid = event_of(ctx, 1)
    clock.advance(timedelta(hours=100))
    process(ctx, [am(3, OUTAGE_ZH, at=clock.now(), targets=(OTHER,), risk="系统故障")])
    ctx.extras.pop(CLUSTERER_KEY)  # restart: the dormant event is reloaded as a dormant summary
    process(ctx, [am(4, FEE_ZH[2], at=clock.now())])
    assert event_of(ctx, 4) == eid
    clock.advance(timedelta(days=40))
    process(ctx, [am(5, OUTAGE_ZH, at=clock.now(), targets=(OTHER,), risk="系统故障")])
    process(ctx, [am(6, OUTAGE_ZH, at=clock.now(), targets=(OTHER,), risk="系统故障")])
    with ctx.db.session() as s:
        assert s.get(Event, eid).status == "archived"
    process(ctx, [am(7, FEE_ZH[0], at=clock.now())])
    assert event_of(ctx, 7) != eid  # archived events are never woken
