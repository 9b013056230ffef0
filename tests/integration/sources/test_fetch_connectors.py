"""The rss and web connectors' fetch + parse against a real local server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from test_fetch_support import TW, ZH, Server, serve

from yuqing.config import load_settings
from yuqing.core.clock import ManualClock
from yuqing.core.plugins import CONNECTORS, load
from yuqing.errors import FetchError, ParseError
from yuqing.sources.base import Connector
from yuqing.sources.connectors.rss import RssConnector
from yuqing.sources.connectors.web import PAGE_HEADER, WebConnector


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv


@pytest.fixture
def fctx() -> Any:
    """Just what a connector's fetch needs (settings, clock, extras): no database for these tests."""
    settings = load_settings(database_url="sqlite://")
    settings.http.timeout = 1.0
    return SimpleNamespace(settings=settings, clock=ManualClock(), extras={}, db=None)


def source(url: str, kind: str = "rss", **config: Any) -> SimpleNamespace:
    return SimpleNamespace(
        id=None,
        name=f"test-{kind}",
        kind=kind,
        url=url,
        allow_private=True,
        etag=None,
        last_modified=None,
        config=config,
        platform="news",
    )


def test_connectors_are_registered_plugins() -> None:
    assert load(CONNECTORS, "rss") is RssConnector
    assert load(CONNECTORS, "web") is WebConnector
    assert isinstance(RssConnector(), Connector) and isinstance(WebConnector(), Connector)


def test_rss_feed_items(server: Server, fctx: Any) -> None:
    conn = RssConnector()
    src = source(server.url("/feed.xml"))
    payloads = conn.fetch(src, fctx)
    assert len(payloads) == 1 and payloads[0].http_status == 200
    assert payloads[0].headers["etag"] == '"feed-v1"'
    result = conn.parse(src, payloads[0])
    assert not result.errors
    first, second, third = result.items
    assert first.external_id == "news-1" and first.title == "某银行被指乱收年费"
    assert first.url == "http://news.example.com/a/1.html?utm_source=rss"
    assert "年费" in first.text and first.author == "张记者"
    assert first.published == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert second.published == "2026年3月2日 10:30"  # left to the Chinese time parser
    assert third.external_id == "http://news.example.com/a/3.html" and third.published is None


def test_rss_conditional_get(server: Server, fctx: Any) -> None:
    conn = RssConnector()
    src = source(server.url("/feed.xml"))
    src.etag = '"feed-v1"'
    [payload] = conn.fetch(src, fctx)
    assert payload.not_modified and payload.body == b""
    assert conn.parse(src, payload).items == []


def test_atom_feed(server: Server, fctx: Any) -> None:
    conn = RssConnector()
    src = source(server.url("/atom.xml"))
    [item] = conn.parse(src, conn.fetch(src, fctx)[0]).items
    assert item.external_id == "urn:forum:post:77"
    assert item.author == "理财小白" and item.url == "http://bbs.example.com/t/77"
    assert "年费" in item.text
    assert item.published == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_gbk_feed_with_a_lying_header(server: Server, fctx: Any) -> None:
    conn = RssConnector()
    src = source(server.url("/gbk-feed.xml"))
    result = conn.parse(src, conn.fetch(src, fctx)[0])
    assert [i.title for i in result.items][:2] == ["某银行被指乱收年费", "银行回应年费争议"]


@pytest.mark.parametrize(
    ("path", "code"),
    [("/malformed.xml", "malformed_feed"), ("/empty", "empty_body"), ("/html-not-feed", "malformed_feed")],
)
def test_unreadable_feeds_raise_parse_error_with_a_reason(
    server: Server, fctx: Any, path: str, code: str
) -> None:
    conn = RssConnector()
    src = source(server.url(path))
    [payload] = conn.fetch(src, fctx)
    with pytest.raises(ParseError) as info:
        conn.parse(src, payload)
    assert info.value.code == code and info.value.detail["reason"] == code


def test_partly_malformed_feed_gives_items_and_an_error(server: Server, fctx: Any) -> None:
    conn = RssConnector()
    src = source(server.url("/partial.xml"))
    result = conn.parse(src, conn.fetch(src, fctx)[0])
    assert len(result.items) >= 3
    assert "feed_partially_malformed" in [e.reason for e in result.errors]


def test_fetch_failures_keep_the_body_when_one_arrived(server: Server, fctx: Any) -> None:
    with pytest.raises(FetchError) as info:
        RssConnector().fetch(source(server.url("/server-error")), fctx)
    assert info.value.code == "http_error" and info.value.detail["payload"].body.startswith(b"<html>")
    fctx.settings.http.max_bytes = 200_000
    with pytest.raises(FetchError) as info:
        RssConnector().fetch(source(server.url("/huge")), fctx)
    assert info.value.code == "too_large" and len(info.value.detail["payload"].body) == 200_000


def test_private_source_refused_without_allow_private(server: Server, fctx: Any) -> None:
    src = source(server.url("/feed.xml"))
    src.allow_private = False
    with pytest.raises(FetchError) as info:
        RssConnector().fetch(src, fctx)
    assert info.value.code == "blocked_address"


@pytest.mark.parametrize(
    ("path", "title", "fragment"),
    [
        ("/gbk.html", "某银行被指乱收年费", ZH[:20]),  # GBK body, header and <meta> both say utf-8
        ("/big5.html", "某銀行被指亂收年費", TW[:20]),  # Big5, no charset anywhere
        ("/articles/2.html", "银行回应年费争议", "反映"),  # GBK, header says iso-8859-1
    ],
)
def test_web_article_pages(server: Server, fctx: Any, path: str, title: str, fragment: str) -> None:
    conn = WebConnector()
    src = source(server.url(path), kind="web")
    [payload] = conn.fetch(src, fctx)
    assert payload.headers[PAGE_HEADER] == "article"
    [item] = conn.parse(src, payload).items
    assert item.title == title
    assert fragment in item.text
    assert item.published == "2026-03-02 10:30:00"
    assert item.author in ("李四", "王五")
    assert item.url == server.url(path)


def test_web_list_page_follows_article_links(server: Server, fctx: Any) -> None:
    conn = WebConnector()
    src = source(server.url("/list.html"), kind="web", follow="css:ul.news a")
    payloads = conn.fetch(src, fctx)
    assert [p.headers[PAGE_HEADER] for p in payloads] == ["list", "article", "article"]
    listing = conn.parse(src, payloads[0])
    assert listing.items == [] and listing.follow == [
        server.url("/articles/1.html"),
        server.url("/articles/2.html"),
    ]
    titles = [conn.parse(src, p).items[0].title for p in payloads[1:]]
    assert titles == ["某银行被指乱收年费", "银行回应年费争议"]


@pytest.mark.parametrize(
    "follow",
    [
        "ul.news a",
        "xpath://ul[@class='news']//a/@href",
        "xpath://ul[@class='news']/li",
        r"re:/articles/\d+\.html$",
    ],
)
def test_follow_selector_kinds(server: Server, fctx: Any, follow: str) -> None:
    conn = WebConnector()
    src = source(server.url("/list.html"), kind="web", follow=follow, max_articles=1)
    payloads = conn.fetch(src, fctx)
    assert len(payloads) == 2  # the list page and max_articles=1 article
    assert conn.parse(src, payloads[0]).follow[0] == server.url("/articles/1.html")


def test_web_page_without_content(server: Server, fctx: Any) -> None:
    conn = WebConnector()
    src = source(server.url("/nocontent.html"), kind="web")
    [payload] = conn.fetch(src, fctx)
    with pytest.raises(ParseError) as info:
        conn.parse(src, payload)
    assert info.value.code == "no_content"


def test_web_empty_body(server: Server, fctx: Any) -> None:
    conn = WebConnector()
    src = source(server.url("/empty"), kind="web")
    with pytest.raises(ParseError) as info:
        conn.parse(src, conn.fetch(src, fctx)[0])
    assert info.value.code == "empty_body"
