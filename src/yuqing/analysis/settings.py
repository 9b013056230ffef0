"""Settings of the analysis stage."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AnalysisSettings(BaseModel):
    model_dir: str | None = Field(None, description="Directory of retrained models; default: shipped ones")
