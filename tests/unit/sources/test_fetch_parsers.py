"""Property-based and table tests of the feed and web-page parsers (pure, no network)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from yuqing.errors import ConfigError, ParseError
from yuqing.sources.connectors.rss import parse_feed
from yuqing.sources.connectors.web import extract_article, extract_links

RSS_ITEM = "<item><title>{title}</title><link>{link}</link><description>{text}</description>{extra}</item>"


def feed(*items: str, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>c</title>'
        + "".join(items)
        + "</channel></rss>"
    )


# ASCII, common Han and Chinese punctuation. (Latin-1 pairs such as "Â¡" are left out on purpose:
# feedparser "repairs" them as double-encoded UTF-8, which is its choice, not a charset error.)
xml_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="<>&"),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
        st.sampled_from("，。：“”！？、《》"),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_parse_feed_on_arbitrary_bytes_only_raises_parse_error(body: bytes) -> None:
    try:
        result = parse_feed(body)
    except ParseError as exc:
        assert exc.code in ("empty_body", "malformed_feed")
    else:
        assert all(item.title or item.text or item.url for item in result.items)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(xml_text, xml_text), min_size=1, max_size=5), st.sampled_from(["utf-8", "gb18030"]))
def test_generated_feeds_round_trip(items: list[tuple[str, str]], encoding: str) -> None:
    body = feed(
        *(
            RSS_ITEM.format(title=t, link=f"http://e.com/{i}", text=x, extra="")
            for i, (t, x) in enumerate(items)
        ),
        encoding=encoding,
    ).encode(encoding)
    if encoding == "gb18030":  # GB18030 bytes that are UTF-8 for CJK too are ambiguous (docs/fetching.md)
        with contextlib.suppress(UnicodeDecodeError):
            assume(all(ord(c) < 0x800 for c in body.decode("utf-8")))
    result = parse_feed(body, "utf-8")  # the header may lie: the XML declaration or detection wins
    assert [d.url for d in result.items] == [f"http://e.com/{i}" for i in range(len(items))]
    for draft, (title, _) in zip(result.items, items, strict=True):
        assert draft.title == title.strip()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("<pubDate>Mon, 02 Mar 2026 08:00:00 +0800</pubDate>", datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),
        ("<pubDate>2026-03-02T08:00:00Z</pubDate>", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        ("<pubDate>2026年3月5日 10:30</pubDate>", "2026年3月5日 10:30"),
        ("<pubDate>3分钟前</pubDate>", "3分钟前"),
        ("<pubDate>昨天 14:02</pubDate>", "昨天 14:02"),
        ("", None),
    ],
)
def test_feed_dates(extra: str, expected: object) -> None:
    body = feed(RSS_ITEM.format(title="t", link="http://e.com/1", text="x", extra=extra)).encode()
    assert parse_feed(body).items[0].published == expected


def test_feed_item_without_anything_is_an_item_error() -> None:
    body = feed(
        "<item><description></description></item>",
        RSS_ITEM.format(title="ok", link="http://e.com/1", text="x", extra=""),
    ).encode()
    result = parse_feed(body)
    assert [d.title for d in result.items] == ["ok"]
    assert [e.reason for e in result.errors] == ["empty_item"]


def test_feed_without_guid_or_link_gets_a_stable_hash_id() -> None:
    body = feed("<item><title>只有标题</title></item>").encode()
    a = parse_feed(body).items[0].external_id
    b = parse_feed(body).items[0].external_id
    assert a == b and a is not None and a.startswith("sha256:")


def test_empty_feed_is_not_an_error() -> None:
    assert parse_feed(feed().encode()).items == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=800))
def test_extract_article_on_arbitrary_bytes_only_raises_parse_error(body: bytes) -> None:
    try:
        draft = extract_article(body, "http://e.com/a.html")
    except ParseError as exc:
        assert exc.code in ("empty_body", "no_content", "malformed_html")
    else:
        assert len(draft.text) >= 20


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_extract_links_on_arbitrary_html(html: str) -> None:
    try:
        links = extract_links(html.encode("utf-8"), "http://e.com/list", "a")
    except ParseError:
        return
    assert all(link.startswith("http://e.com/") for link in links)


def test_extract_links_rejects_a_bad_selector() -> None:
    with pytest.raises(ConfigError):
        extract_links(b"<html><a href='/x'>x</a></html>", "http://e.com/", "xpath://a[")


@pytest.mark.parametrize(
    ("head", "body_top", "expected"),
    [
        (
            '<meta property="article:published_time" content="2026-03-02T10:30:00+08:00">',
            "",
            "2026-03-02T10:30:00+08:00",
        ),
        ("", '<time datetime="2026-03-01T09:00:00Z">昨天</time>', "2026-03-01T09:00:00Z"),
        ("", "<p>发布时间：2026年3月5日 10:30</p>", "2026-03-05 10:30:00"),
        ("", "<p>2026-03-05 08:01:02 来源：新闻网</p>", "2026-03-05 08:01:02"),
    ],
)
def test_article_publish_time(head: str, body_top: str, expected: str) -> None:
    text = "银行年费争议持续发酵，多名客户表示被多收取费用，监管部门已关注此事并要求银行说明情况。" * 3
    html = (
        f"<html><head>{head}<title>标题</title></head>"
        f"<body>{body_top}<article><p>{text}</p></article></body></html>"
    )
    assert extract_article(html.encode("utf-8"), "http://e.com/a").published == expected
