"""Demo step: a daily brief, the top event's report and the incident review into ./yuqing-demo-reports/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from sqlalchemy import func, select

from yuqing.core.context import AppContext
from yuqing.errors import ConfigError
from yuqing.reports.output import write_documents

OUT_DIR = Path("yuqing-demo-reports")


def _top_event_id(ctx: AppContext) -> int | None:
    from yuqing.core.contracts import level_rank
    from yuqing.events.models import Event

    with ctx.db.session() as s:
        rows = s.execute(
            select(Event.id, Event.level, Event.mention_count).where(Event.status != "merged")
        ).all()
    if not rows:
        return None
    return max(rows, key=lambda r: (level_rank(r.level) if r.level else 0, r.mention_count, -r.id)).id


def _latest_incident_id(ctx: AppContext) -> int | None:
    from yuqing.incidents.models import Incident

    with ctx.db.session() as s:
        return s.scalar(select(func.max(Incident.id)))


def run(ctx: AppContext, console: Console) -> None:
    from yuqing.reports.briefs import make_brief
    from yuqing.reports.event_report import make_event_report
    from yuqing.reports.review_report import make_review_report

    console.rule("[bold]简报与报告 / briefs and reports")
    tz = ZoneInfo(ctx.settings.timezone)
    yesterday = (ctx.clock.now().astimezone(tz) - timedelta(days=1)).date()
    formats = ["html", "docx", "pdf"]
    try:
        doc = make_brief(ctx, "daily", yesterday)
        paths = write_documents(ctx, doc, formats, OUT_DIR)
    except ConfigError as exc:  # no CJK font: say so and go on
        console.print(f"[red]{escape(exc.message)}[/]")
        return
    lead = doc.summary.split("\n\n")[0]
    console.print(f"[bold]{escape(doc.title)}[/]（{yesterday}）", highlight=False)
    console.print(escape(lead), highlight=False)
    for p in paths:
        console.print(f"  {p}", highlight=False)
    event_id = _top_event_id(ctx)
    if event_id is not None:
        ev_doc = make_event_report(ctx, event_id)
        console.print(f"[bold]事件报告 / event report[/] #{event_id} {escape(ev_doc.title)}", highlight=False)
        for p in write_documents(ctx, ev_doc, formats, OUT_DIR):
            console.print(f"  {p}", highlight=False)
    incident_id = _latest_incident_id(ctx)
    if incident_id is not None:
        rv_doc = make_review_report(ctx, incident_id)
        console.print(f"[bold]总结评估报告 / incident review[/] #{incident_id}", highlight=False)
        for p in write_documents(ctx, rv_doc, formats, OUT_DIR):
            console.print(f"  {p}", highlight=False)
    console.print(
        "定时发送 / scheduled: yuqing briefs schedule；"
        "随时生成 / on demand: yuqing briefs make --period weekly",
        highlight=False,
    )
