# ruff: noqa: E501  (scripted demo text is data)
"""Demo step: open an incident from the scenario's most serious event and run it to a review.

The sources step has replayed the story and left the clock at the present. This step winds the
:class:`ManualClock` back to the moment the event became serious, opens the incident there and
plays the plan's process forward with scripted actions and realistic timestamps — report, the
management group's assessment meeting, playbook tasks, a holding statement through legal and
compliance, the agreed line acknowledged by the department heads, a resource request fulfilled by
logistics, a report to the regulator, a full statement, recovery, closing by the management leader
and the review — recording the event's volume every hour on the way, then verifies the timeline.
"""

from __future__ import annotations

import bisect
import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from yuqing.core.clock import ManualClock, ensure_utc
from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVEL_NAMES_ZH, EventSnapshot, level_rank
from yuqing.incidents import review, service, workflow
from yuqing.incidents.models import Task
from yuqing.org import service as org

FEE_FACTS = (
    "分期手续费率已在办理页面及分期业务协议中列示，但首屏展示方式确有不够醒目之处",
    "代发工资等客户的小额账户管理费将按规定免收，已扣收的将予以退还",
)
FEE_ACTIONS = (
    "已立即优化分期办理页面的费率提示",
    "对有异议的客户逐一联系、妥善处理",
    "全面排查小额账户管理费扣收情况并退还应免收的费用",
)
GENERIC_FACTS = ("相关情况正在全面核实中",)
DEMO_BANK = "华信银行"
FEE_TITLE = "客户反映信用卡分期手续费及小额账户管理费问题"


class _Script:
    """Moves the demo clock forward (never back) and records the linked event's volume every hour."""

    def __init__(
        self, ctx: AppContext, history: list[tuple[datetime, bool]], snap: EventSnapshot | None
    ) -> None:
        self.ctx = ctx
        self.clock = ctx.clock if isinstance(ctx.clock, ManualClock) else None
        self.times = [t for t, _ in history]
        self.neg_cum: list[int] = []
        n = 0
        for _, neg in history:
            n += int(neg)
            self.neg_cum.append(n)
        self.snap = snap
        self.incident_id: int | None = None
        self.next_sample: datetime | None = None

    def counts(self, at: datetime) -> tuple[int, int]:
        i = bisect.bisect_right(self.times, at)
        return i, (self.neg_cum[i - 1] if i else 0)

    def snapshot_at(self, at: datetime) -> EventSnapshot | None:
        if self.snap is None:
            return None
        if not self.times:
            return self.snap
        total, neg = self.counts(at)
        return dataclasses.replace(
            self.snap,
            mention_count=total,
            negative_count=neg,
            negative_share=(neg / total) if total else 0.0,
            last_seen=min(self.snap.last_seen, at),
        )

    def go(self, at: datetime) -> datetime:
        if self.clock is None:
            return self.ctx.clock.now()
        while self.incident_id is not None and self.next_sample is not None and self.next_sample <= at:
            self.clock.set(max(self.clock.now(), self.next_sample))
            self.sample()
            self.next_sample += timedelta(hours=1)
        if at > self.clock.now():
            self.clock.set(at)
        return self.clock.now()

    def sample(self) -> None:
        snap = self.snapshot_at(self.ctx.clock.now())
        if snap is not None and self.incident_id is not None and self.times:
            service.record_volume(self.ctx, self.incident_id, snap)


def _history(ctx: AppContext, event_id: int) -> list[tuple[datetime, bool]]:
    """(published_at, negative) of the event's mentions, oldest first (empty when unavailable)."""
    try:
        from yuqing.events.models import EventMention
    except ModuleNotFoundError:
        return []
    with ctx.db.session() as session:
        rows = session.execute(
            select(EventMention.published_at, EventMention.negative)
            .where(EventMention.event_id == event_id)
            .order_by(EventMention.published_at)
        ).all()
    return [(ensure_utc(t), bool(n)) for t, n in rows]


def _top_event(ctx: AppContext) -> EventSnapshot | None:
    try:
        from yuqing.events.service import list_snapshots
    except ModuleNotFoundError:
        return None
    with ctx.db.session() as session:
        snaps = [s for s in list_snapshots(session, limit=500) if s.level]
    if not snaps:
        return None
    return max(snaps, key=lambda s: (level_rank(s.level or "IV"), s.mention_count, -s.event_id))


def _opening_time(history: list[tuple[datetime, bool]], snap: EventSnapshot, now: datetime) -> datetime:
    """When the story had clearly become serious: 15 % of its final volume (at least 10 mentions)."""
    if not history:
        return now - timedelta(hours=30)
    need = max(10, int(len(history) * 0.15))
    at = history[min(need, len(history)) - 1][0] + timedelta(minutes=15)
    return min(max(at, ensure_utc(snap.first_seen) + timedelta(minutes=30)), now - timedelta(hours=30))


def _fmt(at: datetime | None, tz: str) -> str:
    return "—" if at is None else at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def _pick(session_people: list[Any], fallback: str) -> str:
    return session_people[0].key if session_people else fallback


def run(ctx: AppContext, console: Console) -> None:
    console.rule("[bold]应急处置 / emergency response")
    tz = ctx.settings.timezone
    with ctx.db.session() as session:
        if not org.has_org(session):
            org.load_org_file(session, ctx.settings.incidents.org_file, now=ctx.clock.now())
            console.print("已载入组织架构模板 / organisation template loaded")
    real_now = ctx.clock.now()
    if ctx.settings.incidents.firm_name == "本行":  # the demo's fictional bank signs its statements
        ctx.settings.incidents.firm_name = DEMO_BANK

    snap = _top_event(ctx)
    history = _history(ctx, snap.event_id) if snap else []
    if snap is None:
        console.print(
            "[yellow]没有已定级的事件，改为手工开启一个演示事件 / no graded event: opening a demonstration "
            "incident by hand[/]"
        )
    t0 = _opening_time(history, snap, real_now) if snap else real_now - timedelta(hours=30)
    script = _Script(ctx, history, snap)
    if script.clock is not None:
        script.clock.set(t0)
    now = ctx.clock.now()

    with ctx.db.session() as session:
        monitor = _pick(org.on_duty(session, "monitoring", now), "lin.xiao")
        monitor_lead = _pick(org.members(session, "monitoring", ("leader",)), "zheng.hao")
        ceo = _pick(org.members(session, "management", ("leader",)), "chen.jianguo")
        pr_lead = _pick(org.members(session, "response", ("leader",)), "zhou.ting")
        pr = _pick([p for p in org.members(session, "response", ("member",)) if p.key != pr_lead], pr_lead)
        logistics = _pick(org.members(session, "logistics", ("leader",)), "feng.tao")
        heads = service.department_heads(session)
        chain = [service.select_people(session, s.approvers) for s in ctx.settings.incidents.approval_chain]
        approvers = [people[0].key if people else "" for people in chain]
        mgmt = [p.key for p in org.members(session, "management")]

    # --- resources and readiness -------------------------------------------------------------------
    _resources(ctx, console, logistics, pr_lead)

    # --- open ---------------------------------------------------------------------------------------
    fee_story = bool(snap and any(k in snap.title for k in ("手续费", "分期", "管理费")))
    start_snap = script.snapshot_at(now)
    inc = service.open_incident(
        ctx,
        actor=monitor,
        snapshots=[start_snap] if start_snap else [],
        title=FEE_TITLE if fee_story or not start_snap else None,
        level=None if start_snap else "II",
        summary="客户投诉信用卡分期手续费未充分告知、小额账户管理费被扣收，舆情在微博与论坛快速扩散。",
        category="customer_complaint",
        facts=FEE_FACTS if fee_story or not snap else GENERIC_FACTS,
        actions=FEE_ACTIONS if fee_story or not snap else (),
    )
    script.incident_id = inc.id
    script.next_sample = now + timedelta(hours=1)
    lvl = inc.level
    console.print(
        f"[bold]#{inc.id} [{lvl} {LEVEL_NAMES_ZH[lvl]}] {inc.title}[/]\n"
        f"  开启 / opened {_fmt(now, tz)} by {monitor}（监测值班 / on duty）"
        + (f"；事件 / event #{snap.event_id}, 首条 / first seen {_fmt(snap.first_seen, tz)}" if snap else ""),
        highlight=False,
    )
    view = service.incident_view(ctx, inc.id)
    dl = Table(title="处置时限 / deadlines", show_lines=False)
    for col in ("时限 / deadline", "到期 / due"):
        dl.add_column(col)
    for d in view["deadlines"]:
        dl.add_row(d["label"], _fmt(d["due_at"], tz))
    console.print(dl)
    tasks = Table(title=f"预案任务 / playbook tasks ({view['playbook']})")
    for col in ("任务 / task", "负责人 / owner", "到期 / due"):
        tasks.add_column(col)
    for t in view["tasks"]:
        tasks.add_row(t["title"], t["assignee"] or "—", _fmt(t["due_at"], tz))
    console.print(tasks)

    # --- report, assessment meeting, response -------------------------------------------------------
    script.go(t0 + timedelta(minutes=20))
    service.transition(ctx, inc.id, "assessing", actor=monitor_lead, reason="监测组报告应急管理小组")
    script.go(t0 + timedelta(minutes=45))
    service.decide(
        ctx,
        inc.id,
        actor=ceo,
        participants=mgmt,
        assessment=f"客户权益类投诉经大V转发后快速扩散，负面占比高，定为{LEVEL_NAMES_ZH[lvl]}（{lvl}级）。",
        strategy="主动、及时、真诚：一小时内发布简要声明，核实后发布完整说明并退费；统一口径，联系投诉客户。",
        instructions=[
            "客服中心逐一联系投诉客户",
            "法律事务部与合规部审核所有对外声明",
            "品牌与公关部起草并发布简要声明",
            "合规部按要求向监管报告",
        ],
    )
    script.go(t0 + timedelta(minutes=50))
    service.transition(ctx, inc.id, "responding", actor=ceo, reason="管理小组研判后启动响应")
    console.print(
        f"研判会 / assessment meeting {_fmt(t0 + timedelta(minutes=45), tz)}: {len(mgmt)} 人参会，定为 {lvl} 级，"
        "指令已下达应急响应小组 / decision recorded, response group instructed",
        highlight=False,
    )

    # --- holding statement ----------------------------------------------------------------------------
    script.go(t0 + timedelta(minutes=55))
    st = service.draft_statement(ctx, inc.id, actor=pr, kind="holding")
    script.go(t0 + timedelta(minutes=70))
    service.approve_statement(ctx, st.id, actor=approvers[0], comment="法律审核通过")
    script.go(t0 + timedelta(minutes=80))
    service.approve_statement(ctx, st.id, actor=approvers[1] if len(approvers) > 1 else approvers[0])
    script.go(t0 + timedelta(minutes=88))
    service.publish_statement(
        ctx, st.id, actor=pr_lead, channel="官方微博", link="https://weibo.example/huaxin/1"
    )
    console.print(
        f"\n[bold]简要声明 / holding statement[/]（{' → '.join(approvers)} 审批，{_fmt(ctx.clock.now(), tz)} 发布于官方微博）",
        highlight=False,
    )
    console.print(service.statement_body(ctx, st.id), highlight=False, markup=False)

    # --- agreed line, coordination, resources --------------------------------------------------------------
    script.go(t0 + timedelta(minutes=95))
    service.set_agreed_line(
        ctx,
        inc.id,
        actor=pr_lead,
        text="以已发布声明为准：承认页面提示不够醒目，已优化；应免收的管理费全额退还；投诉客户逐一联系。不评论个案金额。",
    )
    service.log_coordination(
        ctx,
        inc.id,
        actor=pr_lead,
        channel="wecom",
        audience="各部门负责人",
        message="统一口径已下发，请确认并传达到一线。",
    )
    for i, head in enumerate(heads):
        script.go(t0 + timedelta(minutes=100 + 7 * i))
        service.acknowledge_line(ctx, inc.id, actor=head)
    script.go(t0 + timedelta(minutes=105))
    req = service.request_resource(
        ctx,
        inc.id,
        actor=pr_lead,
        item="舆情监测加急数据服务（7×24 小时）",
        quantity=1,
        reason="峰值期间需要分钟级更新",
    )
    script.go(t0 + timedelta(minutes=135))
    service.fulfil_request(ctx, req.id, actor=logistics, note="已开通 72 小时加急服务")
    status = service.line_status(ctx, inc.id)
    console.print(
        f"统一口径 / agreed line: {len(heads)} 位部门负责人已全部确认 / all department heads acknowledged"
        if status and status.complete
        else "统一口径待确认 / agreed line pending",
        highlight=False,
    )
    console.print(
        "物资申请 / resource request: 舆情监测加急数据服务 → 后勤保障组已开通 / fulfilled by logistics"
    )

    # --- tasks done, one late: the overdue check alerts its owner ---------------------------------------------
    with ctx.db.session() as session:
        task_rows = {
            t.key: (t.id, t.assignee) for t in session.scalars(select(Task).where(Task.incident_id == inc.id))
        }
    schedule = [
        ("statement_draft", 52),
        ("contact_complainant", 110),
        ("cs_script", 150),
        ("legal_review", 200),
    ]
    for key, minutes in schedule:
        if key in task_rows:
            tid, who = task_rows[key]
            script.go(t0 + timedelta(minutes=minutes))
            service.update_task(ctx, tid, actor=who or pr_lead, status="done", comment="已完成 / done")
    script.go(t0 + timedelta(hours=3, minutes=30))
    overdue = service.check_deadlines(ctx)
    for r in overdue:
        console.print(
            f"[red]逾期提醒 / overdue alert[/] {r.overdue.subject} {r.overdue.kind} → {', '.join(r.recipients)}",
            highlight=False,
        )
    if "monitor_spread" in task_rows:
        tid, who = task_rows["monitor_spread"]
        script.go(t0 + timedelta(hours=3, minutes=45))
        service.update_task(
            ctx, tid, actor=who or monitor_lead, status="done", comment="已建立每小时监测简报"
        )

    # --- regulator report and full statement ------------------------------------------------------------------
    script.go(t0 + timedelta(hours=5))
    reg = service.draft_statement(ctx, inc.id, actor=pr, kind="regulator_report")
    script.go(t0 + timedelta(hours=6))
    service.approve_statement(ctx, reg.id, actor=approvers[0])
    service.approve_statement(ctx, reg.id, actor=approvers[1] if len(approvers) > 1 else approvers[0])
    service.publish_statement(ctx, reg.id, actor=pr_lead, channel="监管报送系统")
    if "regulator_report" in task_rows:
        tid, who = task_rows["regulator_report"]
        service.update_task(ctx, tid, actor=who or pr_lead, status="done")
    script.go(t0 + timedelta(hours=18))
    full = service.draft_statement(ctx, inc.id, actor=pr, kind="full")
    script.go(t0 + timedelta(hours=19))
    service.approve_statement(ctx, full.id, actor=approvers[0])
    service.approve_statement(ctx, full.id, actor=approvers[1] if len(approvers) > 1 else approvers[0])
    script.go(t0 + timedelta(hours=20))
    service.publish_statement(
        ctx, full.id, actor=pr_lead, channel="官网及官方微博", link="https://huaxin.example/notice/1"
    )
    console.print(
        f"完整声明与监管报告已发布 / full statement and regulator report published ({_fmt(ctx.clock.now(), tz)})"
    )

    # --- recovery, closing, review ---------------------------------------------------------------------------------
    end = max(real_now - timedelta(minutes=30), t0 + timedelta(hours=26))
    script.go(t0 + timedelta(hours=24))
    service.transition(ctx, inc.id, "recovering", actor=pr_lead, reason="负面声量明显回落")
    script.go(end)
    service.transition(ctx, inc.id, "closed", actor=ceo, reason="舆情平息，退费与整改按计划推进")
    script.go(end + timedelta(minutes=20))
    service.write_review(
        ctx,
        inc.id,
        actor=ceo,
        went_well="一小时内完成报告与研判；简要声明经法务、合规审核后在时限内发布；各部门口径一致。",
        went_badly="持续监测任务逾期；分期页面的费率提示问题早有客户反映，未能在投诉平台阶段提前处置。",
        actions=[
            ("全面检查产品页面的费用披露（首屏展示）", "liu.yang", 30.0),
            ("投诉平台新增“收费”关键词的提前预警规则", "zheng.hao", 14.0),
            ("修订客服应答话术库", "zhao.min", 21.0),
        ],
        final=True,
    )
    doc = service.review_document(ctx, inc.id)
    _print_review(console, doc, tz)
    check = service.verify_timeline(ctx, inc.id)
    console.print(check.message(), style="green" if check.ok else "red", highlight=False)
    console.print(
        f"完整报告 / full review: yuqing incidents review {inc.id} --format html -o review.html",
        highlight=False,
    )
    if script.clock is not None and script.clock.now() < real_now:
        script.clock.set(real_now)


def _resources(ctx: AppContext, console: Console, logistics: str, spokesperson: str) -> None:
    now = ctx.clock.now()
    items: list[dict[str, Any]] = [
        {"kind": "subscription", "name": "全网媒体监测订阅（年度）", "expires_at": now + timedelta(days=200)},
        {"kind": "subscription", "name": "境外媒体监测订阅", "expires_at": now - timedelta(days=3)},
        {"kind": "social_tool", "name": "社交媒体分析工具", "expires_at": now + timedelta(days=10)},
        {"kind": "equipment", "name": "应急卫星电话", "last_tested_at": now - timedelta(days=20)},
        {"kind": "spokesperson", "name": "新闻发言人", "details": {"person": spokesperson}},
        {"kind": "media_contact", "name": "财经日参 记者", "contacts": [("phone", "+86 21 5555 0101")]},
        {"kind": "counsel", "name": "外部律师事务所", "contacts": [("email", "")]},
        {"kind": "template", "name": "声明模板库"},
    ]
    from yuqing.errors import Conflict

    for item in items:
        try:
            service.add_resource(ctx, actor=logistics, **item)
        except Conflict:
            continue
    report = service.run_readiness_checks(ctx)
    console.print(
        f"物资清单就绪检查 / readiness: {report.checked} 项，问题 {len(report.problems)} 项，告警 {report.alerts_raised} 条",
        highlight=False,
    )
    for _rid, _name, p in report.problems:
        console.print(
            f"  [{'red' if p.severity == 'error' else 'yellow'}]{p.code}[/] {p.message}", highlight=False
        )


def _print_review(console: Console, doc: review.ReviewDocument, tz: str) -> None:
    m = doc.metrics
    table = Table(title=f"总结评估 / review #{doc.incident_id}（{workflow.state_label(doc.status)}）")
    table.add_column("指标 / metric")
    table.add_column("结果 / value")
    table.add_row("发现用时 / time to detect", review.fmt_duration(m.time_to_detect_s))
    table.add_row("报告用时 / time to report", review.fmt_duration(m.time_to_report_s))
    table.add_row("首份声明用时 / time to first statement", review.fmt_duration(m.time_to_first_statement_s))
    table.add_row("控制用时 / time to containment", review.fmt_duration(m.time_to_containment_s))
    table.add_row("负面峰值 / negative peak (per hour)", f"{m.peak_negative} @ {_fmt(m.peak_at, tz)}")
    for e in m.statement_effects:
        table.add_row(
            f"声明效果 / effect: {e.title[:24]}",
            f"负面 {e.negative_before}→{e.negative_after}，占比 {review.fmt_share(e.share_before)}→"
            f"{review.fmt_share(e.share_after)}",
        )
    for a in doc.actions:
        table.add_row(f"改进 / action: {a['title']}", f"{a['owner']}，{_fmt(a['due_at'], tz)} 前")
    console.print(table)
