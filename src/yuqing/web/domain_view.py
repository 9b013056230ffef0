"""What the console shows from each domain; each part appears once that domain's tables exist."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.core.context import AppContext
from yuqing.sources.models import Mention, Quarantine, Source


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


@dataclass(frozen=True)
class ListItem:
    id: int
    title: str
    level: str
    status: str
    at: datetime | None


def nav() -> list[tuple[str, str]]:
    items = []
    for mod, href, key in (
        ("yuqing.web.pages.events", "/events", "nav.events"),
        ("yuqing.web.pages.alerts", "/alerts", "nav.alerts"),
        ("yuqing.web.pages.incidents", "/incidents", "nav.incidents"),
        ("yuqing.web.pages.resources", "/resources", "nav.resources"),
        ("yuqing.web.pages.reviews", "/reviews", "nav.reviews"),
    ):
        if _module(mod) is not None:
            items.append((href, key))
    return items


def summary(ctx: AppContext, s: Session, days: int) -> dict[str, Any]:
    totals = daily_totals(ctx, s, days)
    mentions = sum(n for _, n in totals)
    neg, base = target_negative(ctx, s, days)
    return {
        "mentions": mentions,
        "negative_share": f"{neg / base:.0%}" if base else "—",
        "sources": s.scalar(select(func.count()).select_from(Source).where(Source.enabled.is_(True))) or 0,
        "quarantine_open": s.scalar(
            select(func.count()).select_from(Quarantine).where(Quarantine.status == "open")
        )
        or 0,
        "open_alerts": count_open_alerts(s),
        "open_incidents": count_open_incidents(s),
    }


def open_alerts(s: Session, limit: int) -> list[ListItem]:
    from yuqing.alerts.models import Alert

    rows = s.scalars(
        select(Alert).where(Alert.status == "open").order_by(Alert.raised_at.desc()).limit(limit)
    )
    return [ListItem(a.id, a.title, a.level or "", a.status, a.raised_at) for a in rows]


def count_open_alerts(s: Session) -> int:
    from yuqing.alerts.models import Alert

    return s.scalar(select(func.count()).select_from(Alert).where(Alert.status == "open")) or 0


def open_incidents(s: Session, limit: int) -> list[ListItem]:
    from yuqing.incidents.models import Incident
    from yuqing.incidents.workflow import OPEN_STATES

    rows = s.scalars(
        select(Incident)
        .where(Incident.status.in_(OPEN_STATES))
        .order_by(Incident.opened_at.desc())
        .limit(limit)
    )
    return [ListItem(i.id, i.title, i.level, i.status, i.opened_at) for i in rows]


def count_open_incidents(s: Session) -> int:
    from yuqing.incidents.models import Incident
    from yuqing.incidents.workflow import OPEN_STATES

    return s.scalar(select(func.count()).select_from(Incident).where(Incident.status.in_(OPEN_STATES))) or 0


def events_by_level(s: Session) -> dict[str, int]:
    """Events not merged or archived, by level (ungraded under '-')."""
    from yuqing.events.models import Event

    rows = s.execute(
        select(Event.level, func.count()).where(Event.status.in_(("active", "dormant"))).group_by(Event.level)
    ).all()
    return {(level or "-"): int(n) for level, n in rows}


def _window(ctx: AppContext, days: int) -> tuple[datetime, list[datetime], ZoneInfo]:
    """Start of the window (local midnight ``days - 1`` days ago) and the local day starts."""
    tz = ZoneInfo(ctx.settings.timezone)
    today = ctx.clock.now().astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [today - timedelta(days=days - 1 - i) for i in range(days)]
    return starts[0], starts, tz


DAY_CACHE_KEY = "web.day_totals"


def daily_totals(ctx: AppContext, s: Session, days: int) -> list[tuple[str, int]]:
    """Mentions published per local day over the window.

    Closed days barely change, so their totals are cached in the context for
    ``web.stats_cache_s`` seconds; today is always counted live.
    """
    import time as _time

    _start, starts, _tz = _window(ctx, days)
    cache: dict[tuple[str, str], tuple[int, float]] = ctx.extras.setdefault(DAY_CACHE_KEY, {})
    ttl = ctx.settings.web.stats_cache_s
    out = []
    mono = _time.monotonic()
    for i, day in enumerate(starts):
        label = day.strftime("%m-%d")
        key = (ctx.db.url, day.isoformat())
        hit = cache.get(key)
        is_today = i == len(starts) - 1
        if hit is not None and not is_today and mono - hit[1] < ttl:
            out.append((label, hit[0]))
            continue
        n = (
            s.scalar(
                select(func.count())
                .select_from(Mention)
                .where(Mention.published_at >= day, Mention.published_at < day + timedelta(days=1))
            )
            or 0
        )
        if not is_today and ttl > 0:
            cache[key] = (int(n), mono)
        out.append((label, int(n)))
    return out


def _target_rows(ctx: AppContext, s: Session, days: int) -> tuple[list[Any], list[datetime], ZoneInfo]:
    from yuqing.events.models import TargetBucket

    start, starts, tz = _window(ctx, days)
    rows = s.execute(
        select(
            TargetBucket.target_id, TargetBucket.hour, TargetBucket.count, TargetBucket.negative_count
        ).where(TargetBucket.hour >= start)
    ).all()
    return list(rows), starts, tz


def target_negative(ctx: AppContext, s: Session, days: int) -> tuple[int, int]:
    """(negative, total) target mentions in the window, from the events stage's hourly target buckets."""
    rows, _starts, _tz = _target_rows(ctx, s, days)
    return sum(int(r[3]) for r in rows), sum(int(r[2]) for r in rows)


def volume_series(ctx: AppContext, s: Session, days: int) -> dict[str, Any]:
    """Daily mention volume (all mentions) and, per watch target, volume and negative share.

    Per-target figures come from the events stage's hourly ``event_target_buckets`` (a rollup it
    keeps anyway), so the chart costs a few hundred rows whatever the store's size.
    """
    from yuqing.sources.models import Target

    totals = daily_totals(ctx, s, days)
    buckets = [label for label, _ in totals]
    rows, _starts, tz = _target_rows(ctx, s, days)
    index = {b: i for i, b in enumerate(buckets)}
    per: dict[int, list[list[int]]] = {}
    neg_all = [0] * days
    base_all = [0] * days
    for tid, hour, count, negative in rows:
        label = hour.astimezone(tz).strftime("%m-%d")
        if label not in index:
            continue
        i = index[label]
        entry = per.setdefault(int(tid), [[0] * days, [0] * days])
        entry[0][i] += int(count)
        entry[1][i] += int(negative)
        neg_all[i] += int(negative)
        base_all[i] += int(count)
    names = dict(s.execute(select(Target.id, Target.name)).all())
    series: list[dict[str, Any]] = [
        {"target_id": None, "name": "全部 / all", "counts": [n for _, n in totals], "negative_share": None}
    ]
    for tid, (counts, negs) in sorted(per.items(), key=lambda kv: -sum(kv[1][0]))[:8]:
        series.append(
            {
                "target_id": tid,
                "name": names.get(tid, str(tid)),
                "counts": counts,
                "negative_share": _shares(negs, counts),
            }
        )
    return {"buckets": buckets, "series": series, "negative_share": _shares(neg_all, base_all)}


def _shares(negs: list[int], totals: list[int]) -> list[float | None]:
    return [round(neg / n, 4) if n else None for neg, n in zip(negs, totals, strict=True)]
