"""Helpers shared by the web tests (imported by tests/api/test_web_*.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from yuqing.core.context import AppContext
from yuqing.sources.models import Mention, Source, Target
from yuqing.web import auth
from yuqing.web.app import create_app

PASSWORD = "correct-horse-9"
XSS_TITLE = '<script>alert("x")</script>恶意标题'
XSS_URL = "javascript:alert(document.cookie)"


def fast_hashing(ctx: AppContext) -> None:
    """Cheap argon2 parameters for tests (production defaults are deliberately slow)."""
    ctx.settings.web.argon2_time_cost = 1
    ctx.settings.web.argon2_memory_kib = 1024


def make_client(ctx: AppContext) -> TestClient:
    fast_hashing(ctx)
    return TestClient(create_app(ctx), base_url="http://127.0.0.1")


def login_client(ctx: AppContext, username: str, roles: list[str]) -> TestClient:
    """A client logged in through the API as a new user with ``roles`` (CSRF header preset)."""
    fast_hashing(ctx)
    auth.add_user(ctx, username, PASSWORD, roles)
    client = make_client(ctx)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers[auth.CSRF_HEADER] = r.json()["csrf_token"]
    return client


def seed_mentions(ctx: AppContext, n: int = 5, start: datetime | None = None) -> dict[str, Any]:
    """A source, a target and ``n`` mentions an hour apart (the last one hostile)."""
    start = start or ctx.clock.now() - timedelta(hours=n)
    with ctx.db.session() as s:
        src = Source(name="微博监测", kind="webhook", platform="weibo", created_at=start, config={})
        news = Source(name="财经新闻", kind="rss", platform="news", created_at=start, config={})
        tgt = Target(name="示例银行", aliases=["示例行"], created_at=start)
        s.add_all([src, news, tgt])
        s.flush()
        texts = [
            ("示例银行信用卡客户投诉被乱收费", "多名客户投诉示例银行信用卡年费被乱收，要求退款。"),
            ("示例银行发布年度报告", "示例银行净利润增长，资产质量稳定。"),
            ("网点排队时间过长", "客户反映网点排队两个小时，服务态度差。"),
            ("理财产品收益下滑", "某理财产品净值跌破面值，投资者担忧。"),
        ]
        ids = []
        for i in range(n):
            title, text = texts[i % len(texts)]
            url = f"https://news.example.com/a/{i}"
            if i == n - 1:
                title, text, url = (
                    XSS_TITLE,
                    '<img src=x onerror="alert(1)"> 正文 <a href="javascript:alert(2)">点我</a>',
                    XSS_URL,
                )
            m = Mention(
                source_id=(src if i % 2 == 0 else news).id,
                external_id=f"ext-{i}",
                platform="weibo" if i % 2 == 0 else "news",
                url=url,
                title=title,
                text=text,
                author=f"作者{i}",
                published_at=start + timedelta(hours=i),
                ingested_at=start + timedelta(hours=i, minutes=1),
                content_hash=f"{i:064d}",
                extra={},
            )
            s.add(m)
            s.flush()
            ids.append(m.id)
        return {"source_id": src.id, "news_id": news.id, "target_id": tgt.id, "mention_ids": ids}


# People of the shipped org template (yuqing.org) used by the incident tests.
PR = "huang.lei"  # response group member: drafts and publishes statements
LEGAL = "guo.jia"  # legal: first approval step
COMPLIANCE = "liu.yang"  # compliance: second approval step
MONITOR = "lin.xiao"  # monitoring group


def seed_alert(ctx: AppContext, title: str = "示例银行信用卡投诉激增", level: str = "II") -> int:
    from yuqing.alerts.models import Alert

    now = ctx.clock.now()
    with ctx.db.session() as s:
        a = Alert(
            kind="event",
            title=title,
            level=level,
            reasons=["负面占比 80% / negative share 80%"],
            subject_type="event",
            subject_id=1,
            dedup_key=f"event:{title}",
            data={},
            fingerprint="0" * 64,
            status="open",
            raised_at=now,
            updated_at=now,
        )
        s.add(a)
        s.flush()
        return a.id


def seed_event(ctx: AppContext, mention_ids: list[int]) -> int:
    from yuqing.events.models import Event, EventBucket, EventLevelChange

    now = ctx.clock.now()
    with ctx.db.session() as s:
        ev = Event(
            title="示例银行信用卡乱收费",
            keywords=["信用卡", "乱收费"],
            target_ids=[1],
            status="active",
            level="II",
            level_reasons=["负面占比高"],
            level_reasons_en=["high negative share"],
            first_seen=now - timedelta(hours=3),
            last_seen=now,
            mention_count=len(mention_ids),
            negative_count=len(mention_ids),
            negative_share=1.0,
            platforms=["weibo", "news"],
            top_sources=[{"name": "微博监测", "count": 3}],
            key_opinion_leaders=[{"author": "<b>大V</b>", "followers": 100000}],
            top_mention_ids=mention_ids,
            created_at=now,
            updated_at=now,
        )
        s.add(ev)
        s.flush()
        for h in range(3):
            s.add(
                EventBucket(event_id=ev.id, hour=now - timedelta(hours=3 - h), count=h + 1, negative_count=h)
            )
        s.add(
            EventLevelChange(
                event_id=ev.id,
                at=now,
                old_level="III",
                new_level="II",
                rule="neg_share",
                reasons=["负面占比超过阈值"],
            )
        )
        return ev.id


def seed_incident(ctx: AppContext) -> tuple[int, int]:
    """Load the org template, open an incident, draft a holding statement; (incident id, statement id)."""
    from yuqing.core.contracts import EventSnapshot
    from yuqing.incidents import service as svc
    from yuqing.org.service import load_org_file

    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    first = ctx.clock.now() - timedelta(hours=2)
    snap = EventSnapshot(
        event_id=7,
        title="客户投诉某行信用卡乱收费",
        level="II",
        level_reasons=("负面占比高 / high negative share",),
        status="active",
        first_seen=first,
        last_seen=first + timedelta(hours=1),
        mention_count=40,
        negative_count=30,
        negative_share=0.75,
        reach=1000.0,
        velocity=12.0,
        platforms=("weibo",),
        target_ids=(1,),
        risk_type="投诉维权",
    )
    inc = svc.open_incident(
        ctx, actor=MONITOR, snapshots=[snap], category="customer_complaint", facts=["已全额退还"]
    )
    st = svc.draft_statement(ctx, inc.id, actor=PR, kind="holding")
    return inc.id, st.id
