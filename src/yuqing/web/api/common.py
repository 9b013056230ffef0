"""Shared API helpers: 404s and keyset pagination by id."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Path
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from yuqing.core.context import AppContext
from yuqing.errors import NotFound
from yuqing.web.pagination import decode_cursor, encode_cursor, limit_of

M = TypeVar("M")

# Ids beyond the column's integer type cannot exist (and would be a database error, not a 404).
MAX_ID = 2**31 - 1  # INTEGER primary keys
MAX_BIG_ID = 2**63 - 1  # BIGINT primary keys (mentions, events)
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
BigIdPath = Annotated[int, Path(ge=1, le=MAX_BIG_ID)]


def get_or_404(s: Session, model: type[M], ident: int, what: str) -> M:
    obj = s.get(model, ident)
    if obj is None:
        raise NotFound(f"{what}不存在 / no such {what}: {ident}")
    return obj


def page_by_id(
    ctx: AppContext,
    s: Session,
    stmt: Select[Any],
    id_col: InstrumentedAttribute[int],
    kind: str,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Newest first by id; the cursor holds the last id seen."""
    n = limit_of(ctx, limit)
    if cursor:
        (last,) = decode_cursor(ctx, kind, cursor)
        stmt = stmt.where(id_col < int(last))
    rows = list(s.scalars(stmt.order_by(id_col.desc()).limit(n + 1)))
    more = len(rows) > n
    rows = rows[:n]
    nxt = encode_cursor(ctx, kind, [getattr(rows[-1], id_col.key)]) if more and rows else None
    return rows, nxt
