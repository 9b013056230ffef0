"""Service-level tests on the real database: raise, route, outbox, dispatch, ack, escalate, group."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from yuqing.alerts import service
from yuqing.alerts.dispatcher import Dispatcher
from yuqing.alerts.models import Alert, AlertRecipient, Delivery, EscalationRecord
from yuqing.core.bus import ALERTS_RAISED
from yuqing.core.context import AppContext
from yuqing.core.contracts import EventSnapshot


@pytest.fixture
def actx(ctx: AppContext, tmp_path: Path) -> AppContext:
    """Context with the plan's organisation and only the file channel (under tmp_path)."""
    from yuqing.org.service import load_org_file

    ctx.settings.alerts.outbox_dir = str(tmp_path / "outbox")
    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    return ctx


def _raise(ctx: AppContext, **kw):  # type: ignore[no-untyped-def]
    args = dict(
        kind="event",
        title="某银行理财产品暴雷传闻",
        level="III",
        reasons=["负面占比 80%"],
        subject_type="event",
        subject_id=1,
        dedup_key="event:1:level:III",
        data={"numbers": {"mention_count": 12}},
    )
    args.update(kw)
    with ctx.db.session() as s:
        a = service.raise_alert(ctx, s, **args)
        return a.id


def _deliveries(ctx: AppContext, alert_id: int | None = None) -> list[Delivery]:
    with ctx.db.session() as s:
        q = select(Delivery).order_by(Delivery.id)
        if alert_id is not None:
            q = q.where(Delivery.alert_id == alert_id)
        return list(s.scalars(q))


def test_raise_routes_per_plan_and_publishes_after_commit(actx: AppContext) -> None:
    seen: list[dict] = []
    actx.bus.subscribe(ALERTS_RAISED, seen.extend)
    aid = _raise(actx, level="II", dedup_key="event:1:level:II")
    assert seen == [{"alert_id": aid}]
    with actx.db.session() as s:
        people = {r.person_key: r.reasons for r in s.scalars(select(AlertRecipient))}
    # monitoring on duty (rotation at Monday 09:00 local), response leader, management deputies
    assert "zhou.ting" in people and "wang.li" in people and "liu.yang" in people
    assert "chen.jianguo" not in people  # level I only
    assert any("monitoring" in r for rs in people.values() for r in rs)
    ds = _deliveries(actx, aid)
    assert {d.channel for d in ds} == {"file"}  # the only configured channel (last resort)
    assert all(d.status == "pending" for d in ds)


def test_rollback_writes_nothing_and_publishes_nothing(actx: AppContext) -> None:
    seen: list[dict] = []
    actx.bus.subscribe(ALERTS_RAISED, seen.extend)
    with pytest.raises(RuntimeError), actx.db.session() as s:
        service.raise_alert(
            actx,
            s,
            kind="event",
            title="t",
            level="IV",
            reasons=[],
            subject_type="event",
            subject_id=9,
            dedup_key="event:9:level:IV",
        )
        raise RuntimeError("caller fails")
    assert seen == []
    with actx.db.session() as s:
        assert s.scalar(select(Alert.id)) is None and s.scalar(select(Delivery.id)) is None


def test_dispatch_sends_once_and_measures(actx: AppContext, tmp_path: Path) -> None:
    aid = _raise(actx, level="I", dedup_key="event:1:level:I")
    d = Dispatcher(actx)
    try:
        r = d.drain()
        assert r.sent == len(_deliveries(actx, aid)) > 0
        assert d.drain().claimed == 0  # nothing left, nothing resent
    finally:
        d.close()
    files = sorted((tmp_path / "outbox").glob("*.json"))
    assert len(files) == r.sent
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert doc["alert"]["level"] == "I" and doc["alert"]["ack_url"].startswith(
        "http://127.0.0.1:8000/alerts/ack?token="
    )
    assert "特别重大" in doc["subject"]
    with actx.db.session() as s:
        a = s.get(Alert, aid)
        assert a is not None and a.first_notified_at == actx.clock.now()
    with actx.db.session() as s:
        st = {x.level: x for x in service.stats(s)}
    assert st["I"].alerts == 1 and st["I"].notified == 1 and st["I"].notify_p50_s == 0.0


def test_redelivery_is_a_noop_and_update_is_grouped(actx: AppContext) -> None:
    aid = _raise(actx)
    assert _raise(actx) == aid  # same content again
    n = len(_deliveries(actx))
    d = Dispatcher(actx)
    try:
        d.drain()
        actx.clock.advance(60)
        _raise(actx, data={"numbers": {"mention_count": 20}})  # update within min_interval: deferred
        actx.clock.advance(60)
        _raise(actx, data={"numbers": {"mention_count": 30}})  # another: merged into the pending one
        ds = _deliveries(actx, aid)
        assert len(ds) == 3 * n
        pending = [x for x in ds if x.status == "pending"]
        merged = [x for x in ds if x.status == "merged"]
        assert len(pending) == n and len(merged) == n
        assert all(x.merged_count == 1 for x in pending)
        assert d.drain().claimed == 0  # not due yet
        actx.clock.advance(actx.settings.alerts.min_interval_s)
        assert d.drain().sent == n
    finally:
        d.close()


def test_level_increase_goes_out_immediately(actx: AppContext) -> None:
    _raise(actx, level="IV", dedup_key="event:1:level:IV")
    d = Dispatcher(actx)
    try:
        d.drain()
        actx.clock.advance(30)
        aid = _raise(actx, level="III", dedup_key="event:1:level:III")
        ds = _deliveries(actx, aid)
        assert ds and all(x.urgent and x.next_attempt_at == actx.clock.now() for x in ds)
        assert d.drain().sent == len(ds)
    finally:
        d.close()


def test_storm_is_summarised_into_a_digest(actx: AppContext, tmp_path: Path) -> None:
    actx.settings.alerts.storm_threshold = 3
    d = Dispatcher(actx)
    try:
        for i in range(3):  # three alerts sent normally to the person on duty
            _raise(actx, level="IV", subject_id=100 + i, dedup_key=f"event:{100 + i}:level:IV")
            d.drain()
        for i in range(4):  # the storm: deferred, then one digest per person
            _raise(actx, level="IV", subject_id=200 + i, dedup_key=f"event:{200 + i}:level:IV")
        assert d.drain().claimed == 0
        actx.clock.advance(actx.settings.alerts.storm_window_s + 1)
        before = len(list((tmp_path / "outbox").glob("*.json")))
        r = d.drain()
        assert r.sent == 4
        after = list((tmp_path / "outbox").glob("*.json"))
        assert len(after) == before + 1  # four alerts, one message
        digests = [json.loads(p.read_text(encoding="utf-8")) for p in after]
        assert any(doc["alert"].get("digest") and doc["alert"]["count"] == 4 for doc in digests)
    finally:
        d.close()


def test_ack_stops_escalation_and_escalation_records_each_step(actx: AppContext) -> None:
    aid = _raise(actx, level="I", dedup_key="event:1:level:I")
    bid = _raise(actx, level="I", subject_id=2, dedup_key="event:2:level:I")
    service.acknowledge(actx, bid, by="lin.xiao", via="cli")
    assert service.run_escalations(actx) == 0  # not due yet
    actx.clock.advance(timedelta(minutes=10))  # the level-I ack deadline
    assert service.run_escalations(actx) == 1  # step 1: the original recipients again
    assert service.run_escalations(actx) == 0  # recorded once
    actx.clock.advance(timedelta(minutes=5))
    assert service.run_escalations(actx) == 1  # its repeat
    actx.clock.advance(timedelta(minutes=15))  # past step 2 (10m) and the final (20m)
    assert service.run_escalations(actx) == 2
    with actx.db.session() as s:
        steps = list(s.scalars(select(EscalationRecord).where(EscalationRecord.alert_id == aid)))
        assert [(x.step, x.repeat, x.final) for x in steps] == [
            (0, 0, False),
            (0, 1, False),
            (1, 0, False),
            (2, 0, True),
        ]
        final = steps[-1]
        assert set(final.recipients) >= {"chen.jianguo", "wang.li", "liu.yang"}
        assert s.scalar(select(EscalationRecord.id).where(EscalationRecord.alert_id == bid)) is None
        esc = list(s.scalars(select(Delivery).where(Delivery.alert_id == aid, Delivery.purpose.like("esc%"))))
        assert esc and all(x.urgent for x in esc)
    a = service.acknowledge(actx, aid, by="wang.li", via="api")
    again = service.acknowledge(actx, aid, by="someone.else", via="cli")
    assert again.acked_by == "wang.li" == a.acked_by
    actx.clock.advance(timedelta(hours=5))
    assert service.run_escalations(actx) == 0


def test_ack_link_round_trip(actx: AppContext) -> None:
    from yuqing.alerts.ack import ExpiredAckToken, make_token

    aid = _raise(actx)
    secret = actx.settings.secret_key.get_secret_value()
    token = make_token(secret, aid, "lin.xiao", actx.clock.now() + timedelta(hours=1))
    a = service.acknowledge_token(actx, token)
    assert a.acked_by == "lin.xiao" and a.ack_via == "link"
    old = make_token(secret, aid, "lin.xiao", actx.clock.now() - timedelta(seconds=1))
    with pytest.raises(ExpiredAckToken):
        service.acknowledge_token(actx, old)


def test_named_recipients_and_unknown_person_still_recorded(actx: AppContext) -> None:
    aid = _raise(actx, kind="incident_overdue_task", recipients=["zhou.ting", "nobody.here"], dedup_key="x:1")
    with actx.db.session() as s:
        keys = {
            r.person_key: r.source
            for r in s.scalars(select(AlertRecipient).where(AlertRecipient.alert_id == aid))
        }
    assert keys == {"zhou.ting": "caller", "nobody.here": "caller"}
    assert {d.person_key for d in _deliveries(actx, aid)} == {"zhou.ting", "nobody.here"}


def test_database_rule_adds_a_person_and_route_explains(actx: AppContext) -> None:
    from yuqing.alerts.routing import AlertFacts

    with actx.db.session() as s:
        service.set_rule(
            actx,
            s,
            "credit-card-risk",
            {"when": {"risk_types": ["信用卡"]}, "notify": [{"person": "sun.lei"}]},
        )
    with actx.db.session() as s:
        facts = AlertFacts(kind="event", level="IV", at=actx.clock.now(), risk_type="信用卡")
        ds = {d.person: d.reasons for d in service.route_alert(actx, s, facts)}
    assert "sun.lei" in ds and "credit-card-risk" in ds["sun.lei"][0]


def test_event_snapshot_entry_point(actx: AppContext) -> None:
    now = actx.clock.now()
    snap = EventSnapshot(
        event_id=7,
        title="储户投诉取款难",
        level="II",
        level_reasons=("多家媒体转载",),
        status="active",
        first_seen=now,
        last_seen=now,
        mention_count=40,
        negative_count=30,
        negative_share=0.75,
        reach=1e5,
        velocity=12.0,
        platforms=("weibo",),
        target_ids=(1,),
        risk_type="流动性风险",
    )
    with actx.db.session() as s:
        a = service.alert_for_event(actx, s, snap)
        assert a is not None and a.dedup_key == "event:7:level:II"
        assert a.data["numbers"]["negative_share"] == 0.75
        ungraded = EventSnapshot(**{**snap.__dict__, "level": None})
        assert service.alert_for_event(actx, s, ungraded) is None


def test_unavailable_person_is_replaced_by_stand_in(actx: AppContext) -> None:
    from yuqing.org.models import Person

    with actx.db.session() as s:
        ceo = s.scalar(select(Person).where(Person.key == "chen.jianguo"))
        assert ceo is not None
        ceo.unavailable_until = actx.clock.now() + timedelta(days=3)
    aid = _raise(actx, level="I", dedup_key="event:1:level:I")
    with actx.db.session() as s:
        rec = {
            r.person_key: r.reasons
            for r in s.scalars(select(AlertRecipient).where(AlertRecipient.alert_id == aid))
        }
    assert "chen.jianguo" not in rec
    assert any("standing in for chen.jianguo" in r for r in rec["wang.li"])


def test_database_row_switches_a_file_rule_off(actx: AppContext) -> None:
    from yuqing.alerts.models import RoutingRule
    from yuqing.alerts.routing import AlertFacts

    now = actx.clock.now()
    with actx.db.session() as s:
        s.add(RoutingRule(name="level-i-chief", enabled=False, definition={}, created_at=now, updated_at=now))
    with actx.db.session() as s:
        who = {d.person for d in service.route_alert(actx, s, AlertFacts("event", "I", now))}
    assert "chen.jianguo" not in who and "zhou.ting" in who
