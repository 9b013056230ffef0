"""Alert pages: the open list with acknowledge buttons, and the landing page of signed ack links."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from yuqing.alerts import service as alerts_service
from yuqing.alerts.ack import verify_token
from yuqing.alerts.models import Alert
from yuqing.core.context import AppContext
from yuqing.errors import PermissionDenied
from yuqing.web import domain_view
from yuqing.web.api.common import IdPath
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, optional_principal, require
from yuqing.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    status: str = Query("open", max_length=20),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("read")),
) -> Response:
    with ctx.db.session() as s:
        stmt = select(Alert).order_by(Alert.id.desc()).limit(100)
        if status != "all":
            stmt = stmt.where(Alert.status == status)
        alerts = list(s.scalars(stmt))
    return render(request, "alerts.html", p, alerts=alerts, status=status, extra_nav=domain_view.nav())


@router.post("/alerts/{alert_id}/ack")
def alerts_ack(
    alert_id: IdPath, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(require("alerts.ack"))
) -> Response:
    alerts_service.acknowledge(ctx, alert_id, by=p.actor, via="web")
    return RedirectResponse("/alerts", status_code=303)


@router.get("/alerts/ack", response_class=HTMLResponse)
def ack_landing(
    request: Request, token: str = Query("", max_length=2000), ctx: AppContext = Depends(get_ctx)
) -> Response:
    """Where the signed link in an alert message lands: shows the alert; acknowledging is a POST."""
    principal = optional_principal(request)
    try:
        claim = verify_token(ctx.settings.secret_key.get_secret_value(), token, ctx.clock.now())
    except PermissionDenied as exc:
        return render(
            request, "ack.html", principal, status_code=403, alert=None, error=exc.message, token=""
        )
    with ctx.db.session() as s:
        alert = s.get(Alert, claim.alert_id)
    return render(request, "ack.html", principal, alert=alert, person=claim.person, token=token, error=None)


@router.post("/alerts/ack", response_class=HTMLResponse)
def ack_submit(
    request: Request, token: str = Form("", max_length=2000), ctx: AppContext = Depends(get_ctx)
) -> Response:
    """The signed token is the credential (no login needed from a phone); it names the person."""
    principal = optional_principal(request)
    try:
        alert = alerts_service.acknowledge_token(ctx, token)
    except PermissionDenied as exc:
        return render(
            request, "ack.html", principal, status_code=403, alert=None, error=exc.message, token=""
        )
    return render(
        request, "ack.html", principal, alert=alert, person=alert.acked_by, token="", error=None, done=True
    )
