"""The incidents demo step runs to a verified review, with and without a graded event."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console

from yuqing.incidents import demo
from yuqing.incidents import service as svc


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=140, force_terminal=False), buf


def test_demo_without_events_falls_back_to_a_manual_incident(ctx):
    start = ctx.clock.now()
    console, buf = _console()
    demo.run(ctx, console)
    out = buf.getvalue()
    assert "没有已定级的事件" in out
    [inc] = svc.list_incidents(ctx)
    assert inc.status == "reviewed" and inc.closed_by == "chen.jianguo"
    assert svc.verify_timeline(ctx, inc.id).ok
    assert "timeline intact" in out
    assert ctx.clock.now() >= start  # the clock is never left in the past


def test_demo_opens_from_the_most_serious_event(ctx):
    from yuqing.events.models import Event, EventMention

    now = ctx.clock.now()
    first = now - timedelta(days=3)
    with ctx.db.session() as s:
        minor = Event(
            title="某行网点排队",
            level="IV",
            first_seen=first,
            last_seen=now,
            mention_count=3,
            negative_count=1,
            status="active",
            created_at=first,
            updated_at=now,
        )
        ev = Event(
            title="华信银行信用卡分期未告知收取手续费",
            level="II",
            first_seen=first,
            last_seen=now,
            mention_count=120,
            negative_count=100,
            negative_share=100 / 120,
            status="active",
            risk_type="投诉维权",
            created_at=first,
            updated_at=now,
        )
        s.add_all([minor, ev])
        s.flush()
        # 120 mentions: a slow start, a burst around hour 20-30, then a long tail
        hours = [i * 0.5 for i in range(10)] + [20 + i * 0.1 for i in range(80)] + [40 + i for i in range(30)]
        for i, h in enumerate(hours):
            s.add(
                EventMention(
                    event_id=ev.id,
                    mention_id=1000 + i,
                    published_at=first + timedelta(hours=h),
                    negative=i % 6 != 0,
                    created_at=first + timedelta(hours=h),
                )
            )
        event_id = ev.id
    console, buf = _console()
    demo.run(ctx, console)
    out = buf.getvalue()
    [inc] = svc.list_incidents(ctx)
    view = svc.incident_view(ctx, inc.id)
    assert [e["event_id"] for e in view["events"]] == [event_id]
    assert inc.level == "II" and inc.title == demo.FEE_TITLE and inc.status == "reviewed"
    doc = svc.review_document(ctx, inc.id)
    assert doc.metrics.time_to_detect_s is not None and doc.metrics.time_to_detect_s > 0
    assert doc.metrics.peak_negative > 0
    assert "华信银行关于客户反映信用卡分期手续费" in out
    kinds = {e.kind for e in svc.get_timeline(ctx, inc.id)}
    assert {
        "event_linked",
        "event_volume",
        "statement_published",
        "line_acknowledged",
        "resource_fulfilled",
    } <= kinds
    assert doc.chain_ok and ctx.clock.now() >= now
