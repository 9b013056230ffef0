"""Cursor pagination: opaque cursors signed with the secret key (a tampered cursor is a 400)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel

from yuqing.core.context import AppContext
from yuqing.web.problems import BadRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _serializer(ctx: AppContext) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key.get_secret_value(), salt="yuqing.cursor")


def encode_cursor(ctx: AppContext, kind: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return str(_serializer(ctx).dumps([kind, *plain]))


def decode_cursor(ctx: AppContext, kind: str, cursor: str) -> list[Any]:
    try:
        data = _serializer(ctx).loads(cursor)
    except BadSignature as exc:
        raise BadRequest("分页游标无效 / invalid cursor", code="invalid_cursor") from exc
    if not isinstance(data, list) or not data or data[0] != kind:
        raise BadRequest("分页游标无效 / invalid cursor", code="invalid_cursor")
    return list(data[1:])


def limit_of(ctx: AppContext, limit: int | None) -> int:
    cfg = ctx.settings.web
    if limit is None:
        return cfg.page_size
    return max(1, min(limit, cfg.max_page_size))
