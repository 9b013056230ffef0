"""Demo step of the events stage: the stories found in the replayed scenario, how their level rose and
why, and the early signs fired on the way."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVEL_COLOURS, LEVEL_NAMES_ZH, level_rank
from yuqing.events.models import Event, EventBucket, EventLevelChange, Signal

SPARK = "▁▂▃▄▅▆▇█"


def _spark(values: list[int]) -> str:
    top = max(values or [0]) or 1
    return "".join(SPARK[min(7, round(v / top * 7))] for v in values)


def _level(level: str | None) -> str:
    return "-" if level is None else f"[{LEVEL_COLOURS[level]}]{level} {LEVEL_NAMES_ZH[level]}[/]"


def run(ctx: AppContext, console: Console) -> None:
    console.rule("[bold]事件 · 苗头 · 分级 / events, early signs, grading")
    with ctx.db.session() as s:
        events = s.scalars(select(Event).where(Event.status != "merged")).all()
        if not events:
            console.print("没有事件（上游未产生已分析信息）/ no events: nothing was analysed upstream")
            return
        events = sorted(events, key=lambda e: (-level_rank(e.level or "IV"), -e.mention_count, e.id))
        table = Table(title=f"事件 / events ({len(events)})")
        for col in (
            "ID",
            "等级 level",
            "标题 title",
            "信息 n",
            "负面 neg",
            "平台 platforms",
            "首次 first (UTC)",
        ):
            table.add_column(col)
        for e in events[:8]:
            table.add_row(
                str(e.id),
                _level(e.level),
                escape(e.title[:36]),
                str(e.mention_count),
                f"{e.negative_share:.0%}",
                ", ".join(e.platforms),
                f"{e.first_seen:%m-%d %H:%M}",
            )
        console.print(table)
        top = events[0]
        history = s.scalars(
            select(EventLevelChange).where(EventLevelChange.event_id == top.id).order_by(EventLevelChange.id)
        ).all()
        buckets = s.scalars(
            select(EventBucket).where(EventBucket.event_id == top.id).order_by(EventBucket.hour)
        ).all()
        signals = s.scalars(select(Signal).order_by(Signal.fired_at, Signal.id)).all()
        n_signals = s.scalar(select(func.count()).select_from(Signal)) or 0
    console.print(f"\n[bold]最严重的事件 / most severe event #{top.id}[/]: {escape(top.title)}")
    console.print(f"关键词 / keywords: {escape('、'.join(top.keywords))}")
    if buckets:
        recent = buckets[-72:]
        spark = _spark([b.count for b in recent])
        console.print(f"每小时声量 / hourly volume (last {len(recent)} h with mentions): {spark}")
    path = " → ".join(h.new_level for h in history)
    console.print(f"等级变化 / level path: [bold]{path}[/]")
    t = Table(title="定级过程 / how the level rose")
    for col in ("时间 at (UTC)", "等级 level", "理由 reasons", "reasons (en)"):
        t.add_column(col)
    for h in history:
        t.add_row(
            f"{h.at:%m-%d %H:%M}",
            _level(h.new_level),
            escape(" + ".join(h.reasons)),
            escape(" + ".join(h.reasons_en)),
        )
    console.print(t)
    console.print(f"\n[bold]苗头 / early signs fired: {n_signals}[/]")
    for g in signals[:10]:
        console.print(f"  {g.fired_at:%m-%d %H:%M} · {escape(g.message)}")
