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
    # Fields below: fetching (owner: fetch engineer; docs/fetching.md)
    max_duration: float = Field(
        60.0, gt=0, description="Seconds one request may take in total, body included"
    )
    robots_ttl_s: int = Field(3600, ge=0, description="How long a host's robots.txt is cached")
    max_articles: int = Field(20, ge=1, description="Article pages a web source fetches per poll")
    jitter: float = Field(0.1, ge=0, lt=1, description="Poll interval jitter, as a fraction (±)")
    max_backoff_s: int = Field(6 * 3600, ge=1, description="Cap of the exponential back-off after failures")
    idle_sleep_s: float = Field(30.0, gt=0, description="Longest sleep of `yuqing run` between checks")
    concurrency: int = Field(4, ge=1, le=64, description="Sources fetched in parallel by `yuqing run`")
    failing_after: int = Field(3, ge=1, description="Consecutive failures that make a source 'failing'")
    silent_factor: float = Field(6.0, gt=1, description="Silent when quiet for this many usual gaps")
    silent_min_s: int = Field(3600, ge=0, description="Never 'silent' before this long without items")
    degraded_ratio: float = Field(0.3, gt=0, lt=1, description="Degraded below this share of the baseline")
    min_baseline_items: int = Field(7, ge=1, description="Items in the previous 7 days to have a baseline")


class IngestSettings(BaseModel):
    webhook_token: SecretStr = Field(SecretStr(""), description="Bearer token for POST /api/v1/ingest")
    max_batch: int = Field(1000, ge=1, description="Largest batch accepted by the webhook")
    near_dup_threshold: float = Field(0.7, gt=0, lt=1, description="MinHash Jaccard threshold")
    near_dup_num_perm: int = Field(64, ge=16, le=256, description="MinHash permutations")
    near_dup_shingle: int = Field(3, ge=1, le=8, description="Characters per shingle")
    near_dup_min_chars: int = Field(20, ge=1, description="Shorter dedup keys are never near-duplicates")
    near_dup_window_days: float = Field(7.0, gt=0, description="Near-dup index keeps this many days")
    near_dup_max_items: int = Field(200_000, ge=100, description="Bound of the in-memory near-dup index")
    batch_size: int = Field(1000, ge=1, description="Mentions per insert transaction")
    max_file_bytes: int = Field(2_000_000_000, ge=1024, description="Largest file `yuqing ingest` reads")
    file_chunk_rows: int = Field(1000, ge=1, description="Rows of an imported file per raw item")
