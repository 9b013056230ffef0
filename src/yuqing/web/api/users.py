"""Users, API tokens and the audit log (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.web import auth
from yuqing.web.api.common import IdPath, get_or_404, page_by_id
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.models import ApiToken, AuditLog, User
from yuqing.web.pagination import Page

router = APIRouter(tags=["users"])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    roles: list[str]
    person_key: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=500)
    roles: list[str] = []
    display_name: str = Field("", max_length=200)
    person_key: str | None = Field(None, max_length=100)


class UserPatch(BaseModel):
    roles: list[str] | None = None
    is_active: bool | None = None
    display_name: str | None = Field(None, max_length=200)
    person_key: str | None = Field(None, max_length=100)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    roles: list[str]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1)
    expires_at: datetime | None = None


class TokenCreated(TokenOut):
    token: str  # shown once


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    actor_kind: str
    action: str
    method: str | None
    path: str | None
    status: int | None
    ip: str | None
    detail: dict[str, Any]


@router.get("/users", response_model=Page[UserOut], summary="List users")
def list_users(
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = None,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("users.admin")),
) -> Page[UserOut]:
    with ctx.db.session() as s:
        rows, nxt = page_by_id(ctx, s, select(User), User.id, "users", limit, cursor)
        return Page[UserOut](items=[UserOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user")
def create_user(
    body: UserIn, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("users.admin"))
) -> UserOut:
    user = auth.add_user(ctx, body.username, body.password, body.roles, body.display_name, body.person_key)
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut, summary="One user")
def get_user(
    user_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("users.admin"))
) -> UserOut:
    with ctx.db.session() as s:
        return UserOut.model_validate(get_or_404(s, User, user_id, "用户 user"))


@router.patch("/users/{user_id}", response_model=UserOut, summary="Change roles / disable a user")
def patch_user(
    user_id: IdPath,
    body: UserPatch,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("users.admin")),
) -> UserOut:
    with ctx.db.session() as s:
        user = get_or_404(s, User, user_id, "用户 user")
        if body.roles is not None:
            user.roles = auth.check_roles(body.roles)
        if body.is_active is not None:
            user.is_active = body.is_active
        if body.display_name is not None:
            user.display_name = body.display_name
        if body.person_key is not None:
            user.person_key = body.person_key or None
        s.flush()
        return UserOut.model_validate(user)


@router.get("/tokens", response_model=Page[TokenOut], summary="List API tokens")
def list_tokens(
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = None,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("users.admin")),
) -> Page[TokenOut]:
    with ctx.db.session() as s:
        rows, nxt = page_by_id(ctx, s, select(ApiToken), ApiToken.id, "tokens", limit, cursor)
        return Page[TokenOut](items=[TokenOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Create an API token")
def create_token(
    body: TokenIn, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(require("users.admin"))
) -> TokenCreated:
    tok, secret = auth.add_token(ctx, body.name, body.roles, created_by=p.label, expires_at=body.expires_at)
    return TokenCreated(**TokenOut.model_validate(tok).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def delete_token(
    token_id: IdPath, ctx: AppContext = Depends(get_ctx), _p: Principal = Depends(require("users.admin"))
) -> Response:
    auth.revoke_token(ctx, token_id)
    return Response(status_code=204)


@router.get("/audit", response_model=Page[AuditOut], summary="Audit log: who did what")
def list_audit(
    actor: str | None = Query(None, max_length=200),
    action: str | None = Query(None, max_length=100),
    limit: int | None = Query(None, ge=1, le=1000),
    cursor: str | None = None,
    ctx: AppContext = Depends(get_ctx),
    _p: Principal = Depends(require("audit.read")),
) -> Page[AuditOut]:
    with ctx.db.session() as s:
        stmt = select(AuditLog)
        if actor:
            stmt = stmt.where(AuditLog.actor == actor)
        if action:
            stmt = stmt.where(AuditLog.action == action)
        rows, nxt = page_by_id(ctx, s, stmt, AuditLog.id, "audit", limit, cursor)
        return Page[AuditOut](items=[AuditOut.model_validate(r) for r in rows], next_cursor=nxt)
