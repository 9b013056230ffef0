"""Authentication and authorisation: users, roles, sessions, CSRF, login throttling, API tokens.

- Passwords: argon2id (``argon2-cffi``), rehashed on login when parameters change.
- Browser sessions: a random key in a cookie signed with ``settings.secret_key`` (HttpOnly,
  SameSite=Lax, Secure configurable); the table keeps only its SHA-256, so a database leak
  yields no live session. Logout and password changes revoke sessions.
- CSRF: every unsafe request made with a session cookie carries ``X-CSRF-Token`` (or the form
  field ``csrf_token``) equal to an HMAC of the session key; bearer-token calls need none.
- API tokens: ``yq_<prefix>_<secret>``; only SHA-256 of the whole token is stored.
- Throttling: failed logins per user name and per address within a window -> 429.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yuqing.core.context import AppContext
from yuqing.errors import Conflict, NotFound, ValidationError, YuqingError
from yuqing.web.models import ApiToken, AuditLog, LoginAttempt, User, WebSession

ROLES = ("admin", "monitor", "responder", "approver", "manager", "logistics", "viewer")
ROLE_NAMES_ZH = {
    "admin": "系统管理员",
    "monitor": "监测小组",
    "responder": "应急响应小组",
    "approver": "审批人",
    "manager": "应急管理小组",
    "logistics": "后勤保障组",
    "viewer": "只读",
}

# Who may do what. ``read`` covers every GET over monitoring data.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": ROLES,
    "sources.write": ("admin", "monitor"),
    "targets.write": ("admin", "monitor"),
    "quarantine.write": ("admin", "monitor"),
    "alerts.ack": ("admin", "monitor", "responder", "approver", "manager"),
    "events.write": ("admin", "monitor", "manager"),
    "incidents.write": ("admin", "manager", "responder"),
    "tasks.write": ("admin", "manager", "responder", "logistics"),
    "statements.draft": ("admin", "responder"),
    "statements.approve": ("admin", "approver", "manager"),
    "statements.publish": ("admin", "responder", "manager"),
    "resources.write": ("admin", "logistics"),
    "reviews.write": ("admin", "manager"),
    "users.admin": ("admin",),
    "audit.read": ("admin",),
}

SESSION_COOKIE = "yq_session"
LANG_COOKIE = "yq_lang"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOKEN_PREFIX = "yq_"  # noqa: S105 (a label, not a secret)

_hasher = PasswordHasher()


@functools.cache
def _hasher_with(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@functools.cache
def _dummy_hash_with(time_cost: int, memory_kib: int) -> str:
    return _hasher_with(time_cost, memory_kib).hash(secrets.token_urlsafe(16))


def _dummy_hash(ctx: AppContext) -> str:
    return _dummy_hash_with(ctx.settings.web.argon2_time_cost, ctx.settings.web.argon2_memory_kib)


def hasher(ctx: AppContext) -> PasswordHasher:
    """The argon2id hasher for new hashes (verification reads the parameters from the hash)."""
    cfg = ctx.settings.web
    return _hasher_with(cfg.argon2_time_cost, cfg.argon2_memory_kib)


class TooManyAttempts(YuqingError):
    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidCredentials(YuqingError):
    code = "invalid_credentials"
    http_status = 401


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (via a session) or a system (via an API token)."""

    kind: str  # user | token
    id: int
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    session_key: str | None = None  # set for cookie sessions (CSRF applies)
    language: str | None = None
    person_key: str | None = None  # org person this login acts as (incidents workflow)

    def can(self, permission: str) -> bool:
        return bool(self.roles & set(PERMISSIONS[permission]))

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def actor(self) -> str:
        """The org person key the incidents service checks its own permission rules against."""
        if self.person_key:
            return self.person_key
        return self.name if self.kind == "user" else f"token:{self.name}"


def check_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValidationError(f"未知角色 / unknown role(s): {', '.join(bad)}; known: {', '.join(ROLES)}")
    return sorted(set(roles), key=ROLES.index)


def check_password(password: str) -> None:
    if len(password) < 8:
        raise ValidationError("密码至少 8 个字符 / password must have at least 8 characters")


def hash_password(password: str, ph: PasswordHasher = _hasher) -> str:
    return ph.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _secret(ctx: AppContext) -> str:
    return ctx.settings.secret_key.get_secret_value()


# --- users ---------------------------------------------------------------------------------


def add_user(
    ctx: AppContext,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    person_key: str | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 100:
        raise ValidationError("用户名无效 / invalid user name")
    check_password(password)
    roles = check_roles(roles)
    now = ctx.clock.now()
    with ctx.db.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"用户已存在 / user already exists: {username}")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password, hasher(ctx)),
            roles=roles,
            person_key=person_key or None,
            is_active=True,
            created_at=now,
            password_changed_at=now,
        )
        s.add(user)
        s.flush()
        s.add(
            AuditLog(
                at=now, actor="cli", actor_kind="system", action="user.create", detail={"user": username}
            )
        )
    return user


def get_user(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在 / no such user: {username}")
    return user


def set_password(ctx: AppContext, username: str, password: str) -> None:
    check_password(password)
    now = ctx.clock.now()
    with ctx.db.session() as s:
        user = get_user(s, username)
        user.password_hash = hash_password(password, hasher(ctx))
        user.password_changed_at = now
        s.execute(update(WebSession).where(WebSession.user_id == user.id).values(revoked=True))
        s.add(
            AuditLog(
                at=now, actor="cli", actor_kind="system", action="user.passwd", detail={"user": username}
            )
        )


def set_roles(ctx: AppContext, username: str, roles: list[str]) -> list[str]:
    roles = check_roles(roles)
    with ctx.db.session() as s:
        user = get_user(s, username)
        user.roles = roles
        s.add(
            AuditLog(
                at=ctx.clock.now(),
                actor="cli",
                actor_kind="system",
                action="user.roles",
                detail={"user": username, "roles": roles},
            )
        )
    return roles


# --- login, sessions -------------------------------------------------------------------------


def _throttle(ctx: AppContext, s: Session, username: str, ip: str | None, now: datetime) -> None:
    cfg = ctx.settings.web
    since = now - timedelta(seconds=cfg.login_window_s)
    by_user = s.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    )
    by_ip = 0
    if ip:
        by_ip = (
            s.scalar(
                select(func.count())
                .select_from(LoginAttempt)
                .where(LoginAttempt.ip == ip, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
            )
            or 0
        )
    if (by_user or 0) >= cfg.login_max_failures or by_ip >= cfg.login_max_failures_ip:
        raise TooManyAttempts(
            "登录失败次数过多，请稍后再试 / too many failed logins, try again later",
            retry_after=cfg.login_window_s,
        )


def login(ctx: AppContext, username: str, password: str, ip: str | None) -> tuple[User, str]:
    """Check the credentials (throttled) and open a session; returns the user and the session key."""
    now = ctx.clock.now()
    username = username.strip()[:100]
    with ctx.db.session() as s:
        _throttle(ctx, s, username, ip, now)
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            verify_password(_dummy_hash(ctx), password)  # same work either way: no user enumeration by timing
        ok = user is not None and user.is_active and verify_password(user.password_hash, password)
        s.add(LoginAttempt(username=username, ip=ip, at=now, success=ok))
        s.add(
            AuditLog(
                at=now,
                actor=f"user:{username}",
                actor_kind="user" if ok else "anonymous",
                action="login" if ok else "login.failed",
                ip=ip,
                status=200 if ok else 401,
            )
        )
        if not ok or user is None:
            s.commit()
            raise InvalidCredentials("用户名或密码错误 / wrong user name or password")
        if hasher(ctx).check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password, hasher(ctx))
        user.last_login_at = now
        key = secrets.token_urlsafe(32)
        s.add(
            WebSession(
                key_hash=_sha256(key),
                user_id=user.id,
                created_at=now,
                expires_at=now + timedelta(hours=ctx.settings.web.session_hours),
                ip=ip,
                revoked=False,
            )
        )
    return user, key


def sign_session(ctx: AppContext, key: str) -> str:
    return TimestampSigner(_secret(ctx), salt="yuqing.session").sign(key).decode("ascii")


def unsign_session(ctx: AppContext, cookie: str) -> str | None:
    try:
        max_age = int(ctx.settings.web.session_hours * 3600)
        return TimestampSigner(_secret(ctx), salt="yuqing.session").unsign(cookie, max_age=max_age).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def csrf_token(ctx: AppContext, session_key: str) -> str:
    return hmac.new(_secret(ctx).encode(), b"csrf:" + session_key.encode(), hashlib.sha256).hexdigest()


def csrf_ok(ctx: AppContext, session_key: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(ctx, session_key), presented or "")


def session_principal(ctx: AppContext, key: str) -> Principal | None:
    now = ctx.clock.now()
    with ctx.db.session() as s:
        row = s.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.key_hash == _sha256(key))
        ).first()
        if row is None:
            return None
        sess, user = row
        if sess.revoked or sess.expires_at <= now or not user.is_active:
            return None
        if sess.created_at < user.password_changed_at:
            return None
        return Principal(
            kind="user",
            id=user.id,
            name=user.username,
            roles=frozenset(user.roles or ()),
            session_key=key,
            language=user.language,
            person_key=user.person_key,
        )


def logout(ctx: AppContext, key: str) -> None:
    with ctx.db.session() as s:
        s.execute(update(WebSession).where(WebSession.key_hash == _sha256(key)).values(revoked=True))


# --- API tokens ------------------------------------------------------------------------------


def add_token(
    ctx: AppContext,
    name: str,
    roles: list[str],
    *,
    created_by: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and never stored."""
    roles = check_roles(roles)
    if not name.strip():
        raise ValidationError("令牌名称不能为空 / token name is required")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = ctx.clock.now()
    with ctx.db.session() as s:
        tok = ApiToken(
            name=name.strip(),
            prefix=prefix,
            token_hash=_sha256(secret),
            roles=roles,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
        s.add(tok)
        s.add(
            AuditLog(
                at=now,
                actor=created_by or "cli",
                actor_kind="system",
                action="token.create",
                detail={"token": tok.name, "prefix": prefix, "roles": roles},
            )
        )
    return tok, secret


def revoke_token(ctx: AppContext, token_id: int) -> None:
    with ctx.db.session() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None:
            raise NotFound(f"令牌不存在 / no such token: {token_id}")
        tok.revoked_at = ctx.clock.now()
        s.add(
            AuditLog(
                at=ctx.clock.now(),
                actor="cli",
                actor_kind="system",
                action="token.revoke",
                detail={"token_id": token_id},
            )
        )


def token_principal(ctx: AppContext, presented: str) -> Principal | None:
    if not presented.startswith(TOKEN_PREFIX) or presented.count("_") < 2:
        return None
    prefix = presented[len(TOKEN_PREFIX) :].split("_", 1)[0]
    now = ctx.clock.now()
    with ctx.db.session() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        if tok is None or not hmac.compare_digest(tok.token_hash, _sha256(presented)):
            return None
        if tok.revoked_at is not None or (tok.expires_at is not None and tok.expires_at <= now):
            return None
        if tok.last_used_at is None or now - tok.last_used_at > timedelta(minutes=1):
            tok.last_used_at = now
        return Principal(kind="token", id=tok.id, name=tok.name, roles=frozenset(tok.roles or ()))


def audit(
    ctx: AppContext,
    action: str,
    principal: Principal | None,
    *,
    method: str | None = None,
    path: str | None = None,
    status: int | None = None,
    ip: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    with ctx.db.session() as s:
        s.add(
            AuditLog(
                at=ctx.clock.now(),
                actor=principal.label if principal else "anonymous",
                actor_kind=principal.kind if principal else "anonymous",
                action=action,
                method=method,
                path=path[:500] if path else None,
                status=status,
                ip=ip,
                detail=detail or {},
            )
        )
