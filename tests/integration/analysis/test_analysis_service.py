"""The analysis stage over a real database (SQLite or PostgreSQL): bus in, results stored, bus out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from yuqing.analysis import service
from yuqing.analysis.models import AnalysisLabel, AnalysisResult, TargetMatchRecord
from yuqing.analysis.stage import register
from yuqing.core.bus import MENTIONS_ANALYSED, MENTIONS_INGESTED
from yuqing.core.context import AppContext
from yuqing.errors import NotFound, ValidationError
from yuqing.sources.models import Mention, Quarantine, Source, Target


def _seed(ctx: AppContext) -> dict[str, int]:
    now = ctx.clock.now()
    with ctx.db.session() as s:
        news = Source(name="财经网", kind="rss", platform="news", tier="financial_media", created_at=now)
        weibo = Source(name="微博", kind="webhook", platform="weibo", tier="personal", created_at=now)
        s.add_all([news, weibo])
        s.flush()
        cmb = Target(
            name="招商银行",
            aliases=["招行", "CMB"],
            executives=["王良"],
            products=["掌上生活"],
            rule="(招商银行 OR 招行 OR CMB) NOT 招聘",
            exclude=["招聘会"],
            created_at=now,
        )
        other = Target(name="华信银行", aliases=["华信"], created_at=now)
        s.add_all([cmb, other])
        s.flush()
        texts = [
            (
                news,
                "招行信用卡乱收费遭客户集体投诉",
                "多名客户投诉招商银行信用卡中心违规收取年费和手续费，要求退还。",
                10,
            ),
            (weibo, "", "招行今天的服务真好，客户经理很耐心，点赞！", 5),
            (weibo, "", "招行招聘：2026届校园招聘开启，欢迎投递简历", 1),
            (news, "", "警方通报：某P2P平台涉嫌诈骗，华信银行曾为其提供存管服务，平台实控人已失联跑路", 3),
            (weibo, "", "I hate CMB, the app crashed again and I could not transfer money", 0),
        ]
        ids = {}
        for i, (src, title, text, reposts) in enumerate(texts):
            m = Mention(
                source_id=src.id,
                external_id=f"x{i}",
                platform=src.platform,
                title=title,
                text=text,
                author=f"user{i}",
                author_followers=1000 * (i + 1),
                published_at=now - timedelta(minutes=10 - i),
                ingested_at=now,
                reposts=reposts,
                content_hash=f"h{i}",
            )
            s.add(m)
            s.flush()
            ids[f"m{i}"] = m.id
        ids["cmb"], ids["other"] = cmb.id, other.id
    return ids


def test_stage_analyses_stores_and_publishes(ctx: AppContext) -> None:
    ids = _seed(ctx)
    register(ctx)
    seen: list[int] = []
    ctx.bus.subscribe(MENTIONS_ANALYSED, lambda b: seen.extend(m["mention_id"] for m in b))
    mids = [ids[f"m{i}"] for i in range(5)]
    ctx.bus.publish(MENTIONS_INGESTED, [{"mention_id": i} for i in mids])
    assert sorted(seen) == sorted(mids)

    with ctx.db.session() as s:
        got = service.load_analysed(s, mids)
    assert [a.mention_id for a in got] == mids
    by = {a.mention_id: a for a in got}
    complaint = by[ids["m0"]]
    assert [t.name for t in complaint.targets] == ["招商银行"]
    assert complaint.sentiment == "negative"
    assert complaint.targets[0].negative
    assert complaint.risk_type in ("收费争议", "投诉维权")
    assert complaint.trigger_category == "customer_complaint"
    assert complaint.source_tier == "financial_media"
    assert 0 < complaint.influence <= 100
    assert complaint.tokens and complaint.keywords
    assert "招商银行" in complaint.entities
    assert by[ids["m1"]].sentiment != "negative"
    assert by[ids["m2"]].targets == ()  # 招聘 advert excluded by the rule
    p2p = by[ids["m3"]]
    assert [t.name for t in p2p.targets] == ["华信银行"]
    assert by[ids["m4"]].lang == "en"
    assert [t.name for t in by[ids["m4"]].targets] == ["招商银行"]


def test_redelivery_is_idempotent_and_records_versions(ctx: AppContext) -> None:
    ids = _seed(ctx)
    mids = [ids[f"m{i}"] for i in range(5)]
    service.analyse_mentions(ctx, mids)
    service.analyse_mentions(ctx, mids + mids[:2])
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AnalysisResult)) == 5
        assert s.scalar(select(func.count()).select_from(TargetMatchRecord)) == 4
        r = s.get(AnalysisResult, ids["m0"])
        assert r is not None
        assert set(r.model_versions) == {"sentiment_zh", "sentiment_en", "subject", "risk"}
        assert r.analysed_at == ctx.clock.now()


def test_labels_override_and_persist_through_reanalysis(ctx: AppContext) -> None:
    ids = _seed(ctx)
    service.analyse_mentions(ctx, [ids["m0"], ids["m1"]])
    service.record_label(ctx, ids["m1"], "sentiment", "negative", by="analyst")
    service.record_label(ctx, ids["m0"], "not_about_target", "招商银行", by="analyst")
    service.record_label(ctx, ids["m0"], "risk", "系统故障", by="analyst")
    ctx.clock.advance(60)  # type: ignore[attr-defined]
    assert service.reanalyse(ctx, since=ctx.clock.now() - timedelta(days=1)) == 5
    with ctx.db.session() as s:
        got = {a.mention_id: a for a in service.load_analysed(s, [ids["m0"], ids["m1"]])}
        assert got[ids["m1"]].sentiment == "negative"
        assert got[ids["m0"]].targets == ()
        assert got[ids["m0"]].risk_type == "系统故障"
        assert len(service.labels(s)) == 3
        assert s.scalar(select(func.count()).select_from(AnalysisLabel)) == 3


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("mood", "negative", ValidationError),
        ("sentiment", "angry", ValidationError),
        ("risk", "不存在的类型", ValidationError),
        ("not_about_target", "没有这个主体", ValidationError),
    ],
)
def test_bad_labels_are_refused(ctx: AppContext, kind: str, value: str, error: type[Exception]) -> None:
    ids = _seed(ctx)
    with pytest.raises(error):
        service.record_label(ctx, ids["m0"], kind, value, by="analyst")


def test_label_on_unknown_mention(ctx: AppContext) -> None:
    with pytest.raises(NotFound):
        service.record_label(ctx, 999_999, "sentiment", "negative", by="analyst")


def test_failing_mention_goes_to_quarantine(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _seed(ctx)
    from yuqing.analysis import core

    real = core.analyse_batch

    def flaky(items, *a, **k):  # type: ignore[no-untyped-def]
        if any("P2P" in it.text for it in items):
            raise RuntimeError("boom")
        return real(items, *a, **k)

    monkeypatch.setattr(service, "analyse_batch", flaky)
    done = service.analyse_mentions(ctx, [ids[f"m{i}"] for i in range(5)])
    assert ids["m3"] not in done and len(done) == 4
    with ctx.db.session() as s:
        q = s.scalars(select(Quarantine)).all()
        assert [(x.stage, x.payload) for x in q] == [("analyse", {"mention_id": ids["m3"]})]
