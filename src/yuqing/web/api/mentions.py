"""Mentions: filters, Chinese full-text search, cursor pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from yuqing.core.context import AppContext
from yuqing.sources.models import Mention, Source
from yuqing.web import analysis_view
from yuqing.web.api.common import MAX_ID, BigIdPath, get_or_404
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pagination import Page
from yuqing.web.queries import MentionFilters, MentionRow, list_mentions
from yuqing.web.safety import safe_url

router = APIRouter(tags=["mentions"])


class MentionOut(BaseModel):
    id: int
    source_id: int
    source_name: str | None
    platform: str
    url: str | None  # only http(s) links; anything else is dropped
    title: str
    text: str
    author: str | None
    author_followers: int
    published_at: datetime
    ingested_at: datetime
    reposts: int
    comments: int
    likes: int
    lang: str
    duplicate_of_id: int | None
    dup_count: int
    sentiment: str | None = None
    negative_prob: float | None = None
    target_ids: list[int] = []


def to_out(row: MentionRow) -> MentionOut:
    m = row.mention
    return MentionOut(
        id=m.id,
        source_id=m.source_id,
        source_name=row.source_name,
        platform=m.platform,
        url=safe_url(m.url),
        title=m.title or "",
        text=m.text or "",
        author=m.author,
        author_followers=m.author_followers or 0,
        published_at=m.published_at,
        ingested_at=m.ingested_at,
        reposts=m.reposts or 0,
        comments=m.comments or 0,
        likes=m.likes or 0,
        lang=m.lang,
        duplicate_of_id=m.duplicate_of_id,
        dup_count=m.dup_count or 0,
        sentiment=row.sentiment,
        negative_prob=row.negative_prob,
        target_ids=list(row.target_ids),
    )


@router.get("/mentions", response_model=Page[MentionOut], summary="Mention stream with filters and search")
def get_mentions(
    target: int | None = Query(None, ge=1, le=MAX_ID, description="Watch target id"),
    platform: str | None = Query(None, max_length=100),
    sentiment: Literal["negative", "neutral", "positive"] | None = None,
    source: int | None = Query(None, ge=1, le=MAX_ID, description="Source id"),
    since: datetime | None = Query(None, description="Published at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="Published before (ISO 8601)"),
    q: str | None = Query(None, min_length=1, max_length=200, description="Full-text query (Chinese ok)"),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[MentionOut]:
    f = MentionFilters(
        target_id=target,
        platform=platform,
        sentiment=sentiment,
        source_id=source,
        since=since,
        until=until,
        q=q,
    )
    rows, nxt = list_mentions(ctx, f, limit, cursor)
    return Page[MentionOut](items=[to_out(r) for r in rows], next_cursor=nxt)


@router.get("/mentions/{mention_id}", response_model=MentionOut, summary="One mention")
def get_mention(
    mention_id: BigIdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> MentionOut:
    with ctx.db.session() as s:
        m = get_or_404(s, Mention, mention_id, "信息 mention")
        src = s.get(Source, m.source_id)
        extra = analysis_view.mention_analysis(s, [m.id]).get(m.id, {})
        return to_out(
            MentionRow(
                mention=m,
                source_name=src.name if src else None,
                sentiment=extra.get("sentiment"),
                negative_prob=extra.get("negative_prob"),
                target_ids=tuple(extra.get("target_ids", ())),
            )
        )
