"""Settings of the alerting stage."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AlertSettings(BaseModel):
    rules_file: str | None = Field(None, description="YAML routing rules; default: the plan's rules")
    channels_file: str | None = Field(None, description="YAML channel configuration")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL used in acknowledge links")
