"""Core pages: login/logout, language switch, overview, mention stream; health check."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.sources.models import Source, Target
from yuqing.web import auth, domain_view
from yuqing.web.api.auth import set_session_cookie
from yuqing.web.api.common import MAX_ID
from yuqing.web.auth import InvalidCredentials, Principal, TooManyAttempts
from yuqing.web.deps import authenticated, client_ip, get_ctx, require
from yuqing.web.pages.render import render
from yuqing.web.queries import MentionFilters, list_mentions

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "yq_login_csrf"


def safe_next(value: str | None) -> str:
    """Only local paths: never an absolute or protocol-relative URL (open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/lang/{code}")
def switch_lang(code: str, next: str | None = None) -> Response:
    lang = code if code in ("zh", "en") else "zh"
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(auth.LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


def _login_page(
    request: Request, next_path: str, error: str | None = None, username: str = "", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(
        request,
        "login.html",
        None,
        status_code=status,
        login_csrf=token,
        next=next_path,
        error=error,
        username=username,
    )
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login")
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_page(request, safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    username: str = Form(..., max_length=100),
    password: str = Form(..., max_length=500),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, safe_next(next), "login.failed", username, status=403)
    try:
        _user, key = auth.login(ctx, username, password, client_ip(request))
    except TooManyAttempts:
        return _login_page(request, safe_next(next), "login.throttled", username, status=429)
    except InvalidCredentials:
        return _login_page(request, safe_next(next), "login.failed", username, status=401)
    resp = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(ctx, resp, key)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout_submit(ctx: AppContext = Depends(get_ctx), p: Principal = Depends(authenticated())) -> Response:
    if p.session_key:
        auth.logout(ctx, p.session_key)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(auth.SESSION_COOKIE, path="/")
    return resp


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    days: int = Query(7, ge=1, le=90),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("read")),
) -> Response:
    with ctx.db.session() as s:
        summary = domain_view.summary(ctx, s, days)
        alerts = domain_view.open_alerts(s, limit=10)
        incidents = domain_view.open_incidents(s, limit=10)
    return render(
        request,
        "overview.html",
        p,
        summary=summary,
        alerts=alerts,
        incidents=incidents,
        days=days,
        extra_nav=domain_view.nav(),
    )


def _parse_day(value: str | None, tz: ZoneInfo, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    when = datetime.combine(day, time(0), tzinfo=tz)
    return when + timedelta(days=1) if end else when


@router.get("/mentions", response_class=HTMLResponse)
def mentions_page(
    request: Request,
    q: str | None = Query(None, max_length=200),
    target: str | None = Query(None, max_length=20),
    platform: str | None = Query(None, max_length=100),
    sentiment: str | None = Query(None, max_length=20),
    since: str | None = Query(None, max_length=10),
    until: str | None = Query(None, max_length=10),
    cursor: str | None = Query(None, max_length=500),
    ctx: AppContext = Depends(get_ctx),
    p: Principal = Depends(require("read")),
) -> Response:
    tz = ZoneInfo(ctx.settings.timezone)
    f = MentionFilters(
        target_id=int(target) if target and target.isdigit() and 0 < int(target) <= MAX_ID else None,
        platform=platform or None,
        sentiment=sentiment if sentiment in ("negative", "neutral", "positive") else None,
        since=_parse_day(since, tz),
        until=_parse_day(until, tz, end=True),
        q=(q or "").strip() or None,
    )
    rows, nxt = list_mentions(ctx, f, None, cursor)
    with ctx.db.session() as s:
        targets = list(s.execute(select(Target.id, Target.name).order_by(Target.name)).all())
        platforms = list(s.scalars(select(Source.platform).distinct().order_by(Source.platform).limit(50)))
    params: dict[str, Any] = {
        k: v for k, v in {"q": q, "target": target, "platform": platform, "sentiment": sentiment}.items() if v
    }
    if since:
        params["since"] = since
    if until:
        params["until"] = until
    next_href = "/mentions?" + urlencode({**params, "cursor": nxt}) if nxt else None
    return render(
        request,
        "mentions.html",
        p,
        rows=rows,
        f=f,
        targets=targets,
        platforms=platforms,
        since_value=since or "",
        until_value=until or "",
        next_cursor=nxt,
        next_href=next_href,
        extra_nav=domain_view.nav(),
    )
