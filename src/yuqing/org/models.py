"""People, groups, memberships, stand-ins and duty shifts (the plan's 组织机构)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yuqing.core.db import Base, PortableJSON, UTCDateTime

GROUP_KEYS = ("management", "monitoring", "response", "logistics")
ROLES = ("leader", "deputy", "member")
CHANNEL_FIELDS = {  # notifier channel -> the Person attribute that addresses it
    "email": "email",
    "sms": "phone",
    "wecom": "wecom_id",
    "dingtalk": "dingtalk_id",
    "feishu": "feishu_id",
    "slack": "slack_id",
}


class Person(Base):
    __tablename__ = "org_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    wecom_id: Mapped[str | None] = mapped_column(String(200))
    dingtalk_id: Mapped[str | None] = mapped_column(String(200))
    feishu_id: Mapped[str | None] = mapped_column(String(200))
    slack_id: Mapped[str | None] = mapped_column(String(200))
    channels: Mapped[list[str]] = mapped_column(PortableJSON, default=list)  # preferred order
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unavailable_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class Group(Base):
    __tablename__ = "org_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    duties: Mapped[str | None] = mapped_column(Text)
    # Standing rotation used when no explicit DutyShift covers a moment:
    # {"rotation": [person keys], "shift_hours": 12, "start": ISO-8601 with offset}
    roster: Mapped[dict[str, object] | None] = mapped_column(PortableJSON)


class Membership(Base):
    __tablename__ = "org_memberships"
    __table_args__ = (UniqueConstraint("person_id", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("org_people.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("org_groups.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    person: Mapped[Person] = relationship(lazy="joined")
    group: Mapped[Group] = relationship(lazy="joined")


class StandIn(Base):
    """While it is in force, ``stand_in`` acts for ``person`` (leave, travel, illness)."""

    __tablename__ = "org_stand_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("org_people.id", ondelete="CASCADE"), index=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("org_people.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class DutyShift(Base):
    __tablename__ = "org_duty_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("org_groups.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("org_people.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
