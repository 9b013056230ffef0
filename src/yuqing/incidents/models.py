"""Records of emergency response: incidents, transitions, deadlines, decisions, tasks, statements,
coordination, resources, the hash-chained timeline and the review.

People are referenced by their stable org person key (``yuqing.org``), events by id, both without a
foreign key: the record of a response must survive a reorganisation or an archived event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime

KEY = String(100)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), index=True)
    category: Mapped[str | None] = mapped_column(String(50))  # the plan's trigger category
    risk_type: Mapped[str | None] = mapped_column(String(100))
    playbook_key: Mapped[str | None] = mapped_column(String(100))
    opened_by: Mapped[str] = mapped_column(KEY)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first mention of linked events
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # entered assessing
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(KEY)
    facts: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)  # {"facts": [], "actions": []}
    timeline_head: Mapped[str] = mapped_column(String(64))
    timeline_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentEvent(Base):
    __tablename__ = "incident_events"
    __table_args__ = (UniqueConstraint("incident_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(Integer, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_by: Mapped[str] = mapped_column(KEY)
    level: Mapped[str | None] = mapped_column(String(4))
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    last_volume_entry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentTransition(Base):
    __tablename__ = "incident_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(KEY)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class IncidentDeadline(Base):
    __tablename__ = "incident_deadlines"
    __table_args__ = (UniqueConstraint("incident_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_step: Mapped[int] = mapped_column(Integer, default=-1)


class Decision(Base):
    """A management decision: the assessment meeting's participants, assessment, strategy, instructions."""

    __tablename__ = "incident_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(KEY)
    participants: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    assessment: Mapped[str] = mapped_column(Text, default="")
    strategy: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    level: Mapped[str | None] = mapped_column(String(4))


class Task(Base):
    __tablename__ = "incident_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str | None] = mapped_column(String(100))  # the playbook task key, if any
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_role: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(KEY, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, in_progress, done, cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(KEY)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(KEY)
    alerted_step: Mapped[int] = mapped_column(Integer, default=-1)


class TaskComment(Base):
    __tablename__ = "incident_task_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("incident_tasks.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(KEY)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)


class Statement(Base):
    __tablename__ = "incident_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # holding, full, clarification, regulator_report
    lang: Mapped[str] = mapped_column(String(5), default="zh")
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(KEY)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(KEY)
    channel: Mapped[str | None] = mapped_column(String(100))
    link: Mapped[str | None] = mapped_column(Text)


class StatementVersion(Base):
    __tablename__ = "incident_statement_versions"
    __table_args__ = (UniqueConstraint("statement_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("incident_statements.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(KEY)
    note: Mapped[str] = mapped_column(Text, default="")


class StatementApproval(Base):
    __tablename__ = "incident_statement_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("incident_statements.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(100))
    person: Mapped[str] = mapped_column(KEY)
    on_behalf_of: Mapped[str | None] = mapped_column(KEY, nullable=True)  # the absent approver stood in for
    decision: Mapped[str] = mapped_column(String(10))  # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CoordinationLog(Base):
    __tablename__ = "incident_coordination_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(KEY)
    channel: Mapped[str] = mapped_column(String(30))
    audience: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[str] = mapped_column(Text)


class AgreedLine(Base):
    """The single agreed line (口径) every department must use; a new version replaces the old one."""

    __tablename__ = "incident_agreed_lines"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    required: Mapped[list[str]] = mapped_column(PortableJSON, default=list)  # person keys to acknowledge
    set_by: Mapped[str] = mapped_column(KEY)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LineAck(Base):
    __tablename__ = "incident_line_acks"
    __table_args__ = (UniqueConstraint("line_id", "person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(
        ForeignKey("incident_agreed_lines.id", ondelete="CASCADE"), index=True
    )
    person: Mapped[str] = mapped_column(KEY)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Resource(Base):
    """An item of the resource inventory (物资清单) with what readiness checks need."""

    __tablename__ = "response_resources"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(KEY)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacts: Mapped[list[list[str]]] = mapped_column(PortableJSON, default=list)  # [[channel, address]]
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_problems: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)


class ResourceRequest(Base):
    __tablename__ = "resource_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(KEY)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, fulfilled, rejected
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("response_resources.id", ondelete="SET NULL"))
    handled_by: Mapped[str | None] = mapped_column(KEY)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class TimelineEntry(Base):
    """Append-only and hash-chained (see ``yuqing.incidents.timeline``)."""

    __tablename__ = "incident_timeline"
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str | None] = mapped_column(KEY)
    data: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class VolumeSample(Base):
    """Cumulative mention / negative counts of a linked event at a moment (for the review)."""

    __tablename__ = "incident_volume_samples"
    __table_args__ = (
        UniqueConstraint("incident_id", "event_id", "at"),
        Index("ix_incident_volume_samples_incident_at", "incident_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    mention_count: Mapped[int] = mapped_column(Integer)
    negative_count: Mapped[int] = mapped_column(Integer)


class Review(Base):
    __tablename__ = "incident_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(KEY)
    metrics: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, final
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by: Mapped[str | None] = mapped_column(KEY)


class ImprovementAction(Base):
    __tablename__ = "incident_review_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("incident_reviews.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(KEY)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(KEY)
    alerted_step: Mapped[int] = mapped_column(Integer, default=-1)
