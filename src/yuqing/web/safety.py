"""Helpers for rendering untrusted (ingested) content."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL = 2000


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) link with a host, else None (never javascript:, data:, ...)."""
    if not url:
        return None
    url = url.strip()
    if len(url) > MAX_URL or any(ord(c) < 0x20 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
