"""Login and logout over the API (session cookie + CSRF token), and the caller's own profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from yuqing.core.context import AppContext
from yuqing.web import auth
from yuqing.web.auth import Principal
from yuqing.web.deps import authenticated, client_ip, get_ctx

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=500)


class MeOut(BaseModel):
    kind: str
    name: str
    roles: list[str]
    csrf_token: str | None = None


def set_session_cookie(ctx: AppContext, response: Response, key: str) -> None:
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.sign_session(ctx, key),
        max_age=int(ctx.settings.web.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=ctx.settings.web.cookie_secure,
        path="/",
    )


def _me(ctx: AppContext, p: Principal) -> MeOut:
    csrf = auth.csrf_token(ctx, p.session_key) if p.session_key else None
    return MeOut(kind=p.kind, name=p.name, roles=sorted(p.roles), csrf_token=csrf)


@router.post("/login", response_model=MeOut, summary="Log in; sets the session cookie (public)")
def api_login(
    body: LoginIn, request: Request, response: Response, ctx: AppContext = Depends(get_ctx)
) -> MeOut:
    user, key = auth.login(ctx, body.username, body.password, client_ip(request))
    set_session_cookie(ctx, response, key)
    p = Principal(kind="user", id=user.id, name=user.username, roles=frozenset(user.roles), session_key=key)
    request.state.principal = p
    return _me(ctx, p)


@router.post("/logout", status_code=204, summary="End the session")
def api_logout(
    request: Request, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(authenticated())
) -> Response:
    if p.session_key:
        auth.logout(ctx, p.session_key)
    response = Response(status_code=204)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut, summary="Who am I (and my CSRF token)")
def api_me(ctx: AppContext = Depends(get_ctx), p: Principal = Depends(authenticated())) -> MeOut:
    return _me(ctx, p)
