"""Alerts: list, detail, acknowledge (through the alerts service)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from yuqing.alerts import service as alerts_service
from yuqing.alerts.models import Alert
from yuqing.core.context import AppContext
from yuqing.web.api.common import IdPath, get_or_404, page_by_id
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pagination import Page

router = APIRouter(tags=["alerts"])


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    title: str
    level: str | None
    reasons: list[str]
    subject_type: str
    subject_id: int
    status: str
    raised_at: datetime
    updated_at: datetime
    first_notified_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    ack_via: str | None


@router.get("/alerts", response_model=Page[AlertOut], summary="Alerts, newest first")
def list_alerts(
    status: str | None = Query(None, max_length=20, description="open | acked | ..."),
    level: str | None = Query(None, pattern="^(I|II|III|IV)$"),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("read")),
) -> Page[AlertOut]:
    with ctx.db.session() as s:
        stmt = select(Alert)
        if status:
            stmt = stmt.where(Alert.status == status)
        if level:
            stmt = stmt.where(Alert.level == level)
        rows, nxt = page_by_id(ctx, s, stmt, Alert.id, "alerts", limit, cursor)
        return Page[AlertOut](items=[AlertOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert")
def get_alert(
    alert_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("read"))
) -> AlertOut:
    with ctx.db.session() as s:
        return AlertOut.model_validate(get_or_404(s, Alert, alert_id, "预警 alert"))


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge an alert")
def ack_alert(
    alert_id: IdPath, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(require("alerts.ack"))
) -> AlertOut:
    alert = alerts_service.acknowledge(ctx, alert_id, by=p.actor, via="web")
    return AlertOut.model_validate(alert)
