"""Sources, watch targets and the quarantine (read; a few switches for the monitoring group)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.sources.models import Quarantine, Source, Target
from yuqing.web.api.common import IdPath, get_or_404, page_by_id
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pagination import Page

router = APIRouter(tags=["sources"])


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    platform: str
    tier: str
    enabled: bool
    poll_interval_s: int
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_total: int
    created_at: datetime


class SourcePatch(BaseModel):
    enabled: bool | None = None
    poll_interval_s: int | None = None


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    aliases: list[str]
    executives: list[str]
    products: list[str]
    is_own: bool
    enabled: bool


class QuarantineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    source_id: int | None
    raw_item_id: int | None
    stage: str
    reason: str
    error: str
    status: str
    created_at: datetime
    attempts: int
    payload: dict[str, Any] | None = None


@router.get("/sources", response_model=Page[SourceOut], summary="List sources and their health")
def list_sources(
    enabled: bool | None = None,
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = None,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[SourceOut]:
    with ctx.db.session() as s:
        stmt = select(Source)
        if enabled is not None:
            stmt = stmt.where(Source.enabled.is_(enabled))
        rows, nxt = page_by_id(ctx, s, stmt, Source.id, "sources", limit, cursor)
        return Page[SourceOut](items=[SourceOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/sources/{source_id}", response_model=SourceOut, summary="One source")
def get_source(
    source_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> SourceOut:
    with ctx.db.session() as s:
        return SourceOut.model_validate(get_or_404(s, Source, source_id, "信息源 source"))


@router.patch("/sources/{source_id}", response_model=SourceOut, summary="Enable/disable a source")
def patch_source(
    source_id: IdPath,
    body: SourcePatch,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("sources.write")),
) -> SourceOut:
    with ctx.db.session() as s:
        src = get_or_404(s, Source, source_id, "信息源 source")
        if body.enabled is not None:
            src.enabled = body.enabled
        if body.poll_interval_s is not None:
            from yuqing.errors import ValidationError

            if body.poll_interval_s < 10:
                raise ValidationError("轮询间隔至少 10 秒 / poll interval must be >= 10 s")
            src.poll_interval_s = body.poll_interval_s
        s.flush()
        return SourceOut.model_validate(src)


@router.get("/targets", response_model=Page[TargetOut], summary="Watch targets")
def list_targets(
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = None,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[TargetOut]:
    with ctx.db.session() as s:
        rows, nxt = page_by_id(ctx, s, select(Target), Target.id, "targets", limit, cursor)
        return Page[TargetOut](items=[TargetOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/targets/{target_id}", response_model=TargetOut, summary="One watch target")
def get_target(
    target_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> TargetOut:
    with ctx.db.session() as s:
        return TargetOut.model_validate(get_or_404(s, Target, target_id, "监测主体 target"))


@router.get("/quarantine", response_model=Page[QuarantineOut], summary="Rejected input")
def list_quarantine(
    status: str | None = Query(None, max_length=20),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = None,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[QuarantineOut]:
    with ctx.db.session() as s:
        stmt = select(Quarantine)
        if status:
            stmt = stmt.where(Quarantine.status == status)
        rows, nxt = page_by_id(ctx, s, stmt, Quarantine.id, "quarantine", limit, cursor)
        return Page[QuarantineOut](items=[QuarantineOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/quarantine/{item_id}", response_model=QuarantineOut, summary="One quarantined item")
def get_quarantine(
    item_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> QuarantineOut:
    with ctx.db.session() as s:
        return QuarantineOut.model_validate(get_or_404(s, Quarantine, item_id, "隔离项 quarantine item"))


class ReplayOut(BaseModel):
    quarantine_id: int
    status: str
    error: str | None


@router.post("/quarantine/{item_id}/replay", response_model=ReplayOut, summary="Replay a quarantined item")
def replay_quarantine(
    item_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("quarantine.write"))
) -> ReplayOut:
    from yuqing.sources.quarantine import replay

    result = replay(ctx, item_id)
    return ReplayOut(quarantine_id=result.quarantine_id, status=result.status, error=result.error)
