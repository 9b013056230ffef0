"""Settings of the events stage (clustering, early signs, grading)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EventSettings(BaseModel):
    dormant_after_hours: float = Field(72.0, gt=0, description="Inactive events go dormant after this")
    cluster_alpha: float = Field(
        0.3, gt=0, description="Clustering: prior weight of opening a new event (MStream alpha)"
    )
    cluster_beta: float = Field(
        0.03, gt=0, description="Clustering: pseudo-count of a token in an event (MStream beta)"
    )
    cluster_struct_weight: float = Field(
        1.5,
        gt=0,
        description="Clustering: weight of language-neutral tokens (targets, risk, entities, concepts)",
    )
    cluster_target_bonus: float = Field(
        3.0, ge=0, description="Clustering: log-bonus of an event sharing a watch target with the mention"
    )
    cluster_size_cap: float = Field(
        300.0,
        ge=0,
        description="Clustering: tokens per partition beyond which an event scores as if no bigger "
        "(keeps short follow-ups with their long story; 0 = off)",
    )
    cluster_refine_margin: float = Field(
        3.0,
        ge=0,
        description="Clustering: end-of-batch re-check of placements closer than this (nats; 0 = off)",
    )
    cluster_vector_weight: float = Field(
        25.0,
        ge=0,
        description="Clustering: weight (nats per unit of cosine) of the English word-vector similarity "
        "between a mention and an event (0 = off)",
    )
    cluster_vector_threshold: float = Field(
        0.3,
        ge=-1,
        le=1,
        description="Clustering: cosine at which the word-vector term is zero "
        "(above pulls in, below pushes away)",
    )
    cluster_vectors_file: str | None = Field(
        None, description="Word-vector table (.npz); default: the shipped token_vectors_en.npz"
    )
    cluster_max_words: int = Field(30, ge=5, description="Clustering: words used per mention (title first)")
    max_active_events: int = Field(5000, ge=10, description="Bound of the in-memory active event set")
    max_dormant_events: int = Field(20000, ge=0, description="Dormant events kept in memory for wake-up")
    archive_after_days: float = Field(30.0, gt=0, description="Dormant events are archived after this")
    burst_min_count: int = Field(5, ge=1, description="Early signs: minimum hourly count to fire")
    burst_threshold: float = Field(
        1e-4,
        gt=0,
        lt=1,
        description="Early signs: upper-tail probability (neg. binomial or Poisson) that counts as a burst",
    )
    burst_baseline_days: int = Field(14, ge=1, description="Early signs: history used as the baseline")
    burst_cooldown_hours: float = Field(6.0, ge=0, description="Early signs: no repeat signal within this")
    grading_rules_file: str | None = Field(
        None, description="YAML grading rules; default: the shipped yuqing/events/grading_rules.yaml"
    )
