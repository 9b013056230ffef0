"""``yuqing events list|show|merge|split|labels`` and ``yuqing eval events``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select

from yuqing.core.cli import app, console, eval_app, get_context, print_json
from yuqing.core.contracts import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS
from yuqing.errors import NotFound, ValidationError

events_app = typer.Typer(help="事件 / events: list, inspect, merge and split", no_args_is_help=True)
app.add_typer(events_app, name="events")

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    if not values:
        return ""
    top = max(values) or 1
    return "".join(SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] for v in values)


def level_label(level: str | None) -> str:
    if level is None:
        return "-"
    return f"[{LEVEL_COLOURS[level]}]{level} {LEVEL_NAMES_ZH[level]}[/]"


@eval_app.command("events")
def eval_events(
    data: Path = typer.Option(
        ..., "--data", help='JSONL: {"id", "text", "label"} [+ "time", "lang"] per line'
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """聚类评估 / cluster the lines in file order with the service's online clusterer and score it."""
    from yuqing.config import load_settings
    from yuqing.events.evaluate import evaluate_file

    result = evaluate_file(data, load_settings().events)
    if as_json:
        print_json(result)
        return
    table = Table(title="事件聚类评估 / event clustering")
    table.add_column("指标 / metric")
    table.add_column("值 / value", justify="right")
    for k, v in result.items():
        table.add_row(k, str(v))
    console.print(table)


@events_app.command("list")
def list_events(
    level: str | None = typer.Option(None, "--level", help="I | II | III | IV"),
    status: str | None = typer.Option(None, "--status", help="active | dormant | archived | merged"),
    target: int | None = typer.Option(None, "--target", help="Watch target id"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """事件列表 / events, most recently active first."""
    from yuqing.events.models import EVENT_STATUSES
    from yuqing.events.service import list_snapshots

    if level is not None and level not in LEVELS:
        raise ValidationError(f"等级无效 / invalid level {level!r} (I, II, III, IV)")
    if status is not None and status not in EVENT_STATUSES:
        raise ValidationError(f"状态无效 / invalid status {status!r} ({', '.join(EVENT_STATUSES)})")
    ctx = get_context()
    with ctx.db.session() as s:
        snaps = list_snapshots(s, level=level, status=status, target_id=target, limit=limit)
    if as_json:
        print_json([{**snap.__dict__} for snap in snaps])
        return
    table = Table(title=f"事件 / events ({len(snaps)})")
    for col in (
        "ID",
        "等级 level",
        "状态 status",
        "标题 title",
        "信息 n",
        "负面 neg",
        "速度/h",
        "平台 platforms",
        "最近 last",
    ):
        table.add_column(col)
    for e in snaps:
        table.add_row(
            str(e.event_id),
            level_label(e.level),
            e.status,
            e.title[:40],
            str(e.mention_count),
            f"{e.negative_share:.0%}",
            f"{e.velocity:.1f}",
            ",".join(e.platforms),
            e.last_seen.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@events_app.command("show")
def show_event(event_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """事件详情 / metrics, level history with reasons, sample mentions, hourly time series."""
    from yuqing.events.models import Event, EventBucket, EventLevelChange, EventMention, Signal
    from yuqing.events.related import load_related

    ctx = get_context()
    with ctx.db.session() as s:
        ev = s.get(Event, event_id)
        if ev is None:
            raise NotFound(f"事件不存在 / event {event_id} not found")
        history = s.scalars(
            select(EventLevelChange)
            .where(EventLevelChange.event_id == event_id)
            .order_by(EventLevelChange.id)
        ).all()
        buckets = s.scalars(
            select(EventBucket).where(EventBucket.event_id == event_id).order_by(EventBucket.hour)
        ).all()
        samples = s.scalars(
            select(EventMention)
            .where(EventMention.event_id == event_id)
            .order_by(EventMention.influence.desc(), EventMention.published_at)
            .limit(8)
        ).all()
        signals = s.scalars(select(Signal).where(Signal.event_id == event_id).order_by(Signal.id)).all()
        related = [(r, e.title, e.level, e.mention_count) for r, e in load_related(s, event_id)]
    if as_json:
        print_json(
            {
                "event_id": ev.id,
                "title": ev.title,
                "status": ev.status,
                "level": ev.level,
                "level_reasons": ev.level_reasons,
                "level_reasons_en": ev.level_reasons_en,
                "merged_into_id": ev.merged_into_id,
                "metrics": ev.metrics,
                "keywords": ev.keywords,
                "first_seen": ev.first_seen,
                "last_seen": ev.last_seen,
                "top_sources": ev.top_sources,
                "key_opinion_leaders": ev.key_opinion_leaders,
                "level_history": [
                    {"at": h.at, "old": h.old_level, "new": h.new_level, "rule": h.rule, "reasons": h.reasons}
                    for h in history
                ],
                "series": [{"hour": b.hour, "count": b.count, "negative": b.negative_count} for b in buckets],
                "signals": [
                    {"id": g.id, "kind": g.kind, "at": g.fired_at, "message": g.message} for g in signals
                ],
                "sample_mention_ids": [m.mention_id for m in samples],
                "related": [
                    {"event_id": r.event_id, "title": title, "score": r.score, "shared": list(r.shared)}
                    for r, title, _level, _n in related
                ],
            }
        )
        return
    console.rule(f"事件 #{ev.id} {level_label(ev.level)} · {ev.status}")
    console.print(f"[bold]{_esc(ev.title)}[/]")
    if ev.merged_into_id:
        console.print(f"已合并至 / merged into #{ev.merged_into_id}")
    console.print(f"关键词 / keywords: {_esc('、'.join(ev.keywords))}")
    console.print(
        f"时间 / seen: {ev.first_seen:%Y-%m-%d %H:%M} → {ev.last_seen:%Y-%m-%d %H:%M} UTC · "
        f"信息 {ev.mention_count} 条 · 负面 {ev.negative_count} 条 ({ev.negative_share:.0%}) · "
        f"作者 {ev.unique_authors} · 传播力 reach {ev.reach:,.0f} · "
        f"速度 {ev.velocity:.1f}/h (前一时段 prev {ev.velocity_prev:.1f}/h) · 平台 {', '.join(ev.platforms)}"
    )
    if ev.level_reasons:
        console.print(
            f"定级理由 / reasons: {_esc(' + '.join(ev.level_reasons))}  ({' + '.join(ev.level_reasons_en)})"
        )
    if ev.key_opinion_leaders:
        kols = ", ".join(f"{_esc(k['author'])} ({k['followers']:,})" for k in ev.key_opinion_leaders)
        console.print(f"意见领袖 / KOLs: {kols}")
    if history:
        t = Table(title="等级变化 / level history")
        for col in ("时间 at (UTC)", "从 from", "到 to", "理由 reasons"):
            t.add_column(col)
        for h in history:
            t.add_row(
                f"{h.at:%m-%d %H:%M}",
                h.old_level or "-",
                level_label(h.new_level),
                _esc(" + ".join(h.reasons)),
            )
        console.print(t)
    if buckets:
        counts = [b.count for b in buckets[-72:]]
        neg = [b.negative_count for b in buckets[-72:]]
        console.print(f"每小时声量 / hourly volume   {sparkline(counts)}  (max {max(counts)})")
        console.print(f"每小时负面 / hourly negative {sparkline(neg)}  (max {max(neg)})")
        t = Table(title="时间序列 / time series (last 12 h with mentions)")
        for col in ("小时 hour (UTC)", "声量 n", "负面 neg"):
            t.add_column(col)
        for b in buckets[-12:]:
            t.add_row(f"{b.hour:%m-%d %H:00}", str(b.count), str(b.negative_count))
        console.print(t)
    if signals:
        for g in signals:
            console.print(f"苗头 / signal #{g.id} {g.fired_at:%m-%d %H:%M}: {_esc(g.message)}")
    if related:
        t = Table(title="可能相关的事件 / possibly related events (合并 / merge: yuqing events merge A B)")
        for col in ("ID", "等级 level", "信息 n", "相似度 score", "共同词 shared words", "标题 title"):
            t.add_column(col)
        for r, title, level, n in related:
            t.add_row(
                str(r.event_id),
                level_label(level),
                str(n),
                f"{r.score:.2f}",
                _esc("、".join(r.shared)),
                _esc(title[:40]),
            )
        console.print(t)
    if samples:
        t = Table(title="代表信息 / sample mentions")
        for col in ("ID", "时间 at", "平台", "作者 author", "标题 title"):
            t.add_column(col)
        for m in samples:
            t.add_row(
                str(m.mention_id),
                f"{m.published_at:%m-%d %H:%M}",
                m.platform,
                _esc(m.author or ""),
                _esc(m.title[:50]),
            )
        console.print(t)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise ValidationError(f"ID 无效 / invalid id {part!r}")
            out.append(int(part))
    return out


@events_app.command("merge")
def merge_events(
    event_ids: list[str] = typer.Argument(..., help="IDs; the first one keeps the merged event"),
    by: str = typer.Option("analyst", "--by", help="Who merges (kept with the label)"),
) -> None:
    """合并事件 / merge events into the first id (kept as an analyst label)."""
    from yuqing.events.stage import get_service

    ids = _ids(event_ids)
    ctx = get_context()
    with ctx.db.session() as s:
        keep = get_service(ctx).merge(s, ids, by=by)
        n = keep.mention_count
    console.print(f"已合并 / merged {ids[1:]} → #{ids[0]} ({n} 条信息 mentions)")


@events_app.command("split")
def split_event(
    event_id: int = typer.Argument(...),
    mentions: str = typer.Option(..., "--mentions", help="Mention ids to move out, e.g. 1,2,3"),
    by: str = typer.Option("analyst", "--by", help="Who splits (kept with the label)"),
) -> None:
    """拆分事件 / move mentions out of an event into a new one (kept as an analyst label)."""
    from yuqing.events.stage import get_service

    ids = _ids([mentions])
    ctx = get_context()
    with ctx.db.session() as s:
        new = get_service(ctx).split(s, event_id, ids, by=by)
        new_id = new.id
    console.print(f"已拆分 / split {len(ids)} 条信息 mentions from #{event_id} → new event #{new_id}")


@events_app.command("labels")
def export_labels(out: Path = typer.Option(..., "--out", help="JSONL file to write")) -> None:
    """导出分析师标注 / export the events analysts merged or split as {"id","text","label"} lines for
    `yuqing eval events` (every mention of a corrected event, labelled by its current event)."""
    from yuqing.events.models import EventCorrection, EventMention

    ctx = get_context()
    with ctx.db.session() as s:
        touched: set[int] = set()
        for ids, result_id in s.execute(select(EventCorrection.event_ids, EventCorrection.result_event_id)):
            touched.update(ids or [])
            touched.add(result_id)
        rows = s.execute(
            select(
                EventMention.mention_id, EventMention.title, EventMention.event_id, EventMention.published_at
            )
            .where(EventMention.event_id.in_(sorted(touched)))
            .order_by(EventMention.published_at, EventMention.mention_id)
        ).all()
    with out.open("w", encoding="utf-8") as fh:
        for mid, title, eid, at in rows:
            fh.write(
                json.dumps(
                    {"id": mid, "text": title, "label": eid, "time": at.isoformat()}, ensure_ascii=False
                )
                + "\n"
            )
    console.print(f"已导出 / wrote {len(rows)} 条 lines to {out}")
