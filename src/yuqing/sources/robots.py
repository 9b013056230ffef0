"""robots.txt, fetched with the same safe fetcher and cached per origin with a TTL.

Policy (RFC 9309): a 2xx robots.txt is obeyed for our product token (the User-Agent up to ``/``);
a 4xx (missing) allows everything; a 5xx or an unreachable robots.txt disallows for a short while
(``robots_unavailable``) — the site is in trouble, and we come back later. Address-policy errors
propagate unchanged: a host we may not reach is reported as such.
"""

from __future__ import annotations

import threading
import urllib.robotparser
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from yuqing.core.clock import Clock
from yuqing.errors import BlockedAddress, FetchError
from yuqing.sources.fetch import redact_url
from yuqing.sources.settings import HttpSettings

UNAVAILABLE_TTL = timedelta(minutes=5)
MAX_ROBOTS_BYTES = 512_000


@dataclass
class _Entry:
    parser: urllib.robotparser.RobotFileParser | None  # None: unavailable
    expires: datetime
    status: int | None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def parse_robots(text: str) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    return parser


class RobotsCache:
    def __init__(self, clock: Clock, settings: HttpSettings) -> None:
        self.clock = clock
        self.settings = settings
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # robots.txt downloads made (tests and stats)

    @property
    def agent(self) -> str:
        return self.settings.user_agent.split("/", 1)[0].strip() or "yuqing"

    def _load(self, fetcher: Any, origin: str, allow_private: bool) -> _Entry:
        now = self.clock.now()
        ttl = timedelta(seconds=self.settings.robots_ttl_s)
        self.fetches += 1
        try:
            result = fetcher.fetch(
                origin + "/robots.txt",
                allow_private=allow_private,
                check_robots=False,
                max_bytes=MAX_ROBOTS_BYTES,
            )
        except BlockedAddress:
            raise
        except FetchError as exc:
            status = exc.detail.get("status")
            if isinstance(status, int) and 400 <= status < 500:
                return _Entry(parse_robots(""), now + ttl, status)
            if exc.code == "too_large":
                return _Entry(parse_robots(""), now + ttl, None)
            return _Entry(None, now + UNAVAILABLE_TTL, status if isinstance(status, int) else None)
        text = result.body.decode("utf-8", "replace")
        return _Entry(parse_robots(text), now + ttl, result.status)

    def allowed(self, fetcher: Any, url: str, *, allow_private: bool = False) -> bool | None:
        """True/False from robots.txt; None when robots.txt is unavailable (treated as disallowed)."""
        origin = origin_of(url)
        now = self.clock.now()
        with self._lock:
            entry = self._entries.get(origin)
        if entry is None or entry.expires <= now:
            entry = self._load(fetcher, origin, allow_private)
            with self._lock:
                self._entries[origin] = entry
        if entry.parser is None:
            return None
        return entry.parser.can_fetch(self.agent, url)

    def check(self, fetcher: Any, url: str, *, allow_private: bool = False) -> None:
        verdict = self.allowed(fetcher, url, allow_private=allow_private)
        if verdict is None:
            raise FetchError(
                f"robots.txt 暂不可用，稍后重试 / robots.txt unavailable for {redact_url(origin_of(url))}; "
                "retrying later",
                code="robots_unavailable",
                url=url,
            )
        if not verdict:
            raise FetchError(
                f"robots.txt 禁止抓取 / disallowed by robots.txt: {redact_url(url)}",
                code="robots_disallowed",
                url=url,
            )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
