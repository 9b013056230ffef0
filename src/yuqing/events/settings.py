"""Settings of the events stage (clustering, early signs, grading)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EventSettings(BaseModel):
    dormant_after_hours: float = Field(72.0, gt=0, description="Inactive events go dormant after this")
