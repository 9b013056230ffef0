"""Pure core of ingest: URL canonicalisation, publish-time parsing, text normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.sources.normalise import clean_text, content_hash, guess_lang
from yuqing.sources.timeparse import TimeParseError, parse_published
from yuqing.sources.urls import canonicalise

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Www.Example.COM:80/a?b=2&a=1", "http://www.example.com/a?a=1&b=2"),
        ("https://example.com:443/x#frag", "https://example.com/x"),
        ("https://example.com:8443", "https://example.com:8443/"),
        (
            "https://news.example.cn/a.html?utm_source=wb&utm_medium=x&id=7",
            "https://news.example.cn/a.html?id=7",
        ),
        (
            "https://m.example.cn/p?spm=a2c4.1&from=timeline&share_token=zz&wfr=spider",
            "https://m.example.cn/p",
        ),
        ("https://a.com/p?fbclid=1&gclid=2&q=%E5%8D%8E", "https://a.com/p?q=%E5%8D%8E"),
        ("https://例子.中国/路径", "https://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84"),
        ("https://user:pw@example.com/x", "https://example.com/x"),
        ("https://example.com/%7euser", "https://example.com/~user"),
        ("https://example.com/a?", "https://example.com/a"),
        ("ftp://example.com/x", None),
        ("javascript:alert(1)", None),
        ("not a url", None),
        ("", None),
        (None, None),
        ("http://exa mple.com/\n", None),
    ],
)
def test_canonicalise_table(url: str | None, expected: str | None) -> None:
    assert canonicalise(url) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_canonicalise_is_idempotent_on_anything(tail: str) -> None:
    for url in (tail, f"https://Example.com/{tail}", f"http://a.cn/p?{tail}#x"):
        once = canonicalise(url)
        if once is not None:
            assert canonicalise(once) == once


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "utm_x", "spm", "id"]), st.text(max_size=5)), max_size=5),
    st.sampled_from(["http", "HTTPS"]),
)
def test_canonicalise_strips_tracking_and_sorts(params: list[tuple[str, str]], scheme: str) -> None:
    from urllib.parse import urlencode

    url = f"{scheme}://Host.Example.org/p?{urlencode(params)}"
    out = canonicalise(url)
    assert out is not None
    assert "utm_x=" not in out and "spm=" not in out
    assert out.startswith(scheme.lower() + "://host.example.org/p")
    assert canonicalise(out) == out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T10:30:00+08:00", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("2024-03-05T02:30:00Z", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 4, 16, 0, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:30:00 +0800", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 02:30:00 GMT", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        (1709605800, datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("1709605800", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("1709605800000", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        (1709605800123.0, datetime(2024, 3, 5, 2, 30, 0, 123000, tzinfo=UTC)),
        ("2024年3月5日 10:30", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("2024年3月5日", datetime(2024, 3, 4, 16, 0, tzinfo=UTC)),
        ("2024-03-05 10:30", datetime(2024, 3, 5, 2, 30, tzinfo=UTC)),
        ("2024/3/5 10:30:15", datetime(2024, 3, 5, 2, 30, 15, tzinfo=UTC)),
        ("02-28 10:30", datetime(2026, 2, 28, 2, 30, tzinfo=UTC)),  # this year
        ("12-31 23:00", datetime(2025, 12, 31, 15, 0, tzinfo=UTC)),  # would be future: last year
        ("3月1日 08:00", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
        ("刚刚", NOW),
        ("3分钟前", NOW - timedelta(minutes=3)),
        ("2小时前", NOW - timedelta(hours=2)),
        ("半小时前", NOW - timedelta(minutes=30)),
        ("3天前", NOW - timedelta(days=3)),
        ("10秒前", NOW - timedelta(seconds=10)),
        ("今天 09:15", datetime(2026, 3, 2, 1, 15, tzinfo=UTC)),
        ("昨天 14:02", datetime(2026, 3, 1, 6, 2, tzinfo=UTC)),
        ("昨天14：02", datetime(2026, 3, 1, 6, 2, tzinfo=UTC)),
        ("前天 08:00", datetime(2026, 2, 28, 0, 0, tzinfo=UTC)),
        ("5 minutes ago", NOW - timedelta(minutes=5)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("2 days ago", NOW - timedelta(days=2)),
        ("just now", NOW),
        ("yesterday", datetime(2026, 2, 28, 16, 0, tzinfo=UTC)),
        ("Yesterday 14:02", datetime(2026, 3, 1, 6, 2, tzinfo=UTC)),
        (datetime(2026, 3, 1, 12, 0), datetime(2026, 3, 1, 4, 0, tzinfo=UTC)),  # naive = Shanghai
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_parse_published_table(value: object, expected: datetime) -> None:
    assert parse_published(value, NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "明天下午",
        "soon",
        "2027-01-01 10:00",
        "3天后",
        "32-13 10:00",
        "2024-02-30",
        None,
        True,
        [],
        "0",
        -5,
    ],
)
def test_parse_published_rejects(value: object) -> None:
    with pytest.raises(TimeParseError):
        parse_published(value, NOW)


def test_parse_published_other_zone() -> None:
    assert parse_published("2024-03-05 10:30", NOW, tz="America/New_York") == datetime(
        2024, 3, 5, 15, 30, tzinfo=UTC
    )


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.integers(),
        st.floats(allow_nan=True),
        st.datetimes(timezones=st.just(UTC)),
        st.from_regex(r"\d{1,4}(分钟|小时|天|秒)前", fullmatch=True),
        st.from_regex(r"(今天|昨天|前天) ?\d{1,2}:\d{2}", fullmatch=True),
        st.from_regex(r"\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?", fullmatch=True),
    )
)
def test_parse_published_never_raises_anything_else(value: object) -> None:
    try:
        result = parse_published(value, NOW)
    except TimeParseError:
        return
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)
    assert result - NOW <= timedelta(days=1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>华信银行&nbsp;收费</p><p>第二段</p>", "华信银行 收费\n第二段"),
        (
            "<html><head><title>t</title><style>p{}</style></head><body><script>x()</script>正文</body></html>",
            "正文",
        ),
        ("a &lt; b &amp;&amp; c", "a < b && c"),
        ("a < b and c > d", "a < b and c > d"),
        ("零\u200b宽\u200d字\ufeff符", "零宽字符"),
        ("  多个   空格\t\t和\r\n\r\n换行  ", "多个 空格 和\n换行"),
        ("ＡＢＣ１２３", "ABC123"),
        ("<!-- comment -->text<br/>more", "text\nmore"),
        ("", ""),
        (None, ""),
        ("<div><p>unclosed", "unclosed"),
    ],
)
def test_clean_text_table(raw: str | None, expected: str) -> None:
    assert clean_text(raw) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_clean_text_never_raises_and_is_stable(raw: str) -> None:
    once = clean_text(raw)
    assert "\u200b" not in once
    assert once == once.strip()


def test_content_hash_ignores_spacing_and_case() -> None:
    assert content_hash("Title", "Some  text\n") == content_hash("title", "some text")
    assert content_hash("Title", "Some text") != content_hash("Title", "Other text")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("华信银行信用卡分期手续费争议", "zh"),
        ("Huaxin Bank under fire over fees", "en"),
        ("华信银行 HXB fee dispute 华信", "zh"),
        ("Привет мир", "other"),
        ("12345 !!!", "other"),
        ("", "other"),
    ],
)
def test_guess_lang(text: str, lang: str) -> None:
    assert guess_lang(text) == lang
