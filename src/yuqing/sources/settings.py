"""Settings of the ingest stage (fetching and normalisation)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class HttpSettings(BaseModel):
    timeout: float = Field(15.0, gt=0, description="Seconds for connect/read of one request")
    max_bytes: int = Field(5_000_000, ge=1024, description="Largest response body accepted")
    max_redirects: int = Field(5, ge=0)
    user_agent: str = Field(
        "yuqing/0.1 (+public-opinion monitoring; contact: it-ops@example.com)",
        description="Honest User-Agent sent with every request",
    )
    respect_robots: bool = True


class IngestSettings(BaseModel):
    webhook_token: SecretStr = Field(SecretStr(""), description="Bearer token for POST /api/v1/ingest")
    max_batch: int = Field(1000, ge=1, description="Largest batch accepted by the webhook")
    near_dup_threshold: float = Field(0.7, gt=0, lt=1, description="MinHash Jaccard threshold")
