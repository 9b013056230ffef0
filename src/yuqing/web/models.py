"""Records of the web console: users, API tokens, sessions, login attempts, audit log, search index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy.dialects.postgresql  # noqa: F401  (registers to_tsvector for the GIN index)
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class User(Base):
    """A local login. Passwords are stored as argon2id hashes only."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    # The org person (yuqing.org) this login acts as in the incidents workflow; default: username.
    person_key: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(5))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for another system. Only a SHA-256 of the secret is kept."""

    __tablename__ = "web_api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A browser login session; the cookie carries the signed id, the table its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ip: Mapped[str | None] = mapped_column(String(100))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    """Every login try, for throttling and the audit trail."""

    __tablename__ = "web_login_attempts"
    __table_args__ = (Index("ix_web_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(100), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    """Who did what: every unsafe request, every login and failure."""

    __tablename__ = "web_audit_log"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200), default="anonymous")
    actor_kind: Mapped[str] = mapped_column(String(20), default="anonymous")  # user | token | anonymous
    action: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(10))
    path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)


class MentionSearch(Base):
    """Segmented text of a mention (space-separated tokens); PostgreSQL searches it with a GIN index."""

    __tablename__ = "mention_search"
    __table_args__ = (
        Index(
            "ix_mention_search_tsv",
            func.to_tsvector(text("'simple'::regconfig"), text("tokens")),
            postgresql_using="gin",
        ),
    )

    mention_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    tokens: Mapped[str] = mapped_column(Text, default="")
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MentionTerm(Base):
    """Inverted index (term -> mention) used on SQLite; see docs/web.md for why not FTS5."""

    __tablename__ = "mention_terms"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    mention_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
