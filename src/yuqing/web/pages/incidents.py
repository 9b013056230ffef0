"""Incident pages: the list and the incident room (deadlines, tasks, decisions, statements, log, timeline).

Buttons post forms (with the session's CSRF token) to the routes below, which call the incidents
service as the user's org person, so its own permission rules decide in the end.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.incidents import service as inc
from yuqing.incidents.coordination import MESSAGE_CHANNELS
from yuqing.incidents.models import CoordinationLog, Incident
from yuqing.web import domain_view
from yuqing.web.api.common import IdPath
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(require("read"))
) -> Response:
    with ctx.db.session() as s:
        incidents = list(s.scalars(select(Incident).order_by(Incident.id.desc()).limit(100)))
    return render(request, "incidents.html", p, incidents=incidents, extra_nav=domain_view.nav())


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_room(
    request: Request,
    incident_id: IdPath,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("read")),
) -> Response:
    view = inc.incident_view(ctx, incident_id)
    bodies = {st["id"]: inc.statement_body(ctx, st["id"]) for st in view["statements"]}
    timeline = inc.get_timeline(ctx, incident_id)
    with ctx.db.session() as s:
        log = list(
            s.scalars(
                select(CoordinationLog)
                .where(CoordinationLog.incident_id == incident_id)
                .order_by(CoordinationLog.at.desc())
                .limit(100)
            )
        )
    return render(
        request,
        "incident.html",
        p,
        inc=view,
        bodies=bodies,
        timeline=timeline,
        log=log,
        channels=MESSAGE_CHANNELS,
        extra_nav=domain_view.nav(),
    )


def _back(incident_id: IdPath, anchor: str = "") -> Response:
    return RedirectResponse(f"/incidents/{incident_id}{anchor}", status_code=303)


@router.post("/incidents/{incident_id}/statements/{statement_id}/approve")
def approve(
    incident_id: IdPath,
    statement_id: IdPath,
    decision: str = Form("approve", max_length=10),
    comment: str = Form("", max_length=5000),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("statements.approve")),
) -> Response:
    inc.approve_statement(ctx, statement_id, actor=p.actor, reject=decision == "reject", comment=comment)
    return _back(incident_id, "#statements")


@router.post("/incidents/{incident_id}/statements/{statement_id}/publish")
def publish(
    incident_id: IdPath,
    statement_id: IdPath,
    channel: str = Form(..., min_length=1, max_length=100),
    link: str = Form("", max_length=2000),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("statements.publish")),
) -> Response:
    from yuqing.errors import ValidationError
    from yuqing.web.safety import safe_url

    if link and safe_url(link) is None:
        raise ValidationError("链接须为 http(s) 地址 / the link must be an http(s) URL")
    inc.publish_statement(ctx, statement_id, actor=p.actor, channel=channel, link=link or None)
    return _back(incident_id, "#statements")


@router.post("/incidents/{incident_id}/coordination")
def coordinate(
    incident_id: IdPath,
    message: str = Form(..., min_length=1, max_length=10_000),
    channel: str = Form("meeting", max_length=30),
    audience: str = Form("", max_length=300),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("tasks.write")),
) -> Response:
    inc.log_coordination(ctx, incident_id, actor=p.actor, message=message, channel=channel, audience=audience)
    return _back(incident_id, "#coordination")


@router.post("/incidents/{incident_id}/transition")
def transition(
    incident_id: IdPath,
    to_state: str = Form(..., min_length=1, max_length=20),
    reason: str = Form("", max_length=2000),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("incidents.write")),
) -> Response:
    inc.transition(ctx, incident_id, to_state, actor=p.actor, reason=reason)
    return _back(incident_id)


@router.post("/incidents/{incident_id}/statements")
def draft(
    incident_id: IdPath,
    kind: str = Form(..., max_length=30),
    lang: str = Form("zh", max_length=5),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("statements.draft")),
) -> Response:
    inc.draft_statement(ctx, incident_id, actor=p.actor, kind=kind, lang=lang)
    return _back(incident_id, "#statements")


@router.post("/incidents/{incident_id}/tasks/{task_id}/done")
def task_done(
    incident_id: IdPath,
    task_id: IdPath,
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("tasks.write")),
) -> Response:
    inc.update_task(ctx, task_id, actor=p.actor, status="done")
    return _back(incident_id, "#tasks")
