"""events.changed lands in linked incidents' timelines (idempotently); unlinked serious events suggest or
auto-open an incident, as configured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from yuqing.alerts.models import Alert
from yuqing.core.bus import EVENTS_CHANGED
from yuqing.events.models import Event
from yuqing.incidents import service as svc
from yuqing.incidents import stage
from yuqing.incidents.models import VolumeSample
from yuqing.org.service import load_org_file


@pytest.fixture
def sctx(ctx):
    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    stage.register(ctx)
    return ctx


def add_event(ctx, *, level: str, mentions: int, negative: int, title: str = "华信银行分期手续费争议") -> int:
    now = ctx.clock.now()
    with ctx.db.session() as s:
        ev = Event(
            title=title,
            level=level,
            level_reasons=["负面占比高"],
            first_seen=now - timedelta(hours=5),
            last_seen=now,
            mention_count=mentions,
            negative_count=negative,
            negative_share=negative / mentions,
            status="active",
            created_at=now,
            updated_at=now,
        )
        s.add(ev)
        s.flush()
        return ev.id


def update_event(ctx, event_id: int, **values) -> None:
    with ctx.db.session() as s:
        ev = s.get(Event, event_id)
        for k, v in values.items():
            setattr(ev, k, v)


def test_level_change_and_volume_land_in_the_timeline_once(sctx):
    eid = add_event(sctx, level="III", mentions=10, negative=5)
    inc = svc.open_incident(sctx, actor="lin.xiao", event_ids=[eid], apply_playbook=False)
    assert inc.level == "III" and inc.first_seen is not None
    sctx.clock.advance(timedelta(minutes=61))
    update_event(sctx, eid, level="II", mention_count=30, negative_count=20, negative_share=2 / 3)
    msg = {"event_id": eid, "change": "level", "old_level": "III", "new_level": "II"}
    sctx.bus.publish(EVENTS_CHANGED, [msg, msg])
    sctx.bus.publish(EVENTS_CHANGED, [msg])  # redelivery
    entries = svc.get_timeline(sctx, inc.id)
    levels = [e for e in entries if e.kind == "event_level"]
    volumes = [e for e in entries if e.kind == "event_volume"]
    assert len(levels) == 1 and (levels[0].data["from"], levels[0].data["to"]) == ("III", "II")
    assert len(volumes) == 1 and volumes[0].data["negative_count"] == 20
    with sctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(VolumeSample)) == 2
    # the incident's own level is the management group's call: only recorded, not changed
    assert svc.incident_view(sctx, inc.id)["level"] == "III"
    # more volume within the hour: sampled for the review, but no new timeline entry yet
    sctx.clock.advance(timedelta(minutes=10))
    update_event(sctx, eid, mention_count=35, negative_count=24)
    sctx.bus.publish(EVENTS_CHANGED, [{"event_id": eid, "change": "updated"}])
    assert len([e for e in svc.get_timeline(sctx, inc.id) if e.kind == "event_volume"]) == 1
    with sctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(VolumeSample)) == 3
    assert svc.verify_timeline(sctx, inc.id).ok


def test_unlinked_serious_event_suggests_an_incident(sctx):
    minor = add_event(sctx, level="III", mentions=5, negative=2, title="网点排队")
    serious = add_event(sctx, level="II", mentions=50, negative=40)
    msgs = [{"event_id": minor, "change": "level"}, {"event_id": serious, "change": "level"}]
    sctx.bus.publish(EVENTS_CHANGED, msgs)
    sctx.bus.publish(EVENTS_CHANGED, msgs)
    with sctx.db.session() as s:
        alerts = list(s.scalars(select(Alert).where(Alert.kind == "incident_suggested")))
    assert [(a.subject_id, a.dedup_key) for a in alerts] == [
        (serious, f"incident-suggest:event:{serious}:II")
    ]
    assert svc.list_incidents(sctx) == []  # default: suggest only


def test_auto_open_when_configured(sctx):
    sctx.settings.incidents.auto_open_level = "I"
    ii = add_event(sctx, level="II", mentions=50, negative=40)
    i = add_event(sctx, level="I", mentions=500, negative=450, title="华信银行挤兑传闻")
    sctx.bus.publish(
        EVENTS_CHANGED, [{"event_id": ii, "change": "level"}, {"event_id": i, "change": "level"}]
    )
    sctx.bus.publish(EVENTS_CHANGED, [{"event_id": i, "change": "updated"}])
    [inc] = svc.list_incidents(sctx)
    assert (inc.level, inc.title, inc.opened_by) == ("I", "华信银行挤兑传闻", "zheng.hao")
    assert [e["event_id"] for e in svc.incident_view(sctx, inc.id)["events"]] == [i]
