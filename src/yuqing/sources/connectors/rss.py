"""RSS 2.0 / Atom / RDF feeds, fetched with conditional GET and parsed by feedparser.

The body is decoded by :mod:`yuqing.sources.charset` (so a GBK feed that claims to be UTF-8 still
reads right), re-encoded as UTF-8 with the XML declaration's ``encoding`` removed, and handed to
feedparser. A feed that yields no entries and is malformed raises ``ParseError`` (``malformed_feed``);
a malformed feed that still yields entries gives those items plus one ``ItemError``
(``feed_partially_malformed``) so the problem is visible in quarantine.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser

from yuqing.errors import ParseError
from yuqing.sources.base import ItemDraft, ItemError, ParseResult, RawPayload
from yuqing.sources.charset import decode_bytes
from yuqing.sources.fetch import charset_of, get_fetcher

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def _struct_to_utc(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _published(entry: Any) -> datetime | str | None:
    """feedparser's parsed date only for ASCII dates (RFC 822 / ISO 8601, which it reads well);
    Chinese dates ("2024年3月5日 10:30", "昨天 14:02") go to the ingest time parser as strings,
    because feedparser misreads them."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        if raw.isascii():
            parsed = _struct_to_utc(entry.get(f"{key}_parsed"))
            if parsed is not None:
                return parsed
        return str(raw)
    return None


def _text(entry: Any) -> str:
    contents = entry.get("content") or []
    values = [c.get("value", "") for c in contents if isinstance(c, dict)]
    best = max(values, key=len, default="")
    summary = entry.get("summary") or ""
    return best if len(best) >= len(summary) else summary


def entry_to_draft(entry: Any, feed_link: str | None = None) -> ItemDraft:
    title = (entry.get("title") or "").strip()
    link = (entry.get("link") or "").strip() or None
    text = _text(entry)
    if not (title or text or link):
        raise ItemError(
            "empty_item", "条目无标题、正文和链接 / entry has no title, text or link", dict(entry)
        )
    external_id = (entry.get("id") or "").strip() or link
    if not external_id:
        digest = hashlib.sha256(f"{feed_link}|{title}|{text}".encode()).hexdigest()[:32]
        external_id = f"sha256:{digest}"
    author = (entry.get("author") or "").strip() or None
    tags = [t.get("term") for t in entry.get("tags") or [] if isinstance(t, dict) and t.get("term")]
    extra: dict[str, Any] = {"feed": feed_link} if feed_link else {}
    if tags:
        extra["tags"] = tags[:20]
    return ItemDraft(
        title=title,
        text=text,
        url=link,
        external_id=external_id[:300],
        author=author,
        published=_published(entry),
        extra=extra,
    )


def parse_feed(body: bytes, declared: str | None = None, url: str | None = None) -> ParseResult:
    """Pure: feed bytes -> item drafts. Raises ``ParseError`` when nothing can be read."""
    if not body or not body.strip():
        raise ParseError("内容为空 / empty body", code="empty_body", reason="empty_body")
    text, _encoding = decode_bytes(body, declared)
    text = _XML_DECL_ENCODING.sub(r"\1", text, count=1)
    try:
        parsed = feedparser.parse(
            text.encode("utf-8"), response_headers={"content-type": "application/xml; charset=utf-8"}
        )
    except Exception as exc:  # feedparser is tolerant, but a parser bug must not take the loop down
        raise ParseError(
            f"订阅源无法解析 / feed cannot be parsed: {exc}", code="malformed_feed", reason="malformed_feed"
        ) from exc
    entries = list(parsed.get("entries") or [])
    bozo = bool(parsed.get("bozo"))
    problem = str(parsed.get("bozo_exception") or "")
    is_feed = bool(parsed.get("version")) or bool(entries)
    if not entries:
        if bozo or not is_feed:
            raise ParseError(
                f"订阅源格式错误 / malformed feed: {problem or 'not an RSS/Atom document'}",
                code="malformed_feed",
                reason="malformed_feed",
            )
        return ParseResult()
    feed_link = (parsed.get("feed") or {}).get("link") or url
    result = ParseResult()
    for index, entry in enumerate(entries):
        try:
            result.items.append(entry_to_draft(entry, feed_link))
        except ItemError as exc:
            exc.payload = {"index": index, **{k: str(v)[:2000] for k, v in (exc.payload or {}).items()}}
            result.errors.append(exc)
    if bozo:
        result.errors.append(
            ItemError(
                "feed_partially_malformed",
                f"订阅源部分损坏，已读取 {len(result.items)} 条 / feed partly malformed, "
                f"{len(result.items)} items read: {problem}",
                {"url": url, "problem": problem[:500]},
            )
        )
    return result


class RssConnector:
    """``kind = "rss"``: ``source.url`` is the feed URL; nothing else to configure."""

    name: ClassVar[str] = "rss"
    pollable: ClassVar[bool] = True

    def fetch(self, source: Any, ctx: Any) -> list[RawPayload]:
        if not source.url:
            from yuqing.errors import ConfigError

            raise ConfigError(f"信息源缺少地址 / source {source.name} has no url")
        fetcher = get_fetcher(ctx)
        result = fetcher.fetch(
            source.url,
            allow_private=bool(source.allow_private),
            etag=source.etag,
            last_modified=source.last_modified,
            accept=FEED_ACCEPT,
        )
        return [result.to_payload()]

    def parse(self, source: Any, raw: RawPayload) -> ParseResult:
        if raw.not_modified:
            return ParseResult()
        return parse_feed(raw.body, raw.encoding or charset_of(raw.content_type), raw.url)
