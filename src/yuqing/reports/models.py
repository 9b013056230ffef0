"""Records of the reports stage: scheduled briefs built and sent (one row per brief and period)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime


class SentBrief(Base):
    """A scheduled brief: ``key`` (period kind, first day, scope) makes the schedule idempotent."""

    __tablename__ = "report_sent_briefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    period: Mapped[str] = mapped_column(String(20))  # daily | weekly | monthly
    first_day: Mapped[str] = mapped_column(String(10))  # local date, ISO
    target: Mapped[str | None] = mapped_column(String(200))  # None: the whole firm
    status: Mapped[str] = mapped_column(String(20), default="built")  # built | sent | partial | failed
    paths: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    deliveries: Mapped[dict[str, Any]] = mapped_column(
        PortableJSON, default=dict
    )  # "channel:person" -> ok|error
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
