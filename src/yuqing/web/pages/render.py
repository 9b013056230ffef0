"""Template rendering: one autoescaping Jinja2 environment, language and CSRF in every page."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from yuqing.core.context import AppContext
from yuqing.web import auth, i18n
from yuqing.web.auth import Principal
from yuqing.web.safety import safe_url

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    return env


def request_lang(request: Request, principal: Principal | None = None) -> str:
    ctx: AppContext = request.app.state.ctx
    default: str = ctx.settings.language
    if principal is not None and principal.language:
        default = principal.language
    return i18n.normalise_lang(
        request.query_params.get("lang") or request.cookies.get(auth.LANG_COOKIE), default
    )


def render(
    request: Request, name: str, principal: Principal | None = None, status_code: int = 200, **data: Any
) -> HTMLResponse:
    ctx: AppContext = request.app.state.ctx
    lang = request_lang(request, principal)
    tz = ZoneInfo(ctx.settings.timezone)

    def t(key: str) -> str:
        return i18n.translate(key, lang)

    def code(value: str | None) -> str:
        return i18n.code_label(value, lang)

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else ""

    csrf = auth.csrf_token(ctx, principal.session_key) if principal and principal.session_key else ""
    html = (
        environment()
        .get_template(name)
        .render(
            t=t,
            code=code,
            lang=lang,
            local=local,
            principal=principal,
            csrf=csrf,
            path=request.url.path,
            can=(lambda perm: principal.can(perm)) if principal else (lambda perm: False),
            now=ctx.clock.now(),
            **data,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def render_error(request: Request, status: int, code: str, detail: str) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    return render(
        request, "error.html", principal, status_code=status, status=status, code=code, detail=detail
    )
