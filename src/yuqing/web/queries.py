"""Read queries shared by the API and the pages (one query per list, keyset pagination)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from yuqing.core.clock import ensure_utc
from yuqing.core.context import AppContext
from yuqing.errors import ValidationError
from yuqing.sources.models import Mention, Source
from yuqing.web import analysis_view, search
from yuqing.web.pagination import decode_cursor, encode_cursor, limit_of


@dataclass(frozen=True)
class MentionFilters:
    target_id: int | None = None
    platform: str | None = None
    sentiment: str | None = None
    source_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


@dataclass(frozen=True)
class MentionRow:
    mention: Mention
    source_name: str | None
    sentiment: str | None
    negative_prob: float | None
    target_ids: tuple[int, ...]


def _filtered(ctx: AppContext, s: Session, f: MentionFilters) -> Any:
    stmt: Any = select(Mention, Source.name)
    stmt = stmt.join(Source, Source.id == Mention.source_id, isouter=True)
    if f.platform:
        stmt = stmt.where(Mention.platform == f.platform)
    if f.source_id is not None:
        stmt = stmt.where(Mention.source_id == f.source_id)
    if f.since is not None:
        stmt = stmt.where(Mention.published_at >= ensure_utc(f.since))
    if f.until is not None:
        stmt = stmt.where(Mention.published_at < ensure_utc(f.until))
    if f.since and f.until and ensure_utc(f.since) >= ensure_utc(f.until):
        raise ValidationError("起始时间须早于截止时间 / since must be before until", code="invalid_range")
    if f.sentiment is not None or f.target_id is not None:
        stmt = analysis_view.filter_mentions(stmt, target_id=f.target_id, sentiment=f.sentiment)
    if f.q:
        stmt = stmt.where(Mention.id.in_(search.search_filter(s, f.q)))
    return stmt


def list_mentions(
    ctx: AppContext, f: MentionFilters, limit: int | None, cursor: str | None
) -> tuple[list[MentionRow], str | None]:
    n = limit_of(ctx, limit)
    if f.q:
        search.query_terms(f.q)  # validate before indexing work
        search.ensure_indexed(ctx)
    with ctx.db.session() as s:
        stmt = _filtered(ctx, s, f)
        if cursor:
            when, last_id = decode_cursor(ctx, "mentions", cursor)
            try:
                at = ensure_utc(datetime.fromisoformat(when))
            except (TypeError, ValueError) as exc:
                from yuqing.web.problems import BadRequest

                raise BadRequest("分页游标无效 / invalid cursor", code="invalid_cursor") from exc
            stmt = stmt.where(
                or_(Mention.published_at < at, and_(Mention.published_at == at, Mention.id < int(last_id)))
            )
        stmt = stmt.order_by(Mention.published_at.desc(), Mention.id.desc()).limit(n + 1)
        rows = s.execute(stmt).all()
        more = len(rows) > n
        rows = rows[:n]
        extra = analysis_view.mention_analysis(s, [m.id for m, _ in rows])
        out = [
            MentionRow(
                mention=m,
                source_name=name,
                sentiment=extra.get(m.id, {}).get("sentiment"),
                negative_prob=extra.get(m.id, {}).get("negative_prob"),
                target_ids=tuple(extra.get(m.id, {}).get("target_ids", ())),
            )
            for m, name in rows
        ]
        nxt = None
        if more and rows:
            last = rows[-1][0]
            nxt = encode_cursor(ctx, "mentions", [last.published_at, last.id])
        return out, nxt
