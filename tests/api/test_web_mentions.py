"""Mentions API and pages: filters, Chinese search, cursor pagination, untrusted content inert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from web_support import XSS_TITLE, XSS_URL, login_client, seed_mentions

from yuqing.web import search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("招商银行", ["招商银行"]),
        ("信用卡 投诉", ["信用卡", "投诉"]),
        ("ATM 吞卡!", ["atm", "吞卡"]),
    ],
)
def test_query_terms(query, expected) -> None:
    assert search.query_terms(query) == expected


def test_index_terms_include_sub_words() -> None:
    terms = search.index_terms("招商银行信用卡", "")
    assert {"招商银行", "银行", "信用卡"} <= set(terms)


def test_query_without_words_is_422() -> None:
    from yuqing.errors import ValidationError

    with pytest.raises(ValidationError):
        search.query_terms("!!! ，。")


def test_filters_search_and_pagination(ctx) -> None:
    seeded = seed_mentions(ctx, n=9)
    client = login_client(ctx, "mon", ["monitor"])
    r = client.get("/api/v1/mentions", params={"limit": 4})
    assert r.status_code == 200
    page1 = r.json()
    assert len(page1["items"]) == 4 and page1["next_cursor"]
    published = [m["published_at"] for m in page1["items"]]
    assert published == sorted(published, reverse=True)
    seen = [m["id"] for m in page1["items"]]
    cursor = page1["next_cursor"]
    while cursor:
        page = client.get("/api/v1/mentions", params={"limit": 4, "cursor": cursor}).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(seeded["mention_ids"]) and len(set(seen)) == 9

    weibo = client.get("/api/v1/mentions", params={"platform": "weibo"}).json()["items"]
    assert weibo and all(m["platform"] == "weibo" for m in weibo)
    by_source = client.get("/api/v1/mentions", params={"source": seeded["news_id"]}).json()["items"]
    assert len(by_source) == 4 and all(m["source_name"] == "财经新闻" for m in by_source)

    now = ctx.clock.now()
    window = {"since": (now - timedelta(hours=4, minutes=30)).isoformat(), "until": now.isoformat()}
    assert len(client.get("/api/v1/mentions", params=window).json()["items"]) == 4
    bad = {"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()}
    r = client.get("/api/v1/mentions", params=bad)
    assert r.status_code == 422 and r.json()["code"] == "invalid_range"

    hits = client.get("/api/v1/mentions", params={"q": "信用卡投诉"}).json()["items"]
    assert hits and all("信用卡" in m["title"] for m in hits)
    assert len(hits) == 2  # mentions 0 and 4 (8 is the hostile one)
    assert client.get("/api/v1/mentions", params={"q": "银行"}).json()["items"]  # sub-word of 示例银行
    assert client.get("/api/v1/mentions", params={"q": "不存在的词语"}).json()["items"] == []
    r = client.get("/api/v1/mentions", params={"q": "!!!"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_query"


def test_bad_cursor_is_400(ctx) -> None:
    client = login_client(ctx, "mon", ["monitor"])
    r = client.get("/api/v1/mentions", params={"cursor": "forged"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"
    other = client.get("/api/v1/sources", params={"limit": 1})
    assert other.status_code == 200


def test_search_index_follows_the_bus(ctx) -> None:
    from yuqing.core.bus import MENTIONS_INGESTED
    from yuqing.sources.models import Mention
    from yuqing.web.models import MentionSearch
    from yuqing.web.stage import register

    seeded = seed_mentions(ctx, n=2)
    register(ctx)
    ids = seeded["mention_ids"]
    ctx.bus.publish(MENTIONS_INGESTED, [{"mention_id": i} for i in ids])
    ctx.bus.publish(MENTIONS_INGESTED, [{"mention_id": ids[0]}])  # redelivery: no duplicate
    with ctx.db.session() as s:
        assert s.query(MentionSearch).count() == 2
        s.get(Mention, ids[0]).title = "全新标题 存款利率"
    ctx.bus.publish(MENTIONS_INGESTED, [{"mention_id": ids[0]}])
    client = login_client(ctx, "mon", ["monitor"])
    hits = client.get("/api/v1/mentions", params={"q": "存款利率"}).json()["items"]
    assert [m["id"] for m in hits] == [ids[0]]


def test_hostile_mention_is_inert_in_api_and_page(ctx) -> None:
    seeded = seed_mentions(ctx, n=3)
    client = login_client(ctx, "mon", ["monitor"])
    hostile = seeded["mention_ids"][-1]
    body = client.get(f"/api/v1/mentions/{hostile}").json()
    assert body["title"] == XSS_TITLE  # data kept as text
    assert body["url"] is None  # javascript: never offered as a link
    good = client.get(f"/api/v1/mentions/{seeded['mention_ids'][0]}").json()
    assert good["url"].startswith("https://")

    page = client.get("/mentions", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html and "<img src=x" not in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert XSS_URL.replace("(", "(") in html  # shown as text only
    assert "<script" not in html.split("</head>", 1)[1]  # no script in the body at all


def test_pages_login_flow_overview_and_mentions(ctx) -> None:
    from web_support import PASSWORD, make_client

    from yuqing.web import auth

    seed_mentions(ctx, n=4)
    client = make_client(ctx)
    auth.add_user(ctx, "officer", PASSWORD, ["monitor"])
    r = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    page = client.get("/login")
    assert "登录" in page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"username": "officer", "password": "nope-nope", "csrf_token": token, "next": "/mentions"}
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    token = r.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form.update(password=PASSWORD, csrf_token=token, next="//evil.example.com")
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    r = client.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "信息总量" in r.text and 'data-chart="volume"' in r.text
    r = client.get("/mentions", params={"target": "99999999999999999999"}, headers={"Accept": "text/html"})
    assert r.status_code == 200  # an impossible target id is ignored, not a database error
    r = client.get("/mentions", params={"q": "排队"}, headers={"Accept": "text/html"})
    assert "网点排队时间过长" in r.text and "示例银行发布年度报告" not in r.text
    r = client.get("/lang/en", params={"next": "/mentions"}, follow_redirects=True)
    assert "Mentions" in r.text and "Search" in r.text
    vol = client.get("/api/v1/stats/volume", params={"days": 2}).json()
    assert len(vol["buckets"]) == 2 and sum(vol["series"][0]["counts"]) == 4
    # logout needs the CSRF token of the session
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    csrf = r.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
