"""Records of the ingest stage: sources, raw payloads, normalised mentions, targets, quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime

# Source tiers, highest first; influence and grading read them.
SOURCE_TIERS = ("central_media", "financial_media", "local_media", "self_media", "personal", "regulator")


class Source(Base):
    """Where mentions come from: a feed, a site, a file export, a vendor webhook."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))  # connector plugin name: rss, web, file, webhook, ...
    url: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(100), default="web")  # weibo, news, forum, complaint ...
    tier: Mapped[str] = mapped_column(String(50), default="personal")
    config: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=600)
    # Fetch state and health
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    items_total: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RawItem(Base):
    """A payload exactly as received, stored before anything parses it."""

    __tablename__ = "raw_items"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(200))
    encoding: Mapped[str | None] = mapped_column(String(50))  # detected charset of ``body``
    http_status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new")  # new, parsed, quarantined


class Target(Base):
    """A watch target (监测主体): the firm, a brand, a product, an executive, a competitor."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50), default="organisation")
    aliases: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    executives: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    products: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    rule: Mapped[str | None] = mapped_column(Text)  # keyword rule (监测方案)
    exclude: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    is_own: Mapped[bool] = mapped_column(Boolean, default=True)  # our firm vs a competitor
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Mention(Base):
    """One article, post, comment or complaint, normalised."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_mentions_published_at", "published_at"),
        Index("ix_mentions_canonical_url", "canonical_url"),
        Index("ix_mentions_content_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    raw_item_id: Mapped[int | None] = mapped_column(ForeignKey("raw_items.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(300))  # the vendor's / platform's item id
    platform: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300))
    author_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reposts: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    lang: Mapped[str] = mapped_column(String(10), default="und")
    content_hash: Mapped[str] = mapped_column(String(64))
    # Near-duplicate grouping: a repost or edited copy points at its original, whose
    # ``dup_count`` and ``dup_reach`` grow instead of a new story being counted.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"), index=True)
    dup_similarity: Mapped[float | None] = mapped_column(Float)
    dup_count: Mapped[int] = mapped_column(Integer, default=0)
    dup_reach: Mapped[int] = mapped_column(BigInteger, default=0)
    extra: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)


class Quarantine(Base):
    """Rejected input with its reason; replayable once the cause is fixed."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    raw_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_items.id", ondelete="SET NULL"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    stage: Mapped[str] = mapped_column(String(50))  # fetch, parse, normalise, analyse, ...
    reason: Mapped[str] = mapped_column(String(100))  # stable code, e.g. malformed_xml
    error: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)  # item-level payload, if any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, replayed, failed, dropped
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replay_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
