"""Event pages: the list and one event (volume chart, platforms, sources, authors, samples, levels)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.events.models import Event
from yuqing.web import domain_view
from yuqing.web.api.common import BigIdPath
from yuqing.web.api.events import event_detail
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    level: str | None = Query(None, pattern="^(I|II|III|IV)$"),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("read")),
) -> Response:
    with ctx.db.session() as s:
        stmt = select(Event).where(Event.status != "merged").order_by(Event.last_seen.desc()).limit(100)
        if level:
            stmt = stmt.where(Event.level == level)
        events = list(s.scalars(stmt))
    return render(request, "events.html", p, events=events, level=level, extra_nav=domain_view.nav())


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request,
    event_id: BigIdPath,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("read")),
) -> Response:
    ev = event_detail(ctx, event_id)
    tz = ZoneInfo(ctx.settings.timezone)
    chart = {
        "buckets": [h.astimezone(tz).strftime("%m-%d %H:00") for h in ev.hours],
        "counts": ev.counts,
    }
    return render(
        request,
        "event.html",
        p,
        ev=ev,
        chart_json=json.dumps(chart, ensure_ascii=False),
        extra_nav=domain_view.nav(),
    )
