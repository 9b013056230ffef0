"""Records of the alerting stage: alerts, their recipients, the delivery outbox, escalation steps,
channel health and routing-rule rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime

ALERT_STATUSES = ("open", "acked", "resolved")
# pending -> sending -> sent | pending (retry) | failed_over (next channel) | failed (no channel left)
# merged: superseded by a later message to the same person about the same subject (noise control)
# cancelled: an escalation reminder no longer needed (the alert was acknowledged)
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "failed_over", "merged", "cancelled")


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)  # event, signal, incident, source_health, ...
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(5))
    reasons: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[int] = mapped_column(Integer)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the last content (redelivery is a no-op)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    update_count: Mapped[int] = mapped_column(Integer, default=0)
    first_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(200))
    ack_via: Mapped[str | None] = mapped_column(String(50))
    escalation_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (Index("ix_alerts_subject", "subject_type", "subject_id"),)

    @property
    def subject_key(self) -> str:
        return f"{self.subject_type}:{self.subject_id}"


class AlertRecipient(Base):
    __tablename__ = "alert_recipients"
    __table_args__ = (UniqueConstraint("alert_id", "person_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    person_key: Mapped[str] = mapped_column(String(100))
    person_name: Mapped[str] = mapped_column(String(200))
    reasons: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    source: Mapped[str] = mapped_column(String(20), default="route")  # route, caller, escalation
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The outbox: one message to one person on one channel for one purpose."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "person_key", "channel", "purpose"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
        Index("ix_alert_deliveries_subject_person", "subject_key", "person_key"),
        Index("ix_alert_deliveries_person_sent", "person_key", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("alert_recipients.id", ondelete="CASCADE"))
    person_key: Mapped[str] = mapped_column(String(100))
    subject_key: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(320))
    contact_index: Mapped[int] = mapped_column(Integer, default=0)  # position in the person's channel list
    purpose: Mapped[str] = mapped_column(String(50))  # initial, u<N>, esc<step>.<repeat>
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    level: Mapped[str | None] = mapped_column(String(5))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    digest_key: Mapped[str | None] = mapped_column(String(80))
    merged_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EscalationRecord(Base):
    """One fired escalation step (the chain's step index, repetition and who was told)."""

    __tablename__ = "alert_escalation_steps"
    __table_args__ = (UniqueConstraint("alert_id", "step", "repeat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")


class ChannelHealth(Base):
    __tablename__ = "alert_channel_health"

    channel: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="healthy")  # healthy, unhealthy
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    sent_total: Mapped[int] = mapped_column(Integer, default=0)
    failed_total: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unhealthy_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    avg_send_s: Mapped[float] = mapped_column(Float, default=0.0)


class RoutingRule(Base):
    """A routing rule kept in the database (same shape as a rules.yaml entry, in ``definition``)."""

    __tablename__ = "alert_routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
