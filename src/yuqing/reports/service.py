"""Gathering the facts documents are built from: pure functions over plain data, and thin queries.

Everything a document says is computed here from stored records — counts, shares, times, quotes
with their sources. Nothing is invented: a summary sentence is a template filled with these facts.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.core.clock import ensure_utc
from yuqing.core.context import AppContext
from yuqing.core.contracts import level_rank
from yuqing.errors import NotFound, ValidationError

PERIODS = ("daily", "weekly", "monthly")
PERIOD_ZH = {"daily": "日报", "weekly": "周报", "monthly": "月报"}
PERIOD_EN = {"daily": "daily brief", "weekly": "weekly brief", "monthly": "monthly brief"}
PLATFORM_ZH = {
    "weibo": "微博",
    "news": "新闻",
    "forum": "论坛",
    "complaint": "投诉平台",
    "wechat": "微信",
    "video": "视频",
    "regulator": "监管",
    "web": "网页",
    "app": "客户端",
    "tieba": "贴吧",
    "xueqiu": "雪球",
    "zhihu": "知乎",
    "twitter": "推特",
    "jobs": "职场社区",
    "douyin": "抖音",
    "toutiao": "头条",
}


# --- periods (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # daily | weekly | monthly
    first_day: date  # local
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    prev_start: datetime
    prev_end: datetime
    bucket: str  # hour | day
    label: str  # e.g. 2026-03-02, 2026-W10 (03-02 至 03-08), 2026-03


def _local_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_of(kind: str, day: date, tz: str) -> Period:
    """The daily, weekly (Monday-Sunday) or monthly period containing local ``day``."""
    if kind not in PERIODS:
        raise ValidationError(f"未知周期 / unknown period: {kind} (daily, weekly, monthly)")
    zone = ZoneInfo(tz)
    if kind == "daily":
        first, nxt, prev = day, day + timedelta(days=1), day - timedelta(days=1)
        label = first.isoformat()
    elif kind == "weekly":
        first = day - timedelta(days=day.weekday())
        nxt, prev = first + timedelta(days=7), first - timedelta(days=7)
        iso = first.isocalendar()
        label = f"{iso.year}-W{iso.week:02d}（{first:%m-%d} 至 {nxt - timedelta(days=1):%m-%d}）"
    else:
        first = _month_start(day)
        nxt, prev = _next_month(first), _month_start(first - timedelta(days=1))
        label = f"{first:%Y-%m}"
    return Period(
        kind=kind,
        first_day=first,
        start=_local_midnight(first, zone),
        end=_local_midnight(nxt, zone),
        prev_start=_local_midnight(prev, zone),
        prev_end=_local_midnight(first, zone),
        bucket="hour" if kind == "daily" else "day",
        label=label,
    )


def bucket_starts(period: Period, tz: str) -> list[datetime]:
    """Start (UTC) of every bucket of the period: hours of a day, days of a week or month."""
    zone = ZoneInfo(tz)
    out = []
    if period.bucket == "hour":
        at = period.start
        while at < period.end:
            out.append(at)
            at += timedelta(hours=1)
        return out
    d = period.first_day
    while (start := _local_midnight(d, zone)) < period.end:
        out.append(start)
        d += timedelta(days=1)
    return out


# --- brief facts (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionFact:
    mention_id: int
    published_at: datetime
    platform: str
    negative: bool
    risk_type: str | None
    duplicate: bool


@dataclass(frozen=True)
class QuotedMention:
    mention_id: int
    title: str
    excerpt: str
    source: str
    author: str | None
    platform: str
    published_at: datetime
    url: str | None
    influence: float
    negative_prob: float


@dataclass(frozen=True)
class EventFact:
    event_id: int
    title: str
    level: str | None
    level_reasons: tuple[str, ...]
    status: str
    first_seen: datetime
    last_seen: datetime
    mention_count: int
    negative_share: float
    platforms: tuple[str, ...]
    risk_type: str | None
    in_period: int  # mentions of this event published in the period
    quote: QuotedMention | None = None


@dataclass(frozen=True)
class IncidentFact:
    incident_id: int
    title: str
    level: str
    status: str
    opened_at: datetime


@dataclass(frozen=True)
class OverdueFact:
    incident_id: int
    kind: str  # task | deadline | action
    title: str
    owner: str | None
    due_at: datetime


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime
    total: int
    negative: int

    @property
    def share(self) -> float | None:
        return self.negative / self.total if self.total else None


@dataclass
class BriefFacts:
    period: Period
    target: str | None
    organisation: str
    generated_at: datetime
    timezone: str
    total: int = 0
    negative: int = 0
    originals: int = 0
    prev_total: int = 0
    prev_negative: int = 0
    series: list[SeriesPoint] = field(default_factory=list)
    platforms: list[tuple[str, int, int]] = field(default_factory=list)  # (platform, total, negative)
    risk_types: list[tuple[str, int]] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)
    negative_mentions: list[QuotedMention] = field(default_factory=list)
    open_incidents: list[IncidentFact] = field(default_factory=list)
    overdue: list[OverdueFact] = field(default_factory=list)

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.total if self.total else None

    @property
    def prev_share(self) -> float | None:
        return self.prev_negative / self.prev_total if self.prev_total else None


def change_pct(now: int, before: int) -> float | None:
    """Relative change; None when there is nothing to compare with."""
    if before == 0:
        return None
    return (now - before) / before


def fmt_pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def summarise_mentions(
    facts: BriefFacts, mentions: Iterable[MentionFact], starts: Sequence[datetime]
) -> BriefFacts:
    """Fill counts, series, platform mix and risk types from the period's and previous period's mentions."""
    p = facts.period
    by_bucket: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    plat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    risks: Counter[str] = Counter()
    for m in mentions:
        at = ensure_utc(m.published_at)
        if p.prev_start <= at < p.prev_end:
            facts.prev_total += 1
            facts.prev_negative += int(m.negative)
            continue
        if not (p.start <= at < p.end):
            continue
        facts.total += 1
        facts.negative += int(m.negative)
        facts.originals += int(not m.duplicate)
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0:
            by_bucket[i][0] += 1
            by_bucket[i][1] += int(m.negative)
        plat[m.platform][0] += 1
        plat[m.platform][1] += int(m.negative)
        if m.risk_type and m.negative:
            risks[m.risk_type] += 1
    facts.series = [SeriesPoint(s, by_bucket[i][0], by_bucket[i][1]) for i, s in enumerate(starts)]
    facts.platforms = sorted(((k, v[0], v[1]) for k, v in plat.items()), key=lambda x: (-x[1], x[0]))
    facts.risk_types = sorted(risks.items(), key=lambda x: (-x[1], x[0]))
    return facts


def rank_events(events: Iterable[EventFact], limit: int) -> list[EventFact]:
    """Most severe first, then most active in the period, then largest; ties by id."""
    return sorted(
        events,
        key=lambda e: (-(level_rank(e.level) if e.level else 0), -e.in_period, -e.mention_count, e.event_id),
    )[:limit]


def excerpt(text: str, limit: int) -> str:
    """A verbatim excerpt (whitespace collapsed), cut at ``limit`` characters with an ellipsis."""
    s = " ".join((text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def local(at: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if at is None:
        return "—"
    return ensure_utc(at).astimezone(ZoneInfo(tz)).strftime(fmt)


def platform_name(p: str) -> str:
    zh = PLATFORM_ZH.get(p)
    return f"{zh} / {p}" if zh else p


# --- queries -----------------------------------------------------------------------------------------


def organisation_name(ctx: AppContext, session: Session) -> str:
    if ctx.settings.reports.organisation:
        return ctx.settings.reports.organisation
    from yuqing.sources.models import Target

    name = session.scalar(
        select(Target.name).where(Target.is_own.is_(True), Target.enabled.is_(True)).order_by(Target.id)
    )
    return name or "本机构"


def resolve_target(session: Session, target: str | None) -> tuple[int, str] | None:
    """A watch target by id or name; None for the whole firm."""
    if target is None or target == "":
        return None
    from yuqing.sources.models import Target

    row = session.get(Target, int(target)) if target.isdigit() else None
    if row is None:
        row = session.scalar(select(Target).where(Target.name == target))
    if row is None:
        raise NotFound(f"监测主体不存在 / watch target not found: {target}")
    return row.id, row.name


def own_target_ids(session: Session) -> list[int]:
    from yuqing.sources.models import Target

    return list(session.scalars(select(Target.id).where(Target.is_own.is_(True))))


def _mention_facts(
    session: Session, start: datetime, end: datetime, target_ids: Sequence[int]
) -> list[MentionFact]:
    """Mentions about any of ``target_ids``; negative when the negativity is about one of them."""
    from yuqing.analysis.models import AnalysisResult, TargetMatchRecord
    from yuqing.sources.models import Mention

    if not target_ids:
        return []
    q = (
        select(
            Mention.id,
            Mention.published_at,
            Mention.platform,
            TargetMatchRecord.negative,
            AnalysisResult.risk_type,
            Mention.duplicate_of_id.is_not(None),
        )
        .join(TargetMatchRecord, TargetMatchRecord.mention_id == Mention.id)
        .outerjoin(AnalysisResult, AnalysisResult.mention_id == Mention.id)
        .where(
            TargetMatchRecord.target_id.in_(list(target_ids)),
            Mention.published_at >= start,
            Mention.published_at < end,
        )
    )
    merged: dict[int, MentionFact] = {}
    for i, at, plat, neg, risk, dup in session.execute(q):
        prev = merged.get(i)
        negative = bool(neg) or (prev.negative if prev else False)
        merged[i] = MentionFact(i, ensure_utc(at), plat or "web", negative, risk, bool(dup))
    return list(merged.values())


def quoted_mentions(session: Session, ids: Sequence[int], limit_chars: int) -> dict[int, QuotedMention]:
    """Mentions with their source names, for quoting (one query)."""
    from yuqing.analysis.models import AnalysisResult
    from yuqing.sources.models import Mention, Source

    if not ids:
        return {}
    rows = session.execute(
        select(Mention, Source.name, AnalysisResult.influence, AnalysisResult.negative_prob)
        .join(Source, Source.id == Mention.source_id)
        .outerjoin(AnalysisResult, AnalysisResult.mention_id == Mention.id)
        .where(Mention.id.in_(list(ids)))
    ).all()
    out = {}
    for m, source, influence, prob in rows:
        out[m.id] = QuotedMention(
            mention_id=m.id,
            title=excerpt(m.title or m.text, 80),
            excerpt=excerpt(m.text or m.title, limit_chars),
            source=source,
            author=m.author,
            platform=m.platform,
            published_at=ensure_utc(m.published_at),
            url=m.url,
            influence=float(influence or 0.0),
            negative_prob=float(prob or 0.0),
        )
    return out


def _negative_mentions(
    session: Session, p: Period, target_ids: Sequence[int], limit: int, chars: int
) -> list[QuotedMention]:
    from yuqing.analysis.models import AnalysisResult, TargetMatchRecord
    from yuqing.sources.models import Mention

    q = (
        select(Mention.id)
        .join(AnalysisResult, AnalysisResult.mention_id == Mention.id)
        .where(
            Mention.published_at >= p.start,
            Mention.published_at < p.end,
            Mention.duplicate_of_id.is_(None),
        )
    )
    hit = select(TargetMatchRecord.mention_id).where(
        TargetMatchRecord.target_id.in_(list(target_ids)), TargetMatchRecord.negative.is_(True)
    )
    q = q.where(Mention.id.in_(hit)).order_by(AnalysisResult.influence.desc(), Mention.id).limit(limit)
    ids = list(session.scalars(q))
    found = quoted_mentions(session, ids, chars)
    return [found[i] for i in ids if i in found]


def _events(
    session: Session, p: Period, target_ids: Sequence[int], limit: int, chars: int
) -> list[EventFact]:
    from yuqing.events.models import Event, EventMention

    rows = session.scalars(
        select(Event).where(Event.status != "merged", Event.first_seen < p.end, Event.last_seen >= p.start)
    ).all()
    wanted = set(target_ids)
    rows = [e for e in rows if wanted & set(e.target_ids or [])]
    if not rows:
        return []
    counts = dict(
        session.execute(
            select(EventMention.event_id, func.count())
            .where(
                EventMention.event_id.in_([e.id for e in rows]),
                EventMention.published_at >= p.start,
                EventMention.published_at < p.end,
            )
            .group_by(EventMention.event_id)
        ).all()
    )
    facts = [
        EventFact(
            event_id=e.id,
            title=e.title,
            level=e.level,
            level_reasons=tuple(e.level_reasons or ()),
            status=e.status,
            first_seen=ensure_utc(e.first_seen),
            last_seen=ensure_utc(e.last_seen),
            mention_count=e.mention_count,
            negative_share=e.negative_share,
            platforms=tuple(e.platforms or ()),
            risk_type=e.risk_type,
            in_period=int(counts.get(e.id, 0)),
        )
        for e in rows
    ]
    top = [f for f in rank_events(facts, limit) if f.in_period > 0 or f.level]
    first_ids: dict[int, int | None] = {e.id: next(iter(e.top_mention_ids or []), None) for e in rows}
    quotes = quoted_mentions(session, [i for f in top if (i := first_ids.get(f.event_id))], chars)
    out = []
    for f in top:
        mid = first_ids.get(f.event_id)
        out.append(dataclasses.replace(f, quote=quotes.get(mid) if mid is not None else None))
    return out


def _incidents(session: Session, now: datetime) -> tuple[list[IncidentFact], list[OverdueFact]]:
    from yuqing.incidents.models import ImprovementAction, Incident, IncidentDeadline, Review, Task
    from yuqing.incidents.workflow import OPEN_STATES

    open_rows = session.scalars(
        select(Incident).where(Incident.status.in_(OPEN_STATES)).order_by(Incident.opened_at)
    ).all()
    incidents = [IncidentFact(i.id, i.title, i.level, i.status, ensure_utc(i.opened_at)) for i in open_rows]
    overdue: list[OverdueFact] = []
    open_ids = [i.id for i in open_rows]
    if open_ids:
        for t in session.scalars(
            select(Task).where(
                Task.incident_id.in_(open_ids),
                Task.status.in_(("open", "in_progress")),
                Task.due_at < now,
            )
        ):
            assert t.due_at is not None
            overdue.append(OverdueFact(t.incident_id, "task", t.title, t.assignee, ensure_utc(t.due_at)))
        for d in session.scalars(
            select(IncidentDeadline).where(
                IncidentDeadline.incident_id.in_(open_ids),
                IncidentDeadline.met_at.is_(None),
                IncidentDeadline.due_at < now,
            )
        ):
            overdue.append(OverdueFact(d.incident_id, "deadline", d.kind, None, ensure_utc(d.due_at)))
    for a, incident_id in session.execute(
        select(ImprovementAction, Review.incident_id)
        .join(Review, Review.id == ImprovementAction.review_id)
        .where(ImprovementAction.status == "open", ImprovementAction.due_at < now)
    ):
        if a.due_at is not None:
            overdue.append(OverdueFact(incident_id, "action", a.title, a.owner, ensure_utc(a.due_at)))
    overdue.sort(key=lambda o: (o.due_at, o.incident_id, o.title))
    return incidents, overdue


def gather_brief(ctx: AppContext, kind: str, day: date, target: str | None = None) -> BriefFacts:
    """All facts of one brief: the period containing ``day`` (local), firm-wide or for one target."""
    tz = ctx.settings.timezone
    cfg = ctx.settings.reports
    p = period_of(kind, day, tz)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        resolved = resolve_target(session, target)
        target_ids = [resolved[0]] if resolved else own_target_ids(session)
        facts = BriefFacts(
            period=p,
            target=resolved[1] if resolved else None,
            organisation=organisation_name(ctx, session),
            generated_at=now,
            timezone=tz,
        )
        mentions = _mention_facts(session, p.prev_start, p.end, target_ids)
        summarise_mentions(facts, mentions, bucket_starts(p, tz))
        facts.events = _events(session, p, target_ids, cfg.top_events, cfg.quote_chars)
        facts.negative_mentions = _negative_mentions(
            session, p, target_ids, cfg.top_mentions, cfg.quote_chars
        )
        facts.open_incidents, facts.overdue = _incidents(session, now)
    return facts


# --- event report facts ---------------------------------------------------------------------------------


@dataclass
class EventReportFacts:
    event_id: int
    title: str
    level: str | None
    level_reasons: tuple[str, ...]
    status: str
    risk_type: str | None
    first_seen: datetime
    last_seen: datetime
    mention_count: int
    negative_count: int
    negative_share: float
    unique_authors: int
    reach: float
    keywords: tuple[str, ...]
    organisation: str
    generated_at: datetime
    timezone: str
    first_mention: QuotedMention | None = None
    spread: list[tuple[str, datetime, int, int]] = field(default_factory=list)  # platform, first, total, neg
    buckets: list[tuple[datetime, int, int, float]] = field(default_factory=list)  # hour, n, neg, mean prob
    sources: list[tuple[str, int, int]] = field(default_factory=list)  # name, mentions, negative
    authors: list[tuple[str, int, int]] = field(default_factory=list)  # author, mentions, followers
    level_history: list[tuple[datetime, str | None, str, tuple[str, ...], str]] = field(default_factory=list)
    representative: list[QuotedMention] = field(default_factory=list)
    incidents: list[IncidentFact] = field(default_factory=list)


def spread_of(rows: Iterable[tuple[str, datetime, bool]]) -> list[tuple[str, datetime, int, int]]:
    """(platform, first appearance, mentions, negative) in order of first appearance."""
    first: dict[str, datetime] = {}
    total: Counter[str] = Counter()
    neg: Counter[str] = Counter()
    for plat, at, negative in rows:
        at = ensure_utc(at)
        if plat not in first or at < first[plat]:
            first[plat] = at
        total[plat] += 1
        neg[plat] += int(negative)
    return sorted(((p, first[p], total[p], neg[p]) for p in first), key=lambda x: (x[1], x[0]))


def gather_event(ctx: AppContext, event_id: int) -> EventReportFacts:
    from yuqing.events.models import Event, EventBucket, EventLevelChange, EventMention
    from yuqing.incidents.models import Incident, IncidentEvent
    from yuqing.sources.models import Source

    cfg = ctx.settings.reports
    with ctx.db.session() as session:
        ev = session.get(Event, event_id)
        seen: set[int] = set()
        while ev is not None and ev.status == "merged" and ev.merged_into_id and ev.id not in seen:
            seen.add(ev.id)
            ev = session.get(Event, ev.merged_into_id)
        if ev is None:
            raise NotFound(f"事件不存在 / event {event_id} not found")
        facts = EventReportFacts(
            event_id=ev.id,
            title=ev.title,
            level=ev.level,
            level_reasons=tuple(ev.level_reasons or ()),
            status=ev.status,
            risk_type=ev.risk_type,
            first_seen=ensure_utc(ev.first_seen),
            last_seen=ensure_utc(ev.last_seen),
            mention_count=ev.mention_count,
            negative_count=ev.negative_count,
            negative_share=ev.negative_share,
            unique_authors=ev.unique_authors,
            reach=ev.reach,
            keywords=tuple(ev.keywords or ()),
            organisation=organisation_name(ctx, session),
            generated_at=ctx.clock.now(),
            timezone=ctx.settings.timezone,
        )
        links = session.execute(
            select(
                EventMention.mention_id,
                EventMention.platform,
                EventMention.published_at,
                EventMention.negative,
                EventMention.source_id,
                EventMention.author,
                EventMention.author_followers,
            )
            .where(EventMention.event_id == ev.id)
            .order_by(EventMention.published_at, EventMention.mention_id)
        ).all()
        facts.spread = spread_of((r.platform or "web", r.published_at, r.negative) for r in links)
        names = dict(session.execute(select(Source.id, Source.name)).all())
        src: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        auth: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in links:
            name = names.get(r.source_id, str(r.source_id))
            src[name][0] += 1
            src[name][1] += int(r.negative)
            if r.author:
                auth[r.author][0] += 1
                auth[r.author][1] = max(auth[r.author][1], int(r.author_followers or 0))
        facts.sources = sorted(((k, v[0], v[1]) for k, v in src.items()), key=lambda x: (-x[1], x[0]))[:10]
        facts.authors = sorted(
            ((k, v[0], v[1]) for k, v in auth.items()), key=lambda x: (-x[2], -x[1], x[0])
        )[:10]
        facts.buckets = [
            (
                ensure_utc(b.hour),
                b.count,
                b.negative_count,
                (b.negative_prob_sum / b.count) if b.count else 0.0,
            )
            for b in session.scalars(
                select(EventBucket).where(EventBucket.event_id == ev.id).order_by(EventBucket.hour)
            )
        ]
        facts.level_history = [
            (ensure_utc(c.at), c.old_level, c.new_level, tuple(c.reasons or ()), c.by)
            for c in session.scalars(
                select(EventLevelChange)
                .where(EventLevelChange.event_id == ev.id)
                .order_by(EventLevelChange.at, EventLevelChange.id)
            )
        ]
        wanted = list(ev.top_mention_ids or [])[: cfg.representative_mentions]
        first_id = links[0].mention_id if links else None
        quotes = quoted_mentions(session, [*wanted, *([first_id] if first_id else [])], cfg.quote_chars)
        facts.first_mention = quotes.get(first_id) if first_id is not None else None
        facts.representative = [quotes[i] for i in wanted if i in quotes]
        facts.incidents = [
            IncidentFact(i.id, i.title, i.level, i.status, ensure_utc(i.opened_at))
            for i in session.scalars(
                select(Incident)
                .join(IncidentEvent, IncidentEvent.incident_id == Incident.id)
                .where(IncidentEvent.event_id == ev.id)
                .order_by(Incident.id)
            )
        ]
    return facts


# --- review facts ----------------------------------------------------------------------------------------


@dataclass
class ReviewFacts:
    doc: Any  # yuqing.incidents.review.ReviewDocument
    organisation: str
    summary: str
    deadlines: list[tuple[str, datetime, datetime | None]]  # kind, due, met
    events: list[tuple[int, str, str | None, int]]  # id, title, level, mentions
    decisions: list[tuple[datetime, str, str, str]]  # at, actor, assessment, strategy


def gather_review(ctx: AppContext, incident_id: int) -> ReviewFacts:
    from yuqing.events.models import Event
    from yuqing.incidents import service as incidents
    from yuqing.incidents.models import Decision, Incident, IncidentDeadline, IncidentEvent

    doc = incidents.review_document(ctx, incident_id)
    with ctx.db.session() as session:
        inc = session.get(Incident, incident_id)
        if inc is None:
            raise NotFound(f"应急事件不存在 / incident {incident_id} not found")
        deadlines = [
            (d.kind, ensure_utc(d.due_at), ensure_utc(d.met_at) if d.met_at else None)
            for d in session.scalars(
                select(IncidentDeadline)
                .where(IncidentDeadline.incident_id == incident_id)
                .order_by(IncidentDeadline.due_at)
            )
        ]
        event_ids = list(
            session.scalars(select(IncidentEvent.event_id).where(IncidentEvent.incident_id == incident_id))
        )
        events = [
            (e.id, e.title, e.level, e.mention_count)
            for e in session.scalars(select(Event).where(Event.id.in_(event_ids)).order_by(Event.id))
        ]
        decisions = [
            (ensure_utc(d.at), d.actor, d.assessment, d.strategy)
            for d in session.scalars(
                select(Decision).where(Decision.incident_id == incident_id).order_by(Decision.at)
            )
        ]
        return ReviewFacts(
            doc=doc,
            organisation=organisation_name(ctx, session),
            summary=inc.summary or "",
            deadlines=deadlines,
            events=events,
            decisions=decisions,
        )
