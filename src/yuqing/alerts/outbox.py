"""Outbox helpers (pure): retry back-off, idempotency keys, content fingerprints."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with jitter: ``min(cap, base * 2**(attempt-1))`` scaled by U(0.5, 1.0)."""
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    r = (rng or random).uniform(0.5, 1.0)
    return delay * r


def idempotency_key(alert_id: int, person: str, channel: str, purpose: str) -> str:
    return f"yq-alert-{alert_id}/{person}/{channel}/{purpose}"


def fingerprint(title: str, level: str | None, reasons: list[str], data: dict[str, Any] | None) -> str:
    blob = json.dumps([title, level, reasons, data or {}], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def digest_key(idempotency_keys: list[str]) -> str:
    return "dg-" + hashlib.sha256("\n".join(sorted(idempotency_keys)).encode()).hexdigest()[:40]
