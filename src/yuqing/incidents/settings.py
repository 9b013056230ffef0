"""Settings of the emergency-response stage."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IncidentSettings(BaseModel):
    org_file: str | None = Field(None, description="Organisation YAML; default: the shipped template")
    response_deadline_hours: dict[str, float] = Field(
        default_factory=lambda: {"I": 2.0, "II": 6.0, "III": 12.0, "IV": 24.0},
        description="First-response deadline per level",
    )
