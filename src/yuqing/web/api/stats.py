"""Figures for the overview charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from yuqing.core.context import AppContext
from yuqing.web import domain_view
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require

router = APIRouter(prefix="/stats", tags=["stats"])


class VolumeOut(BaseModel):
    buckets: list[str]
    series: list[dict[str, Any]]
    negative_share: list[float | None]


class LevelsOut(BaseModel):
    levels: dict[str, int]


@router.get("/volume", response_model=VolumeOut, summary="Daily mention volume and negative share")
def volume(
    days: int = Query(7, ge=1, le=90),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> VolumeOut:
    with ctx.db.session() as s:
        return VolumeOut(**domain_view.volume_series(ctx, s, days))


@router.get("/levels", response_model=LevelsOut, summary="Active events by level")
def levels(ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))) -> LevelsOut:
    with ctx.db.session() as s:
        return LevelsOut(levels=domain_view.events_by_level(s))
