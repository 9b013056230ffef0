"""Web pages: a list page whose article links are followed, and article pages extracted with trafilatura.

Source configuration (``Source.config``)::

    {"list_url": "https://news.example.com/finance/",   # default: source.url
     "follow": "css:ul.news a",        # or "xpath://div[@id='list']//a/@href", or "re:/\\d{8}/\\d+\\.html$"
                                        # (a bare string is a CSS selector)
     "max_articles": 20,               # per poll (default settings.http.max_articles)
     "any_host": false,                # follow links to other hosts too
     "min_chars": 20}                  # shorter extracted text is "no_content"

Without ``follow`` the source URL is itself one article page. Each payload carries the header
``x-yuqing-page: list|article`` so that ``parse`` (and a quarantine replay) knows what it holds.
Articles already fetched for the source (a raw item or a mention with that URL) are not fetched again.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

from yuqing.errors import ConfigError, FetchError, ParseError
from yuqing.sources.base import ItemDraft, ParseResult, RawPayload
from yuqing.sources.charset import decode_bytes
from yuqing.sources.fetch import charset_of, get_fetcher

log = logging.getLogger(__name__)

PAGE_HEADER = "x-yuqing-page"
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_META_TIME = (
    "article:published_time",
    "og:article:published_time",
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "datepublished",
    "dc.date",
    "dc.date.issued",
    "date",
)
_META_AUTHOR = ("author", "article:author", "dc.creator", "byl")
_CN_DATETIME = re.compile(
    r"(20\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
)
_CN_AUTHOR = re.compile(r"(?:作者|记者|文)\s*[：:/]\s*([^\s|｜，,。()（）/]{1,20})")


def _html(body: bytes, declared: str | None) -> Any:
    import lxml.html
    from lxml import etree

    text, _ = decode_bytes(body, declared)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        raise ParseError("内容为空 / empty body", code="empty_body", reason="empty_body")
    try:
        return lxml.html.document_fromstring(text), text
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(
            f"HTML 无法解析 / unreadable HTML: {exc}", code="malformed_html", reason="malformed_html"
        ) from exc


def extract_links(
    body: bytes, base_url: str, follow: str, *, declared: str | None = None, any_host: bool = False
) -> list[str]:
    """Pure: the absolute http(s) article links on a list page selected by ``follow``."""
    from lxml import etree

    doc, _ = _html(body, declared)
    hrefs: list[str] = []
    kind, _, expr = (
        follow.partition(":") if follow.split(":", 1)[0] in ("css", "xpath", "re") else ("css", "", follow)
    )
    try:
        if kind == "re":
            pattern = re.compile(expr)
            hrefs = [h for h in doc.xpath("//a/@href") if pattern.search(urljoin(base_url, str(h)))]
        else:
            found = doc.xpath(expr) if kind == "xpath" else doc.cssselect(expr)
            for node in found:
                if isinstance(node, str):
                    hrefs.append(node)
                elif getattr(node, "tag", None) == "a" and node.get("href"):
                    hrefs.append(node.get("href"))
                elif hasattr(node, "xpath"):
                    hrefs.extend(str(h) for h in node.xpath(".//a/@href"))
    except (re.error, etree.XPathError, ValueError) as exc:
        raise ConfigError(f"链接选择器无效 / invalid follow selector {follow!r}: {exc}") from exc
    base_host = urlsplit(base_url).hostname
    links: list[str] = []
    for href in hrefs:
        absolute = urldefrag(urljoin(base_url, str(href).strip()))[0]
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if not any_host and parts.hostname != base_host:
            continue
        if absolute != base_url and absolute not in links:
            links.append(absolute)
    return links


def _meta(doc: Any, names: tuple[str, ...]) -> str | None:
    for node in doc.xpath("//meta[@content]"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        if key in names and node.get("content", "").strip():
            return str(node.get("content")).strip()
    return None


def _published(doc: Any, text: str, extracted_date: str | None) -> str | None:
    found = _meta(doc, _META_TIME)
    if found:
        return found
    for node in doc.xpath("//time[@datetime]"):
        if node.get("datetime", "").strip():
            return str(node.get("datetime")).strip()
    match = _CN_DATETIME.search(text[:3000])
    if match:
        y, mo, d, h, mi, s = match.groups()
        if h is not None:
            return f"{y}-{int(mo):02d}-{int(d):02d} {int(h):02d}:{mi}:{s or '00'}"
        return f"{y}-{int(mo):02d}-{int(d):02d}"
    return extracted_date


def extract_article(
    body: bytes, url: str | None, *, declared: str | None = None, min_chars: int = 20
) -> ItemDraft:
    """Pure: an article page -> one draft (title, body text, publish time, author)."""
    import trafilatura

    doc, text = _html(body, declared)
    try:
        found = trafilatura.bare_extraction(
            text,
            url=url,
            with_metadata=True,
            include_comments=False,
            date_extraction_params={
                # No "extensive search": it loads dateparser's locales (seconds) and _published()
                # already reads <meta>, <time> and Chinese/ISO date-times in the text first.
                "extensive_search": False,
                "original_date": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z",
            },
        )
    except Exception as exc:  # trafilatura on hostile HTML: report, never crash the loop
        raise ParseError(
            f"正文抽取失败 / extraction failed: {exc}", code="no_content", reason="no_content"
        ) from exc
    body_text = (getattr(found, "text", None) or "").strip() if found is not None else ""
    if len(body_text) < min_chars:
        raise ParseError(
            f"页面无可抽取正文 / no article text could be extracted ({len(body_text)} chars)",
            code="no_content",
            reason="no_content",
        )
    title = (getattr(found, "title", None) or "").strip()
    if not title:
        title = (doc.findtext(".//title") or "").strip()
    author = getattr(found, "author", None) or _meta(doc, _META_AUTHOR)
    if not author:
        match = _CN_AUTHOR.search(body_text[:500])
        author = match.group(1) if match else None
    published = _published(doc, body_text, getattr(found, "date", None))
    return ItemDraft(
        title=title[:1000],
        text=body_text,
        url=url,
        external_id=url,
        author=(author or None),
        published=published,
        extra={"sitename": getattr(found, "sitename", None)} if found is not None else {},
    )


class WebConnector:
    """``kind = "web"``: list pages and article pages (see the module doc for the configuration)."""

    name: ClassVar[str] = "web"
    pollable: ClassVar[bool] = True

    @staticmethod
    def _config(source: Any) -> dict[str, Any]:
        return dict(source.config or {})

    def _list_url(self, source: Any) -> str:
        url = self._config(source).get("list_url") or source.url
        if not url:
            raise ConfigError(f"信息源缺少地址 / source {source.name} has no url or list_url")
        return str(url)

    def _seen(self, ctx: Any, source: Any, links: list[str]) -> set[str]:
        if not links or getattr(source, "id", None) is None:
            return set()
        from sqlalchemy import select

        from yuqing.sources.models import Mention, RawItem

        with ctx.db.session() as s:
            raw = s.scalars(select(RawItem.url).where(RawItem.source_id == source.id, RawItem.url.in_(links)))
            seen = {u for u in raw if u}
            ment = s.scalars(
                select(Mention.url).where(Mention.source_id == source.id, Mention.url.in_(links))
            )
            seen.update(u for u in ment if u)
        return seen

    def fetch(self, source: Any, ctx: Any) -> list[RawPayload]:
        cfg = self._config(source)
        fetcher = get_fetcher(ctx)
        allow_private = bool(source.allow_private)
        url = self._list_url(source)
        follow = cfg.get("follow")
        first = fetcher.fetch(
            url,
            allow_private=allow_private,
            etag=source.etag,
            last_modified=source.last_modified,
            accept=HTML_ACCEPT,
        )
        page = first.to_payload()
        page.headers[PAGE_HEADER] = "list" if follow else "article"
        if not follow or first.not_modified:
            return [page]
        try:
            links = extract_links(
                first.body,
                first.url,
                str(follow),
                declared=charset_of(first.content_type),
                any_host=bool(cfg.get("any_host")),
            )
        except ParseError:
            return [page]  # parse() reports it from the stored page
        seen = self._seen(ctx, source, links)
        limit = int(cfg.get("max_articles") or ctx.settings.http.max_articles)
        fresh = [u for u in links if u not in seen][:limit]
        if not fresh:
            # Nothing new on the list page: treated like a 304, so an unchanged dynamic list page is
            # not stored again at every poll (its ETag, if any, is still remembered).
            page.not_modified = True
            return [page]
        payloads = [page]
        for link in fresh:
            try:
                article = fetcher.fetch(link, allow_private=allow_private, accept=HTML_ACCEPT).to_payload()
            except FetchError as exc:
                kept = exc.detail.get("payload")
                if isinstance(kept, RawPayload):
                    kept.headers[PAGE_HEADER] = "article"
                    kept.headers["x-yuqing-fetch-error"] = exc.code
                    payloads.append(kept)
                log.warning("article fetch failed (%s): %s", exc.code, exc.message)
                continue
            article.headers[PAGE_HEADER] = "article"
            payloads.append(article)
        return payloads

    def parse(self, source: Any, raw: RawPayload) -> ParseResult:
        if raw.not_modified:
            return ParseResult()
        cfg = self._config(source)
        declared = raw.encoding or charset_of(raw.content_type)
        role = (raw.headers or {}).get(PAGE_HEADER) or ("list" if cfg.get("follow") else "article")
        if not raw.body or not raw.body.strip():
            raise ParseError("内容为空 / empty body", code="empty_body", reason="empty_body")
        failed = (raw.headers or {}).get("x-yuqing-fetch-error")
        if failed:
            raise ParseError(
                f"抓取失败（HTTP {raw.http_status}）/ fetch failed: {failed}", code=failed, reason=failed
            )
        if role == "list":
            links = extract_links(
                raw.body,
                raw.url or self._list_url(source),
                str(cfg.get("follow")),
                declared=declared,
                any_host=bool(cfg.get("any_host")),
            )
            return ParseResult(follow=links)
        draft = extract_article(raw.body, raw.url, declared=declared, min_chars=int(cfg.get("min_chars", 20)))
        return ParseResult(items=[draft])
