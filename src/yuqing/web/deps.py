"""FastAPI dependencies: the context, the calling principal, role checks (with CSRF for sessions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from yuqing.core.context import AppContext
from yuqing.errors import AuthenticationRequired, PermissionDenied
from yuqing.web import auth
from yuqing.web.auth import PERMISSIONS, Principal
from yuqing.web.problems import CsrfFailed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_principal(request: Request) -> Principal | None:
    """The caller from a bearer token or a session cookie, or None; cached on the request."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    ctx = get_ctx(request)
    principal: Principal | None = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = auth.token_principal(ctx, header[7:].strip())
    else:
        cookie = request.cookies.get(auth.SESSION_COOKIE)
        key = auth.unsign_session(ctx, cookie) if cookie else None
        if key:
            principal = auth.session_principal(ctx, key)
    request.state.principal = principal
    return principal


async def _csrf_value(request: Request) -> str | None:
    value = request.headers.get(auth.CSRF_HEADER)
    if value:
        return value
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        field = form.get(auth.CSRF_FIELD)
        return field if isinstance(field, str) else None
    return None


def require_role(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: 401 without a principal, 403 without one of ``roles``; CSRF on unsafe session calls."""
    wanted = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        principal = await run_in_threadpool(optional_principal, request)
        if principal is None:
            raise AuthenticationRequired("需要登录 / authentication required")
        if request.method not in SAFE_METHODS and principal.session_key is not None:
            presented = await _csrf_value(request)
            if not auth.csrf_ok(get_ctx(request), principal.session_key, presented):
                raise CsrfFailed("CSRF 校验失败 / CSRF token missing or wrong")
        if not (principal.roles & wanted):
            raise PermissionDenied("无权限 / your role does not allow this")
        return principal

    dependency.required_roles = wanted  # type: ignore[attr-defined]
    return dependency


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """``require_role`` for the roles holding ``permission`` (see ``auth.PERMISSIONS``)."""
    return require_role(*PERMISSIONS[permission])


def authenticated() -> Callable[[Request], Awaitable[Principal]]:
    """Any logged-in principal, whatever its roles (own profile, logout)."""

    async def dependency(request: Request) -> Principal:
        principal = await run_in_threadpool(optional_principal, request)
        if principal is None:
            raise AuthenticationRequired("需要登录 / authentication required")
        if request.method not in SAFE_METHODS and principal.session_key is not None:
            presented = await _csrf_value(request)
            if not auth.csrf_ok(get_ctx(request), principal.session_key, presented):
                raise CsrfFailed("CSRF 校验失败 / CSRF token missing or wrong")
        return principal

    return dependency


Reader = Depends(require("read"))
