"""Records of the events stage: events, their mentions, hourly buckets, level history, signals, corrections.

Mention ids are stored as plain indexed integers (no foreign key into the sources domain) so the
events branch migrates independently; ``EventMention`` keeps the few mention fields the aggregates
and analyst corrections need.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime

EVENT_STATUSES = ("active", "dormant", "archived", "merged")

_BigId = BigInteger().with_variant(Integer, "sqlite")


class Event(Base):
    """A story: the mentions that tell it, with its running metrics and current level."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_last_seen", "status", "last_seen"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    target_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    risk_type: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="active")
    level: Mapped[str | None] = mapped_column(String(4), index=True)
    level_reasons: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    level_reasons_en: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_share: Mapped[float] = mapped_column(Float, default=0.0)
    unique_authors: Mapped[int] = mapped_column(Integer, default=0)
    platforms: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    reach: Mapped[float] = mapped_column(Float, default=0.0)
    velocity: Mapped[float] = mapped_column(Float, default=0.0)  # mentions/hour in the current window
    velocity_prev: Mapped[float] = mapped_column(Float, default=0.0)  # ... in the previous window
    window_count: Mapped[int] = mapped_column(Integer, default=0)  # mentions in the current window
    highest_tier: Mapped[str | None] = mapped_column(String(50))
    top_sources: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    key_opinion_leaders: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    top_mention_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)  # the graded metrics
    token_counts: Mapped[dict[str, int]] = mapped_column(PortableJSON, default=dict)  # clusterer state
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventMention(Base):
    """Link of a mention to its event (one event per mention), with what the aggregates need."""

    __tablename__ = "event_mentions"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    mention_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_id: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(100), default="")
    source_tier: Mapped[str] = mapped_column(String(50), default="")
    author: Mapped[str | None] = mapped_column(String(300))
    author_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    title: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(10), default="")
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    negative_prob: Mapped[float] = mapped_column(Float, default=0.0)
    influence: Mapped[float] = mapped_column(Float, default=0.0)
    duplicate_of_id: Mapped[int | None] = mapped_column(BigInteger)
    target_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    risk_type: Mapped[str | None] = mapped_column(String(100))
    tokens: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    assigned_by: Mapped[str] = mapped_column(String(20), default="auto")  # auto | analyst
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventBucket(Base):
    """Hourly volume and sentiment of an event."""

    __tablename__ = "event_buckets"
    __table_args__ = (UniqueConstraint("event_id", "hour"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_prob_sum: Mapped[float] = mapped_column(Float, default=0.0)


class TargetBucket(Base):
    """Hourly volume of a watch target (the baseline of per-target early signs)."""

    __tablename__ = "event_target_buckets"
    __table_args__ = (UniqueConstraint("target_id", "hour"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    target_id: Mapped[int] = mapped_column(Integer, index=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)


class EventLevelChange(Base):
    """Every level an event took, with when, why and the metrics it was graded on."""

    __tablename__ = "event_level_changes"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    old_level: Mapped[str | None] = mapped_column(String(4))
    new_level: Mapped[str] = mapped_column(String(4))
    rule: Mapped[str | None] = mapped_column(String(100))
    reasons: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    reasons_en: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    by: Mapped[str] = mapped_column(String(100), default="rules")


class Signal(Base):
    """An early sign (苗头): a burst in volume or negative volume of a target or an event."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_scope", "kind", "target_id", "event_id", "fired_at"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # volume | negative_volume
    target_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    message_en: Mapped[str] = mapped_column(Text, default="")


class EventCorrection(Base):
    """An analyst's merge or split; kept as a clustering label."""

    __tablename__ = "event_corrections"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # merge | split
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    mention_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    result_event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    note: Mapped[str | None] = mapped_column(Text)
