"""Settings of the web console and REST API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebSettings(BaseModel):
    host: str = Field("127.0.0.1")
    port: int = Field(8000, ge=1, le=65535)
