"""Records of the analysis stage: per-mention results, per (mention, target) hits, analysts' labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuqing.core.db import Base, PortableJSON, UTCDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")


class AnalysisResult(Base):
    """What the analysis stage concluded about one mention (overwritten on re-analysis)."""

    __tablename__ = "analysis_results"
    __table_args__ = (Index("ix_analysis_results_sentiment_analysed", "sentiment", "analysed_at"),)

    mention_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(10))
    sentiment: Mapped[str] = mapped_column(String(20))
    negative_prob: Mapped[float] = mapped_column(Float)
    probs: Mapped[dict[str, float]] = mapped_column(PortableJSON, default=dict)
    trigger_category: Mapped[str | None] = mapped_column(String(50), index=True)
    risk_type: Mapped[str | None] = mapped_column(String(50), index=True)
    risk_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    risk_via: Mapped[str] = mapped_column(String(20), default="model")
    influence: Mapped[float] = mapped_column(Float, default=0.0)
    entities: Mapped[list[dict[str, str]]] = mapped_column(PortableJSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    tokens: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    model_versions: Mapped[dict[str, str]] = mapped_column(PortableJSON, default=dict)
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TargetMatchRecord(Base):
    """A mention concerns a watch target; ``negative`` = the negativity is about this target."""

    __tablename__ = "analysis_target_hits"
    __table_args__ = (UniqueConstraint("mention_id", "target_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(20))
    matched_terms: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    negative_prob: Mapped[float] = mapped_column(Float, default=0.0)


class AnalysisLabel(Base):
    """An analyst's correction; ``yuqing train … --with-labels`` learns from these."""

    __tablename__ = "analysis_labels"
    __table_args__ = (Index("ix_analysis_labels_kind_mention", "kind", "mention_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # sentiment | subject | risk | not_about_target
    value: Mapped[str] = mapped_column(Text)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    extra: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
