"""``yuqing alerts …``: list, show, acknowledge, explain routing, test channels, dispatch, stats."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from yuqing.alerts import service
from yuqing.alerts.models import Alert, AlertRecipient, ChannelHealth, Delivery, EscalationRecord
from yuqing.alerts.routing import AlertFacts
from yuqing.core.cli import app, console, get_context
from yuqing.core.context import AppContext
from yuqing.errors import NotFound, ValidationError

alerts_app = typer.Typer(help="预警 / alerts: routing, notification, acknowledgement", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


def _local(ctx: AppContext, dt: Any) -> str:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%m-%d %H:%M:%S") if dt else "-"


@alerts_app.command("list")
def list_alerts(
    status: str = typer.Option(None, help="open | acked | resolved"),
    limit: int = typer.Option(30, min=1, max=1000),
) -> None:
    """最近的预警 / recent alerts."""
    ctx = get_context()
    table = Table(
        "ID",
        "等级 Level",
        "类型 Kind",
        "标题 Title",
        "状态 Status",
        "发出 Raised",
        "通知 Notified",
        "确认 Ack",
    )
    with ctx.db.session() as s:
        q = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if status:
            q = q.where(Alert.status == status)
        for a in s.scalars(q):
            table.add_row(
                str(a.id),
                a.level or "-",
                a.kind,
                a.title[:50],
                a.status,
                _local(ctx, a.raised_at),
                _local(ctx, a.first_notified_at),
                f"{a.acked_by or ''} {_local(ctx, a.acked_at) if a.acked_at else ''}",
            )
    console.print(table)


@alerts_app.command("show")
def show(alert_id: int = typer.Argument(...)) -> None:
    """一条预警的接收人、原因、投递与升级记录 / one alert: who, why, deliveries, escalation."""
    ctx = get_context()
    with ctx.db.session() as s:
        a = service.get_alert(s, alert_id)
        console.print(
            f"[bold]#{a.id} [{a.level or '-'}] {a.title}[/]  ({a.kind}, {a.status})", highlight=False
        )
        console.print(f"原因 / why: {'; '.join(a.reasons)}", highlight=False)
        console.print(
            f"发出 raised {_local(ctx, a.raised_at)} · "
            f"首次通知 notified {_local(ctx, a.first_notified_at)} · "
            f"确认 acked {_local(ctx, a.acked_at)} {a.acked_by or ''} {a.ack_via or ''}",
            highlight=False,
        )
        t = Table("接收人 Recipient", "来源 Source", "原因 Why")
        for r in s.scalars(
            select(AlertRecipient).where(AlertRecipient.alert_id == a.id).order_by(AlertRecipient.id)
        ):
            t.add_row(f"{r.person_name} ({r.person_key})", r.source, "\n".join(r.reasons))
        console.print(t)
        d = Table(
            "ID",
            "人 Person",
            "通道 Channel",
            "用途 Purpose",
            "状态 Status",
            "次数 Tries",
            "发送 Sent",
            "错误 Error",
        )
        for x in s.scalars(select(Delivery).where(Delivery.alert_id == a.id).order_by(Delivery.id)):
            d.add_row(
                str(x.id),
                x.person_key,
                x.channel,
                x.purpose,
                x.status,
                str(x.attempts),
                _local(ctx, x.sent_at),
                (x.last_error or "")[:60],
            )
        console.print(d)
        steps = list(s.scalars(select(EscalationRecord).where(EscalationRecord.alert_id == a.id)))
        for e in steps:
            console.print(
                f"升级 escalation {_local(ctx, e.fired_at)}: {e.description} -> {', '.join(e.recipients)}"
            )


@alerts_app.command("ack")
def ack(
    alert_id: int = typer.Argument(...),
    by: str = typer.Option("cli", "--by", help="Who acknowledges (person key or name)"),
) -> None:
    """确认预警 / acknowledge an alert (stops its escalation)."""
    ctx = get_context()
    a = service.acknowledge(ctx, alert_id, by=by, via="cli")
    console.print(f"已确认 / acknowledged #{a.id} by {a.acked_by} at {_local(ctx, a.acked_at)}")


@alerts_app.command("route")
def route_cmd(
    event: int = typer.Option(None, "--event", help="Event id: who would be told now, and why"),
    level: str | None = typer.Option(None, help="Without --event: the level to try"),
    kind: str = typer.Option("event", help="Without --event: the alert kind"),
) -> None:
    """预演路由（不发送）/ explain who would be told and why, without sending."""
    from yuqing.alerts.stage import snapshot_loader

    ctx = get_context()
    with ctx.db.session() as s:
        target_ids: tuple[int, ...] = ()
        risk_type = None
        if event is not None:
            loader = snapshot_loader()
            if loader is None:
                raise ValidationError("事件模块不可用 / the events stage is not installed")
            snap = loader(s, event)
            level, kind, target_ids, risk_type = snap.level, "event", snap.target_ids, snap.risk_type
            console.print(f"事件 / event #{event}: [{snap.level or '-'}] {snap.title}", highlight=False)
        facts = AlertFacts(
            kind=kind, level=level, at=ctx.clock.now(), target_ids=target_ids, risk_type=risk_type
        )
        decisions = service.route_alert(ctx, s, facts)
        from yuqing.org.models import Person

        people = {
            p.key: p for p in s.scalars(select(Person).where(Person.key.in_([d.person for d in decisions])))
        }
        t = Table("人员 Person", "通道 Channels", "原因 Why")
        for d in decisions:
            p = people.get(d.person)
            chans = ", ".join(c for c, _ in service.contact_list(ctx, p, d.person))
            t.add_row(f"{p.name if p else d.person} ({d.person})", chans, "\n".join(d.reasons))
        console.print(t)
        if not decisions:
            console.print("无人匹配 / nobody matches the rules")


@alerts_app.command("test-channel")
def test_channel(
    name: str = typer.Argument(..., help="Channel name from the configuration"),
    to: str = typer.Option(None, "--to", help="Person key to address (default: a test address)"),
    address: str = typer.Option(None, "--address", help="Override the address"),
) -> None:
    """向一个通道发送测试消息 / send a test message through one channel."""
    from yuqing.alerts.messages import AlertView, render
    from yuqing.alerts.notifiers.base import Contact

    ctx = get_context()
    channels = service.get_channels(ctx)
    if name not in channels:
        raise NotFound(
            f"通道未配置 / channel not configured: {name} (configured: {', '.join(sorted(channels))})"
        )
    contact: Contact = Contact(to or "test", to or "测试 / test", address)
    if to and address is None:
        with ctx.db.session() as s:
            from yuqing.org.service import get_person

            p = get_person(s, to)
            contact = Contact(p.key, p.name, dict(service.contact_list(ctx, p, p.key)).get(name))
    now = ctx.clock.now()
    view = AlertView(
        alert_id=0,
        kind="test",
        title="通道测试 / channel test",
        level="IV",
        reasons=("这是一条测试消息 / this is a test message",),
        raised_at=now,
    )
    key = f"yq-test/{name}/{now.timestamp():.0f}"
    channels[name].send(render(view, ctx.settings.timezone), contact, key)
    console.print(f"已发送 / sent test message through {name} (key {key})")


@alerts_app.command("dispatch")
def dispatch(once: bool = typer.Option(False, "--once", help="Send what is due, then exit")) -> None:
    """投递循环 / run the delivery dispatcher (and the escalation tick)."""
    from yuqing.alerts.dispatcher import Dispatcher

    ctx = get_context()
    d = Dispatcher(ctx)
    try:
        if once:
            fired = service.run_escalations(ctx)
            r = d.drain()
            console.print(
                f"已发送 sent {r.sent} · 重试 retried {r.retried} · 改道 failed over {r.failed_over} · "
                f"失败 failed {r.failed} · 升级 escalations {fired}"
            )
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        console.print("投递中 / dispatching (Ctrl-C to stop)")
        d.run_forever(stop)
    finally:
        d.close()


@alerts_app.command("escalate")
def escalate() -> None:
    """执行到期的升级 / fire the escalation steps that are due."""
    ctx = get_context()
    console.print(f"升级 / escalation steps fired: {service.run_escalations(ctx)}")


@alerts_app.command("stats")
def stats(days: int = typer.Option(30, min=1, help="Look back this many days")) -> None:
    """通知与确认耗时（按等级）/ time to notify and to acknowledge, per level."""
    ctx = get_context()

    def fmt(v: float | None) -> str:
        return "-" if v is None else (f"{v:.1f}s" if v < 120 else f"{v / 60:.1f}min")

    t = Table(
        "等级 Level",
        "预警 Alerts",
        "已通知 Notified",
        "通知 p50",
        "通知 p95",
        "已确认 Acked",
        "确认 p50",
        "确认 p95",
    )
    with ctx.db.session() as s:
        for r in service.stats(s, since=ctx.clock.now() - timedelta(days=days)):
            t.add_row(
                r.level,
                str(r.alerts),
                str(r.notified),
                fmt(r.notify_p50_s),
                fmt(r.notify_p95_s),
                str(r.acked),
                fmt(r.ack_p50_s),
                fmt(r.ack_p95_s),
            )
        console.print(t)
        h = Table(
            "通道 Channel",
            "状态 Status",
            "成功 Sent",
            "失败 Failed",
            "连续失败 In a row",
            "最近错误 Last error",
        )
        for c in s.scalars(select(ChannelHealth).order_by(ChannelHealth.channel)):
            h.add_row(
                c.channel,
                c.status,
                str(c.sent_total),
                str(c.failed_total),
                str(c.consecutive_failures),
                (c.last_error or "")[:60],
            )
        console.print(h)
