"""Scheduled briefs: a due-check driven by the injectable clock, idempotent per period, sent by the
alerting channels (email with the document attached; other channels and group robots get a summary
and a link).

A daily brief covers the previous local day and is due at ``send_hour`` (08:00); a weekly brief
covers the previous Monday-Sunday and is due Monday at ``send_hour``; a monthly brief covers the
previous month and is due on the 1st. Only the latest due period of each kind is considered, so a
scheduler that was down catches up once, not with a flood. Each (kind, period, scope) is recorded in
``report_sent_briefs``; deliveries that succeeded are never repeated, failed ones are retried on the
next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from yuqing.core.context import AppContext
from yuqing.errors import YuqingError
from yuqing.reports.document import Document
from yuqing.reports.models import SentBrief
from yuqing.reports.output import parse_formats, write_documents
from yuqing.reports.service import PERIOD_ZH, fmt_pct, period_of

log = logging.getLogger(__name__)
DONE = ("ok", "skip")  # delivery outcomes that are never retried


# --- the due-check (pure) ----------------------------------------------------------------------------


def latest_due(kind: str, now_local: datetime, send_hour: int) -> date:
    """First local day of the latest period of ``kind`` whose send moment is at or before ``now_local``."""
    today = now_local.date()
    before = now_local.hour < send_hour
    if kind == "daily":
        return today - timedelta(days=2 if before else 1)
    if kind == "weekly":
        monday = today - timedelta(days=today.weekday())
        if monday == today and before:
            monday -= timedelta(days=7)
        return monday - timedelta(days=7)
    if kind == "monthly":
        first = today.replace(day=1)
        if first == today and before:
            first = (first - timedelta(days=1)).replace(day=1)
        return (first - timedelta(days=1)).replace(day=1)
    raise ValueError(kind)


def send_moment(kind: str, first_day: date, send_hour: int, tz: str) -> datetime:
    """When the brief of the period starting ``first_day`` becomes due (UTC)."""
    p = period_of(kind, first_day, tz)
    end_local = p.end.astimezone(ZoneInfo(tz))
    return end_local.replace(hour=send_hour).astimezone(ZoneInfo("UTC"))


def due_briefs(
    now: datetime, tz: str, send_hour: int, kinds: Sequence[str], scopes: Sequence[str | None]
) -> list[tuple[str, date, str | None]]:
    """Every (kind, first day, scope) that should have been sent by ``now``."""
    now_local = now.astimezone(ZoneInfo(tz))
    return [(k, latest_due(k, now_local, send_hour), s) for k in kinds for s in scopes]


def brief_key(kind: str, first_day: date, scope: str | None) -> str:
    return f"{kind}:{first_day.isoformat()}:{scope or '*'}"


# --- delivery ------------------------------------------------------------------------------------------


@dataclass
class ScheduleOutcome:
    key: str
    status: str  # sent | partial | failed | skipped
    paths: list[str] = field(default_factory=list)
    deliveries: dict[str, str] = field(default_factory=dict)


def _link(ctx: AppContext, path: Path) -> str:
    base = ctx.settings.reports.link_base
    out_dir = Path(ctx.settings.reports.out_dir).resolve()
    if base:
        try:
            rel = path.resolve().relative_to(out_dir)
        except ValueError:
            rel = Path(path.name)
        return base.rstrip("/") + "/" + rel.as_posix()
    return path.resolve().as_uri()


def brief_message(ctx: AppContext, doc: Document, links: Sequence[str]) -> Any:
    """The summary message (subject, text, HTML, Markdown) sent with or about a brief."""
    from html import escape

    from yuqing.alerts.messages import RenderedMessage

    lead = doc.summary.split("\n\n")[0] if doc.summary else ""
    subject = f"【{doc.organisation}】{doc.title}（{doc.subtitle.split(' · ')[0]}）"
    text = "\n".join([doc.title, "", lead, "", *[f"下载 / download: {u}" for u in links]])
    html = (
        f"<h3>{escape(doc.title)}</h3><p>{escape(lead)}</p>"
        + "".join(f'<p><a href="{escape(u, quote=True)}">{escape(u)}</a></p>' for u in links)
        + "<p>完整报告见附件 / full brief attached or linked.</p>"
    )
    md = f"### {doc.title}\n\n{lead}\n\n" + "\n".join(f"- [{u.rsplit('/', 1)[-1]}]({u})" for u in links)
    return RenderedMessage(subject=subject, text=text, html=html, markdown=md, payload={"brief": doc.title})


def _recipients(ctx: AppContext) -> list[Any]:
    from yuqing.org import service as org
    from yuqing.org.models import Person

    out: dict[str, Any] = {}
    with ctx.db.session() as session:
        for sel in ctx.settings.reports.recipients:
            kind, _, rest = sel.partition(":")
            if kind == "group":
                people = org.members(session, rest)
            elif kind == "person":
                people = list(session.scalars(select(Person).where(Person.key == rest)))
            else:
                raise YuqingError(f"无效的接收人 / invalid recipient selector: {sel} (group:KEY, person:KEY)")
            for p in people:
                if p.active:
                    out.setdefault(p.key, p)
    return list(out.values())


def deliver(
    ctx: AppContext, row_key: str, doc: Document, paths: Sequence[Path], done: dict[str, str]
) -> dict[str, str]:
    """Send to every recipient (first working preferred channel) and every robot; skips what is done."""
    from yuqing.alerts.notifiers.base import Contact, load_channels
    from yuqing.alerts.notifiers.email import EmailNotifier
    from yuqing.org.service import contact_points

    cfg = ctx.settings.reports
    alerts = ctx.settings.alerts
    results = dict(done)
    wanted = set(cfg.channels) | set(cfg.robot_channels)
    if not wanted:
        return results
    channels = {
        n: c
        for n, c in load_channels(
            alerts.channels_file, alerts.channels, timeout=alerts.send_timeout_s
        ).items()
        if n in wanted
    }
    links = [_link(ctx, p) for p in paths]
    message = brief_message(ctx, doc, links)
    attach = next((p for p in paths if p.suffix == f".{cfg.attach_format}"), paths[0] if paths else None)
    try:
        for person in _recipients(ctx):
            slot = f"person:{person.key}"
            if results.get(slot, "").startswith(DONE):
                continue
            errors = []
            for channel, address in contact_points(person):
                notifier = channels.get(channel)
                if notifier is None or channel not in cfg.channels:
                    continue
                to = Contact(person.key, person.name, address)
                key = f"brief:{row_key}:{channel}:{person.key}"
                try:
                    if isinstance(notifier, EmailNotifier) and attach is not None:
                        notifier.send(replace(message, attachments=(attach,)), to, key)
                    else:
                        notifier.send(message, to, key)
                except YuqingError as exc:
                    errors.append(f"{channel}: {exc.message[:200]}")
                    continue
                results[slot] = f"ok:{channel}"
                break
            else:
                # no configured channel reaches this person: nothing to retry until the org data changes
                results[slot] = ("error: " + "; ".join(errors)) if errors else "skip: no usable channel"
        for name in cfg.robot_channels:
            slot = f"robot:{name}"
            notifier = channels.get(name)
            if results.get(slot, "").startswith(DONE):
                continue
            if notifier is None:
                results[slot] = "error: channel not configured"
                continue
            try:
                notifier.send(message, Contact("robot", name, None), f"brief:{row_key}:{name}")
                results[slot] = "ok"
            except YuqingError as exc:
                results[slot] = f"error: {exc.message[:200]}"
    finally:
        for n in channels.values():
            n.close()
    return results


def run_once(ctx: AppContext) -> list[ScheduleOutcome]:
    """One due-check: build and send every brief due now that has not been sent; idempotent."""
    from yuqing.reports.briefs import make_brief

    cfg = ctx.settings.reports
    now = ctx.clock.now()
    scopes: list[str | None] = [None, *cfg.schedule_targets]
    formats = parse_formats(cfg.formats)
    outcomes = []
    for kind, first_day, scope in due_briefs(
        now, ctx.settings.timezone, cfg.send_hour, cfg.schedule_periods, scopes
    ):
        key = brief_key(kind, first_day, scope)
        with ctx.db.session() as session:
            row = session.scalar(select(SentBrief).where(SentBrief.key == key))
            if row is not None and row.status == "sent":
                continue
            if row is None:
                try:
                    with session.begin_nested():
                        row = SentBrief(
                            key=key,
                            period=kind,
                            first_day=first_day.isoformat(),
                            target=scope,
                            status="built",
                            paths=[],
                            deliveries={},
                            created_at=now,
                        )
                        session.add(row)
                except IntegrityError:
                    continue  # another scheduler claimed it
            done = dict(row.deliveries or {})
        doc = make_brief(ctx, kind, first_day, scope)
        out_dir = Path(cfg.out_dir) / kind
        paths = write_documents(ctx, doc, formats, out_dir)
        try:
            results = deliver(ctx, key, doc, paths, done)
            error = None
        except YuqingError as exc:  # configuration problems: record and go on with the next brief
            results, error = done, exc.message
        failed = [k for k, v in results.items() if not v.startswith(DONE)]
        status = (
            "failed" if error or (failed and len(failed) == len(results)) else "partial" if failed else "sent"
        )
        with ctx.db.session() as session:
            stored = session.scalar(select(SentBrief).where(SentBrief.key == key))
            assert stored is not None
            stored.paths = [str(p) for p in paths]
            stored.deliveries = results
            stored.status = status
            stored.error = error
            stored.sent_at = ctx.clock.now() if status == "sent" else None
        log.info("brief %s %s", key, status)
        outcomes.append(ScheduleOutcome(key, status, [str(p) for p in paths], results))
    return outcomes


def describe(outcome: ScheduleOutcome) -> str:
    kind = outcome.key.split(":", 1)[0]
    ok = sum(1 for v in outcome.deliveries.values() if v.startswith("ok"))
    n = len(outcome.deliveries)
    return f"{PERIOD_ZH.get(kind, kind)} {outcome.key}: {outcome.status} ({ok}/{n} 已送达 / delivered)"


__all__ = ["brief_key", "due_briefs", "fmt_pct", "latest_due", "run_once", "send_moment"]
