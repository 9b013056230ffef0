"""``yuqing briefs make|schedule`` and ``yuqing reports event|review``."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer

from yuqing.core.cli import app, console, get_context
from yuqing.errors import ValidationError

briefs_app = typer.Typer(help="舆情简报 / daily, weekly and monthly briefs", no_args_is_help=True)
reports_app = typer.Typer(help="报告 / event reports and incident review reports", no_args_is_help=True)
app.add_typer(briefs_app, name="briefs")
app.add_typer(reports_app, name="reports")

FORMAT_HELP = "Formats, comma-separated: html,docx,pdf (default: all three)"


def _parse_date(value: str | None, today: date) -> date:
    if not value:
        return today
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {value}") from exc


def _print_paths(paths: list[Path]) -> None:
    for p in paths:
        typer.echo(str(p))


@briefs_app.command("make")
def make_cmd(
    period: str = typer.Option(..., "--period", help="daily | weekly | monthly"),
    day: str = typer.Option(None, "--date", help="A day in the period, YYYY-MM-DD (default: today)"),
    target: str = typer.Option(None, "--target", help="Watch target name or id (default: the whole firm)"),
    formats: str = typer.Option(None, "--format", help=FORMAT_HELP),
    out: Path = typer.Option(Path("."), "--out", help="Output directory (default: current directory)"),
) -> None:
    """生成简报 / build a brief now; prints the written paths."""
    from zoneinfo import ZoneInfo

    from yuqing.reports.briefs import make_brief
    from yuqing.reports.output import FORMATS, parse_formats, write_documents

    ctx = get_context()
    fmts = parse_formats(formats, FORMATS)
    today = ctx.clock.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()
    doc = make_brief(ctx, period, _parse_date(day, today), target)
    _print_paths(write_documents(ctx, doc, fmts, out))


@briefs_app.command("schedule")
def schedule_cmd(
    once: bool = typer.Option(False, "--once", help="One due-check, then exit"),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between due-checks"),
) -> None:
    """定时发送简报 / send the briefs that are due (daily 08:00, weekly Monday, monthly 1st)."""
    from yuqing.reports.schedule import describe, run_once

    ctx = get_context()
    while True:
        outcomes = run_once(ctx)
        for o in outcomes:
            console.print(describe(o), highlight=False)
            for p in o.paths:
                typer.echo(p)
        if once:
            if not outcomes:
                console.print("无到期简报 / nothing due")
            return
        time.sleep(interval)


@reports_app.command("event")
def event_cmd(
    event_id: int = typer.Argument(..., help="Event id"),
    formats: str = typer.Option(None, "--format", help=FORMAT_HELP),
    out: Path = typer.Option(Path("."), "--out", help="Output directory"),
) -> None:
    """事件报告 / one event's story as a document."""
    from yuqing.reports.event_report import make_event_report
    from yuqing.reports.output import FORMATS, parse_formats, write_documents

    ctx = get_context()
    fmts = parse_formats(formats, FORMATS)
    _print_paths(write_documents(ctx, make_event_report(ctx, event_id), fmts, out))


@reports_app.command("review")
def review_cmd(
    incident_id: int = typer.Argument(..., help="Incident id"),
    formats: str = typer.Option(None, "--format", help=FORMAT_HELP),
    out: Path = typer.Option(Path("."), "--out", help="Output directory"),
) -> None:
    """总结评估报告 / the incident review as a formal document."""
    from yuqing.reports.output import FORMATS, parse_formats, write_documents
    from yuqing.reports.review_report import make_review_report

    ctx = get_context()
    fmts = parse_formats(formats, FORMATS)
    _print_paths(write_documents(ctx, make_review_report(ctx, incident_id), fmts, out))
