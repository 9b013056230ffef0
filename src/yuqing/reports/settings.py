"""Settings of briefings and documents."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReportSettings(BaseModel):
    template_dir: str | None = Field(
        None, description="Directory of Jinja2 templates overriding the shipped ones"
    )
