"""The connector plugin interface: the one built-in connectors and third parties implement.

A connector turns a :class:`~yuqing.sources.models.Source` into raw payloads (``fetch``, which
may touch the network) and a raw payload into item drafts (``parse``, pure, no I/O). The ingest
service stores every raw payload *before* parsing it, normalises each draft into a Mention,
deduplicates, and quarantines whatever fails — so a connector never has to think about loss.

Register a connector under the entry-point group ``yuqing.connectors`` in your package's
``pyproject.toml``: ``rss = "yuqing.sources.connectors.rss:RssConnector"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass
class RawPayload:
    """Bytes exactly as received, with fetch metadata; becomes a ``RawItem`` row."""

    body: bytes
    url: str | None = None
    content_type: str | None = None
    encoding: str | None = None  # detected charset, if the connector already knows it
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False  # conditional GET answered 304: nothing to store


@dataclass
class ItemDraft:
    """One item as a connector understood it, before normalisation.

    ``published`` may be a datetime or the raw string from the page ("3分钟前", "昨天 14:02",
    "2024年3月5日 10:30", RFC 822, ISO 8601 …); ``text`` may still contain HTML.
    """

    title: str = ""
    text: str = ""
    url: str | None = None
    external_id: str | None = None
    author: str | None = None
    author_followers: int | None = None
    published: datetime | str | None = None
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    views: int | None = None
    platform: str | None = None  # overrides the source's platform when the item knows better
    lang: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# The draft fields a mapping or a pushed item may set (``extra`` takes everything else).
DRAFT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ItemDraft) if f.name != "extra")


class ItemError(Exception):
    """One item of a payload could not be understood; the others still go through."""

    def __init__(self, reason: str, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.payload = payload


@dataclass
class ParseResult:
    items: list[ItemDraft] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    # Further pages to fetch (e.g. article links found on a list page), same source.
    follow: list[str] = field(default_factory=list)


@runtime_checkable
class Connector(Protocol):
    """A source kind. ``fetch`` raises :class:`yuqing.errors.FetchError`; ``parse`` raises
    :class:`yuqing.errors.ParseError` when the whole payload is unreadable."""

    name: ClassVar[str]

    def fetch(self, source: Any, ctx: Any) -> list[RawPayload]: ...

    def parse(self, source: Any, raw: RawPayload) -> ParseResult: ...
