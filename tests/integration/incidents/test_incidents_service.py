"""Emergency response over real storage (SQLite and PostgreSQL): workflow, permissions, statements,
coordination, resources, the hash-chained timeline, deadlines with a manual clock, and the review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from yuqing.alerts.models import Alert
from yuqing.core.bus import INCIDENTS_CHANGED
from yuqing.core.contracts import EventSnapshot
from yuqing.errors import Conflict, PermissionDenied, ValidationError
from yuqing.incidents import service as svc
from yuqing.incidents.models import IncidentDeadline, Task, TimelineEntry
from yuqing.org.service import load_org_file

# People of the shipped org template
CEO = "chen.jianguo"  # management leader
MARKETING = "wang.li"  # management deputy
COMPLIANCE = "liu.yang"  # management deputy, 合规部
LEGAL_HEAD = "sun.lei"  # 法律事务部, management member, response member
LEGAL = "guo.jia"  # 法律事务部, response member
PR_HEAD = "zhou.ting"  # response leader, management member
PR = "huang.lei"  # response member
CS_HEAD = "zhao.min"  # 客服中心
IT_HEAD = "wu.qiang"
MONITOR_LEAD = "zheng.hao"
MONITOR = "lin.xiao"
LOGISTICS = "feng.tao"
HEADS = ["wang.li", "liu.yang", "sun.lei", "wu.qiang", "zhao.min", "zhou.ting"]


def snapshot(
    event_id: int = 7, *, level: str = "II", mentions: int = 40, negative: int = 30, first_seen=None
):
    first_seen = first_seen or datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
    return EventSnapshot(
        event_id=event_id,
        title="客户投诉某行信用卡乱收费",
        level=level,
        level_reasons=("负面占比高 / high negative share",),
        status="active",
        first_seen=first_seen,
        last_seen=first_seen + timedelta(hours=2),
        mention_count=mentions,
        negative_count=negative,
        negative_share=negative / mentions if mentions else 0.0,
        reach=1000.0,
        velocity=12.0,
        platforms=("weibo",),
        target_ids=(1,),
        risk_type="投诉维权",
    )


@pytest.fixture
def octx(ctx):
    with ctx.db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    return ctx


def open_ii(octx, **kw):
    return svc.open_incident(
        octx,
        actor=MONITOR,
        snapshots=[snapshot(**kw)],
        category="customer_complaint",
        facts=["涉事费用系系统参数错误所致", "已全额退还"],
    )


def test_open_from_event_sets_deadlines_playbook_and_timeline(octx):
    seen = []
    octx.bus.subscribe(INCIDENTS_CHANGED, seen.extend)
    inc = open_ii(octx)
    view = svc.incident_view(octx, inc.id)
    assert view["status"] == "reported" and view["level"] == "II"
    assert view["playbook"] == "customer_dispute"
    kinds = {d["kind"]: d["due_at"] for d in view["deadlines"]}
    opened = octx.clock.now()
    assert kinds["first_response"] == opened + timedelta(hours=6)  # the plan's 6 h for level II
    assert kinds["report_management"] == opened + timedelta(hours=1)
    assert kinds["regulator_report"] == opened + timedelta(hours=12)
    tasks = {t["title"].split(" /")[0]: t for t in view["tasks"]}
    contact = tasks["联系投诉人并记录诉求"]
    assert contact["assignee"] == CS_HEAD and contact["due_at"] == opened + timedelta(hours=2)
    assert any(t["assignee"] == COMPLIANCE for t in view["tasks"])  # regulator report at level II
    assert [e["event_id"] for e in view["events"]] == [7]
    assert seen == [{"incident_id": inc.id, "change": "opened"}]
    with octx.db.session() as s:  # the management group is alerted at once
        alert = s.scalar(select(Alert).where(Alert.dedup_key == f"incident:{inc.id}:reported:II"))
    assert alert is not None and alert.kind == "incident_reported" and alert.level == "II"
    assert svc.verify_timeline(octx, inc.id).ok


def test_opening_by_hand_needs_title_and_level(octx):
    with pytest.raises(ValidationError):
        svc.open_incident(octx, actor=MONITOR, title="内部员工违规", level=None)
    inc = svc.open_incident(
        octx, actor=MONITOR, title="内部员工违规", level="III", category="internal_management"
    )
    assert inc.playbook_key == "internal_management" and inc.first_seen is None


def test_transitions_record_who_when_why_and_meet_deadlines(octx):
    inc = open_ii(octx)
    with pytest.raises(Conflict, match="reported -> closed"):
        svc.transition(octx, inc.id, "closed", actor=CEO)
    with pytest.raises(ValidationError):
        svc.transition(octx, inc.id, "cancelled", actor=CEO)  # needs a reason
    with pytest.raises(PermissionDenied):
        svc.transition(octx, inc.id, "cancelled", actor=PR, reason="误报")  # not management / monitoring lead
    octx.clock.advance(timedelta(minutes=20))
    svc.transition(octx, inc.id, "assessing", actor=MONITOR_LEAD, reason="报告管理小组")
    view = svc.incident_view(octx, inc.id)
    met = {d["kind"]: d["met_at"] for d in view["deadlines"]}
    assert met["report_management"] == octx.clock.now()
    entries = svc.get_timeline(octx, inc.id)
    tr = [e for e in entries if e.kind == "transition"][-1]
    assert (tr.actor, tr.at, tr.data["reason"]) == (MONITOR_LEAD, octx.clock.now(), "报告管理小组")


CLOSE_CASES = [  # (level, actor, allowed): only the management group closes a level I or II incident
    ("I", CEO, True),
    ("II", MARKETING, True),
    ("II", PR, False),
    ("II", MONITOR, False),
    ("III", PR, True),
    ("IV", MONITOR, True),
]


def test_only_management_closes_level_i_and_ii(octx):
    # one database setup for the whole table (each case has its own incident)
    for level, actor, allowed in CLOSE_CASES:
        inc = svc.open_incident(
            octx, actor=MONITOR, title=f"测试事件 {level} {actor}", level=level, apply_playbook=False
        )
        for state in ("assessing", "responding", "recovering"):
            svc.transition(octx, inc.id, state, actor=CEO)
        if allowed:
            assert svc.transition(octx, inc.id, "closed", actor=actor).status == "closed", (level, actor)
        else:
            with pytest.raises(PermissionDenied, match="management"):
                svc.transition(octx, inc.id, "closed", actor=actor)
            assert svc.incident_view(octx, inc.id)["status"] == "recovering"


def test_statement_approval_chain_and_immutability(octx):
    inc = open_ii(octx)
    st = svc.draft_statement(octx, inc.id, actor=PR, kind="holding")
    body = svc.statement_body(octx, st.id)
    assert "本行" in body and "客户投诉某行信用卡乱收费" in body
    with pytest.raises(PermissionDenied):
        svc.draft_statement(octx, inc.id, actor=MONITOR, kind="holding")  # not in the response group
    with pytest.raises(Conflict, match="approved"):
        svc.publish_statement(octx, st.id, actor=PR, channel="官方微博")
    # compliance cannot jump the legal step; PR cannot approve at all
    for who in (COMPLIANCE, PR, CEO):
        with pytest.raises(PermissionDenied):
            svc.approve_statement(octx, st.id, actor=who)
    assert svc.approve_statement(octx, st.id, actor=LEGAL).status == "in_review"
    with pytest.raises(PermissionDenied):
        svc.approve_statement(octx, st.id, actor=LEGAL)  # same person, second step
    # a new version restarts the chain
    svc.revise_statement(octx, st.id, actor=PR, body=body + "\n补充：已启动全面排查。", note="补充")
    assert svc.approve_statement(octx, st.id, actor=LEGAL_HEAD).status == "in_review"
    assert svc.approve_statement(octx, st.id, actor=COMPLIANCE).status == "approved"
    pub = svc.publish_statement(octx, st.id, actor=PR, channel="官方微博", link="https://weibo.example/1")
    assert pub.status == "published" and pub.published_at == octx.clock.now()
    with pytest.raises(Conflict, match=r"immutable|不可修改"):
        svc.revise_statement(octx, st.id, actor=PR, body="改")
    with pytest.raises(Conflict):
        svc.approve_statement(octx, st.id, actor=LEGAL)
    with pytest.raises(Conflict):
        svc.publish_statement(octx, st.id, actor=PR, channel="官网")
    met = {d["kind"]: d["met_at"] for d in svc.incident_view(octx, inc.id)["deadlines"]}
    assert met["holding_statement"] == octx.clock.now() and met["full_statement"] is None


def test_stand_in_approves_for_an_absent_approver(octx):
    """The plan's A/B roles: with the compliance head away, her stand-in approves the compliance
    step in her place; the record and the timeline say on whose behalf; back at work, she decides."""
    from yuqing.org.models import Person, StandIn

    with octx.db.session() as s:
        head = s.scalar(select(Person).where(Person.key == COMPLIANCE))
        deputy = s.scalar(select(Person).where(Person.key == CS_HEAD))
        s.add(StandIn(person_id=head.id, stand_in_id=deputy.id))
        head.unavailable_until = octx.clock.now() + timedelta(hours=6)
    inc = open_ii(octx)
    st = svc.draft_statement(octx, inc.id, actor=PR, kind="holding")
    with pytest.raises(PermissionDenied, match="stand-in"):
        svc.approve_statement(octx, st.id, actor=CS_HEAD)  # the legal step is not hers to stand in for
    svc.approve_statement(octx, st.id, actor=LEGAL)
    assert svc.approve_statement(octx, st.id, actor=CS_HEAD).status == "approved"
    with octx.db.session() as s:
        from yuqing.incidents.models import StatementApproval

        rows = s.execute(
            select(StatementApproval.person, StatementApproval.on_behalf_of).order_by(StatementApproval.id)
        ).all()
        payloads = [
            e.data
            for e in s.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.kind == "statement_approval")
                .order_by(TimelineEntry.incident_id, TimelineEntry.seq)
            )
        ]
    assert [tuple(r) for r in rows] == [(LEGAL, None), (CS_HEAD, COMPLIANCE)]
    assert payloads[-1]["on_behalf_of"] == COMPLIANCE
    # Once the head is back, her stand-in carries no authority on a new version.
    octx.clock.advance(timedelta(hours=7))
    svc.revise_statement(octx, st.id, actor=PR, body=svc.statement_body(octx, st.id) + "\n补充。")
    svc.approve_statement(octx, st.id, actor=LEGAL_HEAD)
    with pytest.raises(PermissionDenied):
        svc.approve_statement(octx, st.id, actor=CS_HEAD)
    assert svc.approve_statement(octx, st.id, actor=COMPLIANCE).status == "approved"


def test_rejection_sends_back_to_draft(octx):
    inc = open_ii(octx)
    st = svc.draft_statement(octx, inc.id, actor=PR, kind="full")
    with pytest.raises(ValidationError):
        svc.approve_statement(octx, st.id, actor=LEGAL, reject=True)
    assert svc.approve_statement(octx, st.id, actor=LEGAL, reject=True, comment="措辞不当").status == "draft"
    with pytest.raises(Conflict):
        svc.approve_statement(octx, st.id, actor=LEGAL_HEAD)  # the rejected version stays rejected
    svc.revise_statement(octx, st.id, actor=PR, body="本行关于某事的声明\n\n修改后的内容。")
    assert svc.approve_statement(octx, st.id, actor=LEGAL_HEAD).status == "in_review"


def test_agreed_line_needs_every_department_head(octx):
    inc = open_ii(octx)
    with pytest.raises(PermissionDenied):
        svc.set_agreed_line(octx, inc.id, actor=MONITOR, text="统一口径")
    svc.set_agreed_line(octx, inc.id, actor=CEO, text="系统参数错误，已全额退还，正在全面排查。")
    with pytest.raises(PermissionDenied):
        svc.acknowledge_line(octx, inc.id, actor=MONITOR)
    for head in HEADS[:-1]:
        status = svc.acknowledge_line(octx, inc.id, actor=head)
    assert status.pending == (HEADS[-1],)
    status = svc.acknowledge_line(octx, inc.id, actor=HEADS[-1])
    assert status.complete
    svc.set_agreed_line(octx, inc.id, actor=PR_HEAD, text="新口径")
    status = svc.line_status(octx, inc.id)
    assert status is not None and status.version == 2 and set(status.pending) == set(HEADS)


def test_resource_request_fulfilled_by_logistics_only(octx):
    inc = open_ii(octx)
    req = svc.request_resource(
        octx, inc.id, actor=PR_HEAD, item="舆情监测加急服务", quantity=1, reason="峰值"
    )
    with pytest.raises(PermissionDenied):
        svc.fulfil_request(octx, req.id, actor=PR_HEAD)
    done = svc.fulfil_request(octx, req.id, actor=LOGISTICS, note="已开通")
    assert done.status == "fulfilled" and done.handled_by == LOGISTICS
    with pytest.raises(Conflict):
        svc.fulfil_request(octx, req.id, actor=LOGISTICS)


def test_hash_chain_detects_an_edited_row(octx):
    inc = open_ii(octx)
    svc.transition(octx, inc.id, "assessing", actor=MONITOR_LEAD)
    svc.decide(octx, inc.id, actor=CEO, participants=[MARKETING], assessment="II级", strategy="主动回应")
    assert svc.verify_timeline(octx, inc.id).ok
    with octx.db.engine.begin() as conn:
        conn.execute(
            update(TimelineEntry)
            .where(TimelineEntry.incident_id == inc.id, TimelineEntry.seq == 3)
            .values(data={"title": "篡改后的内容"})
        )
    result = svc.verify_timeline(octx, inc.id)
    assert not result.ok and result.first_bad_seq == 3 and "edited" in result.problem


def test_hash_chain_detects_deleted_rows(octx):
    inc = open_ii(octx)
    svc.transition(octx, inc.id, "assessing", actor=MONITOR_LEAD)
    n = svc.verify_timeline(octx, inc.id).count
    with octx.db.engine.begin() as conn:
        conn.execute(delete(TimelineEntry).where(TimelineEntry.incident_id == inc.id, TimelineEntry.seq == 2))
    bad = svc.verify_timeline(octx, inc.id)
    assert not bad.ok and bad.first_bad_seq == 3
    with octx.db.engine.begin() as conn:  # deleting only the tail is caught by the head/count on the incident
        conn.execute(delete(TimelineEntry).where(TimelineEntry.incident_id == inc.id, TimelineEntry.seq >= 2))
    tail = svc.verify_timeline(octx, inc.id)
    assert not tail.ok and tail.count == 1 and n > 1


def test_overdue_deadlines_and_tasks_alert_once_per_escalation(octx):
    inc = open_ii(octx)
    assert svc.check_deadlines(octx) == []
    octx.clock.advance(timedelta(hours=1, minutes=1))  # report_management (1 h) is overdue
    first = svc.check_deadlines(octx)
    kinds = {(r.overdue.subject, r.overdue.kind, r.overdue.step) for r in first}
    assert ("deadline", "report_management", 0) in kinds
    assert ("task", "monitor_spread", 0) in kinds  # due 1 h after opening
    assert all(k[1] != "statement_draft" for k in kinds)  # due 2 h after opening at level II
    report = next(r for r in first if r.overdue.kind == "report_management")
    assert report.recipients == (MONITOR_LEAD,)
    assert all(r.raised for r in first)
    with octx.db.session() as s:
        raised = list(
            s.scalars(
                select(Alert).where(Alert.kind.startswith("incident_overdue"), Alert.subject_id == inc.id)
            )
        )
    assert len(raised) == len(first) and all(a.dedup_key.endswith(":step0") for a in raised)
    assert svc.check_deadlines(octx) == []  # idempotent at the same step
    octx.clock.advance(timedelta(hours=2))  # next escalation adds the management leader
    second = svc.check_deadlines(octx)
    report2 = next(r for r in second if r.overdue.kind == "report_management")
    assert report2.overdue.step == 1 and CEO in report2.recipients
    # meeting the deadline stops its alerts; a finished task stops too
    svc.transition(octx, inc.id, "assessing", actor=MONITOR_LEAD)
    with octx.db.session() as s:
        task = s.scalar(select(Task).where(Task.incident_id == inc.id, Task.key == "monitor_spread"))
        assert task is not None
        task_id, assignee = task.id, task.assignee
    with pytest.raises(PermissionDenied):
        svc.update_task(octx, task_id, actor=MONITOR, status="done")  # neither assignee, stand-in nor manager
    svc.update_task(octx, task_id, actor=assignee, status="done", comment="已持续监测")
    octx.clock.advance(timedelta(hours=2))
    third = svc.check_deadlines(octx)
    assert all(r.overdue.kind != "report_management" for r in third)
    assert all(r.overdue.subject_id != task_id or r.overdue.subject != "task" for r in third)
    entries = [e for e in svc.get_timeline(octx, inc.id) if e.kind == "overdue_alert"]
    assert len(entries) == len(first) + len(second) + len(third)
    assert svc.verify_timeline(octx, inc.id).ok


def test_level_change_retimes_unmet_deadlines(octx):
    inc = open_ii(octx)
    opened = octx.clock.now()
    svc.set_level(octx, inc.id, "IV", actor=MONITOR_LEAD, reason="影响有限")
    with octx.db.session() as s:
        rows = {
            d.kind: d
            for d in s.scalars(select(IncidentDeadline).where(IncidentDeadline.incident_id == inc.id))
        }
    assert "regulator_report" not in rows
    assert rows["first_response"].due_at == opened + timedelta(hours=24)
    with pytest.raises(PermissionDenied):
        svc.set_level(octx, inc.id, "I", actor=PR)
    svc.set_level(octx, inc.id, "I", actor=CEO, reason="央媒转载")
    with octx.db.session() as s:  # escalation re-reports to the management group
        assert (
            s.scalar(select(Alert.id).where(Alert.dedup_key == f"incident:{inc.id}:reported:I")) is not None
        )


def test_review_metrics_on_a_scripted_incident(octx):
    t0 = octx.clock.now()  # 2026-03-02 01:00 UTC
    first_seen = t0 - timedelta(hours=3)
    inc = svc.open_incident(
        octx,
        actor=MONITOR,
        snapshots=[snapshot(9, mentions=10, negative=8, first_seen=first_seen)],
        apply_playbook=False,
    )
    octx.clock.advance(timedelta(minutes=30))
    svc.transition(octx, inc.id, "assessing", actor=MONITOR_LEAD)
    # hourly cumulative counts (8 negative already at opening): then +20, +30, +10, +4, +2 negative per hour
    cumulative = [(1, 30, 28), (2, 62, 58), (3, 80, 68), (4, 90, 72), (5, 95, 74)]
    statement_hour = 2
    st = None
    for hours, total, neg in cumulative:
        octx.clock.set(t0 + timedelta(hours=hours))
        svc.record_volume(octx, inc.id, snapshot(9, mentions=total, negative=neg, first_seen=first_seen))
        if hours == statement_hour:
            st = svc.draft_statement(octx, inc.id, actor=PR, kind="holding")
            svc.approve_statement(octx, st.id, actor=LEGAL)
            svc.approve_statement(octx, st.id, actor=COMPLIANCE)
            svc.publish_statement(octx, st.id, actor=PR, channel="官网")
    for state in ("responding", "recovering", "closed"):
        svc.transition(octx, inc.id, state, actor=CEO)
    octx.clock.set(t0 + timedelta(hours=10))
    rv = svc.write_review(
        octx,
        inc.id,
        actor=CEO,
        went_well="响应及时",
        went_badly="客服话术滞后 <script>",
        actions=[("更新客服话术库", CS_HEAD, 30.0)],
    )
    m = rv.metrics
    assert m["time_to_detect_s"] == 3 * 3600
    assert m["time_to_report_s"] == 30 * 60
    assert m["time_to_first_statement_s"] == 2 * 3600
    # hourly buckets (t, t+1h] from the first sample: the negative volume per hour
    series = [b["negative"] for b in m["series"]]
    assert series == [20, 30, 10, 4, 2]
    assert m["peak_negative"] == 30 and m["peak_at"] == (t0 + timedelta(hours=1)).isoformat()
    # contained when hourly negative <= 0.2 * 30 = 6: the bucket starting at t0 + 3 h
    assert m["time_to_containment_s"] == 3 * 3600
    effect = m["statement_effects"][0]
    # statement at t0+2h; 6 h before it: 58 - 8 (the baseline at opening) = 50; 6 h after: 74 - 58 = 16
    assert (effect["negative_before"], effect["negative_after"]) == (50, 16)
    assert (effect["total_before"], effect["total_after"]) == (52, 33)
    assert effect["complete"] is True
    md = svc.render_review(octx, inc.id, "md")
    html = svc.render_review(octx, inc.id, "html")
    assert "客服话术滞后 &lt;script&gt;" in md and "<script>" not in html and "&lt;script&gt;" in html
    assert "2h00m" in md
    with pytest.raises(PermissionDenied):
        svc.write_review(octx, inc.id, actor=PR, final=True)
    svc.write_review(octx, inc.id, actor=CEO, final=True)
    assert svc.incident_view(octx, inc.id)["status"] == "reviewed"
    with pytest.raises(Conflict):
        svc.write_review(octx, inc.id, actor=CEO, went_well="改")
    assert svc.verify_timeline(octx, inc.id).ok


def test_improvement_actions_tracked_to_completion(octx):
    inc = svc.open_incident(octx, actor=MONITOR, title="测试", level="IV", apply_playbook=False)
    for state in ("assessing", "responding", "recovering", "closed"):
        svc.transition(octx, inc.id, state, actor=CEO)
    svc.write_review(octx, inc.id, actor=CEO, actions=[("演练", IT_HEAD, 7.0)])
    doc = svc.review_document(octx, inc.id)
    action_id = doc.actions[0]["id"]
    octx.clock.advance(timedelta(days=7, minutes=5))
    overdue = svc.check_deadlines(octx)
    assert [(r.overdue.subject, r.recipients) for r in overdue] == [("action", (IT_HEAD,))]
    with pytest.raises(PermissionDenied):
        svc.complete_action(octx, action_id, actor=PR)
    assert svc.complete_action(octx, action_id, actor=IT_HEAD).status == "done"


def test_readiness_checks(octx):
    now = octx.clock.now()
    svc.add_resource(
        octx, actor=LOGISTICS, kind="subscription", name="媒体监测订阅A", expires_at=now - timedelta(days=1)
    )
    svc.add_resource(
        octx, actor=LOGISTICS, kind="media_contact", name="某报记者", contacts=[("phone", "n/a")]
    )
    svc.add_resource(octx, actor=LOGISTICS, kind="spokesperson", name="发言人", details={"person": PR_HEAD})
    with pytest.raises(PermissionDenied):
        svc.add_resource(octx, actor=PR, kind="template", name="模板")
    report = svc.run_readiness_checks(octx)
    codes = sorted((name, p.code) for _, name, p in report.problems)
    assert codes == [("媒体监测订阅A", "expired"), ("某报记者", "no_channel")]
    assert not report.ok
    again = svc.run_readiness_checks(octx)  # same problems, no new alerts
    assert again.alerts_raised == 0 and len(again.problems) == 2
    with octx.db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "resource_readiness")) == 2
        )
    # the schedule: not due again until readiness_interval_hours (24 h) have passed
    assert not svc.readiness_due(octx)
    assert svc.periodic(octx)["resources_checked"] == 0
    octx.clock.advance(timedelta(hours=24))
    assert svc.periodic(octx)["resources_checked"] == 3


def test_stand_ins_take_tasks_of_unavailable_people(octx):
    from yuqing.org.models import Person

    with octx.db.session() as s:
        pr_head = s.scalar(select(Person).where(Person.key == PR_HEAD))
        pr_head.unavailable_until = octx.clock.now() + timedelta(days=2)
    inc = open_ii(octx)
    tasks = {t["title"].split(" /")[0]: t for t in svc.incident_view(octx, inc.id)["tasks"]}
    assert tasks["起草对外声明"]["assignee"] == PR  # zhou.ting's stand-in
    monitor_task = next(t for t in tasks.values() if t["assignee"] == MONITOR_LEAD)
    with octx.db.session() as s:
        lead = s.scalar(select(Person).where(Person.key == MONITOR_LEAD))
        lead.unavailable_until = octx.clock.now() + timedelta(hours=5)
    done = svc.update_task(octx, monitor_task["id"], actor=MONITOR, status="done")  # lin.xiao stands in
    assert done.completed_by == MONITOR
