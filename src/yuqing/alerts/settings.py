"""Settings of the alerting stage."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator

# channel fields that are credentials: kept as SecretStr so `yuqing config show` masks them
SECRET_FIELDS = ("secret", "password", "api_key", "token")


class AlertSettings(BaseModel):
    rules_file: str | None = Field(None, description="YAML routing rules; default: the plan's rules")
    channels_file: str | None = Field(None, description="YAML channel configuration")
    channels: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Channel configuration inline (name -> {type, ...}); merged over channels_file",
    )
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL used in acknowledge links")
    ack_link_ttl_hours: float = Field(72.0, gt=0, description="Lifetime of a signed acknowledge link")
    # Noise control
    min_interval_s: float = Field(
        600.0, ge=0, description="Minimum seconds between two messages about one subject to one person"
    )
    storm_threshold: int = Field(
        10, ge=2, description="Messages to one person within storm_window_s that make a storm"
    )
    storm_window_s: float = Field(300.0, gt=0, description="Window of the storm detector (seconds)")
    digest_min: int = Field(3, ge=2, description="Due messages to one person/channel sent as one digest")
    # Delivery
    max_attempts_per_channel: int = Field(4, ge=1, description="Attempts on one channel before falling back")
    backoff_base_s: float = Field(2.0, gt=0, description="First retry delay; doubles per attempt, jittered")
    backoff_max_s: float = Field(300.0, gt=0, description="Largest retry delay")
    lease_s: float = Field(
        30.0,
        gt=0,
        description="A claimed delivery is re-claimable after this (raised automatically to "
        "ceil(dispatch_batch / dispatch_workers) x the slowest channel timeout)",
    )
    unhealthy_after: int = Field(
        5, ge=1, description="Consecutive failures after which a channel is reported unhealthy"
    )
    dispatch_batch: int = Field(50, ge=1, description="Deliveries claimed per dispatcher round")
    dispatch_poll_s: float = Field(0.2, gt=0, description="Dispatcher idle poll interval (seconds)")
    send_timeout_s: float = Field(10.0, gt=0, description="Timeout of one send on any channel")
    outbox_dir: str = Field("yuqing-demo-outbox", description="Directory of the built-in file channel")
    last_resort_channel: str | None = Field(
        "file", description="Channel appended to everyone's list so a message is never silently dropped"
    )
    inline_dispatch: bool | None = Field(
        None,
        description="Send right after each raise, in the raising process (None: only with a manual clock "
        "and the in-process bus, i.e. replays, demos and drills)",
    )
    dispatch_workers: int = Field(8, ge=1, le=64, description="Parallel sends per dispatcher round")

    @field_validator("channels")
    @classmethod
    def _mask_secrets(cls, channels: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, d in channels.items():
            masked = dict(d) if isinstance(d, dict) else d
            if isinstance(masked, dict):
                for k, v in masked.items():
                    # robot webhook URLs carry their key in the query string
                    if isinstance(v, str) and (k in SECRET_FIELDS or (k == "url" and "?" in v)):
                        masked[k] = SecretStr(v)
            out[name] = masked
        return out
