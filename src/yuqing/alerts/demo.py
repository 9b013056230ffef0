"""Demo step of the alerting stage: who was told about the scenario's events, when, through which
channel and why; one alert acknowledged through its signed link; one escalation.

Messages go to the built-in ``file`` channel (``./yuqing-demo-outbox/``), as in an air-gapped drill.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from yuqing.alerts import service
from yuqing.alerts.ack import make_token
from yuqing.alerts.dispatcher import Dispatcher
from yuqing.alerts.models import Alert, AlertRecipient, Delivery, EscalationRecord
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS


def _level(level: str | None) -> str:
    return "-" if level is None else f"[{LEVEL_COLOURS[level]}]{level} {LEVEL_NAMES_ZH[level]}[/]"


def _short_reason(reasons: list[str]) -> str:
    """ "规则 X（…）: 监测小组值班人员 / monitoring group on duty" -> "监测小组值班人员"."""
    if not reasons:
        return ""
    label = reasons[0].rsplit(": ", 1)[-1]
    return label.split(" / ", 1)[0][:30]


def _ensure_org(ctx: AppContext) -> None:
    from yuqing.org.service import has_org, load_org_file

    with ctx.db.session() as s:
        if not has_org(s):
            load_org_file(s, ctx.settings.incidents.org_file, now=ctx.clock.now())
        service.reroute_unrouted(ctx, s)  # alerts raised before the organisation was loaded


def _ensure_alerts(ctx: AppContext) -> None:
    """Alerts normally came in through the bus during the replay; raise them for graded events otherwise."""
    from yuqing.alerts.stage import snapshot_loader

    with ctx.db.session() as s:
        if s.scalar(select(func.count()).select_from(Alert)):
            return
        loader = snapshot_loader()
        if loader is None:
            return
        from yuqing.events.models import Event

        for event_id in s.scalars(select(Event.id).where(Event.level.is_not(None)).order_by(Event.id)):
            service.alert_for_event(ctx, s, loader(s, event_id))


def run(ctx: AppContext, console: Console) -> None:
    console.rule("[bold]预警 · 通知 · 确认 · 升级 / alerts: route, notify, acknowledge, escalate")
    _ensure_org(ctx)
    _ensure_alerts(ctx)
    tz = ZoneInfo(ctx.settings.timezone)
    dispatcher = Dispatcher(ctx)
    try:
        dispatcher.drain()
        with ctx.db.session() as s:
            alerts = list(s.scalars(select(Alert).order_by(Alert.id)))
            if not alerts:
                console.print("没有预警（无已定级事件）/ no alerts: no event was graded")
                return
            sent = s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent")) or 0
            by_level = {lv: sum(1 for a in alerts if a.level == lv) for lv in LEVELS}
            console.print(
                f"预警 {len(alerts)} 条（"
                + "，".join(f"{lv} 级 {n}" for lv, n in by_level.items() if n)
                + f"），已投递 {sent} 条消息到 [bold]{escape(ctx.settings.alerts.outbox_dir)}/[/] "
                f"/ {len(alerts)} alerts, {sent} messages written by the file channel"
            )
            table = Table(title="谁在何时因何收到通知 / who was told, when and why")
            for col in (
                "预警 alert",
                "等级 level",
                "接收人 person",
                "通道 channel",
                "首次送达 sent",
                "原因 why",
            ):
                table.add_column(col)
            shown = sorted(alerts, key=lambda a: (LEVELS.index(a.level) if a.level else 9, a.id))[:3]
            for a in shown:
                recips = {
                    r.id: r
                    for r in s.scalars(
                        select(AlertRecipient).where(
                            AlertRecipient.alert_id == a.id, AlertRecipient.person_key != service.UNROUTED
                        )
                    )
                }
                first_sent: dict[int, Delivery] = {}
                for d in s.scalars(
                    select(Delivery)
                    .where(Delivery.alert_id == a.id, Delivery.status == "sent")
                    .order_by(Delivery.sent_at, Delivery.id)
                ):
                    if d.recipient_id in recips:
                        first_sent.setdefault(d.recipient_id, d)
                for i, (rid, d) in enumerate(first_sent.items()):
                    r = recips[rid]
                    table.add_row(
                        f"#{a.id} {escape(a.title[:24])}" if i == 0 else "",
                        _level(a.level) if i == 0 else "",
                        escape(r.person_name),
                        d.channel,
                        d.sent_at.astimezone(tz).strftime("%m-%d %H:%M") if d.sent_at else "-",
                        escape(_short_reason(r.reasons)),
                    )
            console.print(table)
            target = shown[0]
            first = s.scalar(
                select(AlertRecipient)
                .where(AlertRecipient.alert_id == target.id, AlertRecipient.person_key != service.UNROUTED)
                .order_by(AlertRecipient.id)
                .limit(1)
            )
        # acknowledge the most serious alert through its signed link
        if first is not None:
            token = make_token(
                ctx.settings.secret_key.get_secret_value(),
                target.id,
                first.person_key,
                ctx.clock.now() + timedelta(hours=ctx.settings.alerts.ack_link_ttl_hours),
            )
            acked = service.acknowledge_token(ctx, token)
            took = (acked.acked_at - acked.raised_at) if acked.acked_at else None
            console.print(
                f"[green]已确认[/] #{acked.id}：{escape(first.person_name)} 通过签名链接确认 / "
                f"acknowledged via the signed link" + (f"（发出后 {took} / after {took}）" if took else "")
            )
        _show_escalation(ctx, console, dispatcher)
        with ctx.db.session() as s:
            stats = service.stats(s)
        line = "；".join(
            f"{x.level}: 通知 p50 {x.notify_p50_s or 0:.0f}s，确认 {x.acked}/{x.alerts}" for x in stats
        )
        console.print(f"时效 / timeliness — {line}")
    finally:
        dispatcher.close()


def _show_escalation(ctx: AppContext, console: Console, dispatcher: Dispatcher) -> None:
    fired = service.run_escalations(ctx)
    preview = False
    if fired == 0:
        # nothing overdue yet: preview the next step on a clock moved past the deadline
        with ctx.db.session() as s:
            nxt = s.scalar(select(func.min(Alert.escalation_next_at)).where(Alert.status == "open"))
        if nxt is None:
            console.print("无待升级预警 / nothing left to escalate")
            return
        from yuqing.core.context import AppContext as Ctx

        future = Ctx(settings=ctx.settings, db=ctx.db, clock=ManualClock(nxt), bus=ctx.bus, extras=ctx.extras)
        fired = service.run_escalations(future)
        Dispatcher(future).drain()
        preview = True
    else:
        dispatcher.drain()
    with ctx.db.session() as s:
        rec = s.scalar(select(EscalationRecord).order_by(EscalationRecord.id.desc()).limit(1))
        if rec is None:
            return
        a = s.get(Alert, rec.alert_id)
        title = escape(a.title[:30]) if a else ""
        when = rec.fired_at.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%m-%d %H:%M")
        console.print(
            f"[yellow]升级[/]{'（预演）' if preview else ''} #{rec.alert_id} {title}：{when} "
            f"{escape(rec.description)} → {', '.join(rec.recipients)}（共 {fired} 步 / {fired} steps fired）"
        )
