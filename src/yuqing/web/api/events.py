"""Events: list, detail (volume, platforms, sources, key authors, sample mentions, level history,
possibly related events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.events.models import Event, EventBucket, EventLevelChange
from yuqing.events.related import load_related
from yuqing.sources.models import Mention, Source
from yuqing.web.api.common import BigIdPath, get_or_404, page_by_id
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pagination import Page
from yuqing.web.safety import safe_url

router = APIRouter(tags=["events"])


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    level: str | None
    level_reasons: list[str]
    status: str
    risk_type: str | None
    keywords: list[str]
    target_ids: list[int]
    platforms: list[str]
    first_seen: datetime
    last_seen: datetime
    mention_count: int
    negative_count: int
    negative_share: float
    unique_authors: int
    reach: float
    velocity: float


class LevelChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    old_level: str | None
    new_level: str
    rule: str | None
    reasons: list[str]
    reasons_en: list[str]
    by: str


class SampleMention(BaseModel):
    id: int
    title: str
    text: str
    platform: str
    author: str | None
    url: str | None
    published_at: datetime


class RelatedOut(BaseModel):
    id: int
    title: str
    level: str | None
    status: str
    mention_count: int
    score: float  # cosine of the TF-IDF-weighted words, 0-1
    shared: list[str]  # the shared words that weigh most


class EventDetail(EventOut):
    level_reasons_en: list[str]
    top_sources: list[dict[str, Any]]
    key_opinion_leaders: list[dict[str, Any]]
    hours: list[datetime]
    counts: list[int]
    negative_counts: list[int]
    level_history: list[LevelChangeOut]
    sample_mentions: list[SampleMention]
    related: list[RelatedOut]


def event_detail(ctx: AppContext, event_id: int) -> EventDetail:
    with ctx.db.session() as s:
        ev = get_or_404(s, Event, event_id, "事件 event")
        buckets = list(
            s.scalars(select(EventBucket).where(EventBucket.event_id == ev.id).order_by(EventBucket.hour))
        )
        changes = list(
            s.scalars(
                select(EventLevelChange)
                .where(EventLevelChange.event_id == ev.id)
                .order_by(EventLevelChange.at)
            )
        )
        ids = [int(i) for i in (ev.top_mention_ids or [])][:10]
        mentions = {m.id: m for m in s.scalars(select(Mention).where(Mention.id.in_(ids)))} if ids else {}
        samples = [
            SampleMention(
                id=m.id,
                title=m.title or "",
                text=(m.text or "")[:500],
                platform=m.platform,
                author=m.author,
                url=safe_url(m.url),
                published_at=m.published_at,
            )
            for i in ids
            if (m := mentions.get(i)) is not None
        ]
        top_sources = [dict(x) for x in (ev.top_sources or []) if isinstance(x, dict)]
        src_ids = [int(x["source_id"]) for x in top_sources if isinstance(x.get("source_id"), int)]
        if src_ids:
            names: dict[Any, str] = dict(
                s.execute(select(Source.id, Source.name).where(Source.id.in_(src_ids))).all()
            )
            for x in top_sources:
                x.setdefault("name", names.get(x.get("source_id")))
        related = [
            RelatedOut(
                id=e.id,
                title=e.title,
                level=e.level,
                status=e.status,
                mention_count=e.mention_count,
                score=r.score,
                shared=list(r.shared),
            )
            for r, e in load_related(s, ev.id)
        ]
        base = EventOut.model_validate(ev).model_dump()
        return EventDetail(
            **base,
            level_reasons_en=list(ev.level_reasons_en or []),
            top_sources=top_sources,
            key_opinion_leaders=list(ev.key_opinion_leaders or []),
            hours=[b.hour for b in buckets],
            counts=[b.count for b in buckets],
            negative_counts=[b.negative_count for b in buckets],
            level_history=[LevelChangeOut.model_validate(c) for c in changes],
            sample_mentions=samples,
            related=related,
        )


@router.get("/events", response_model=Page[EventOut], summary="Events, newest first")
def list_events(
    level: str | None = Query(None, pattern="^(I|II|III|IV)$"),
    status: str | None = Query(None, max_length=20),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[EventOut]:
    with ctx.db.session() as s:
        stmt = select(Event)
        if level:
            stmt = stmt.where(Event.level == level)
        stmt = stmt.where(Event.status == status) if status else stmt.where(Event.status != "merged")
        rows, nxt = page_by_id(ctx, s, stmt, Event.id, "events", limit, cursor)
        return Page[EventOut](items=[EventOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/events/{event_id}", response_model=EventDetail, summary="One event with its history")
def get_event(
    event_id: BigIdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> EventDetail:
    return event_detail(ctx, event_id)
