"""A real HTTP server on 127.0.0.1 serving the fetch fixtures (feeds, pages, bad input)."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

ZH = "某银行信用卡年费争议：客户投诉被多收取年费，银行回应称将尽快核查，并在三个工作日内给予答复。"
TW = "某銀行信用卡年費爭議：客戶投訴被多收取年費，銀行回應稱將儘快核查，並在三個工作日內給予答覆。"

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>财经要闻</title><link>http://news.example.com/</link>
<item><title>某银行被指乱收年费</title><link>http://news.example.com/a/1.html?utm_source=rss</link>
<guid>news-1</guid><description>&lt;p&gt;客户投诉称被多收取 &lt;b&gt;年费&lt;/b&gt;。&lt;/p&gt;</description>
<pubDate>Mon, 02 Mar 2026 08:00:00 +0800</pubDate><author>张记者</author></item>
<item><title>银行回应年费争议</title><link>http://news.example.com/a/2.html</link>
<guid>news-2</guid><description>银行表示将核查。</description><pubDate>2026年3月2日 10:30</pubDate></item>
<item><title>Bank responds to fee complaints</title><link>http://news.example.com/a/3.html</link>
<description>An English item.</description></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>论坛热帖</title><id>urn:forum</id>
<updated>2026-03-02T02:00:00Z</updated>
<entry><title>信用卡年费被乱扣，有同样遭遇的吗</title><id>urn:forum:post:77</id>
<link href="http://bbs.example.com/t/77"/><updated>2026-03-02T01:30:00Z</updated>
<author><name>理财小白</name></author>
<content type="html">&lt;p&gt;昨天发现被扣了年费&lt;/p&gt;</content></entry>
</feed>
"""

ARTICLE = """<html><head>{meta}<title>{title} - 财经网</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/finance/">财经</a></div>
<article><h1>{title}</h1><p class="info">2026年3月2日 10:30 来源：财经网 作者：李四</p>
<p>{body}</p><p>{body}</p>
<p>业内人士认为，银行收费应当公开透明，消费者也应注意阅读合同条款，保护自身合法权益。</p></article>
<div class="footer">版权所有 财经网</div></body></html>
"""

LIST = """<html><head><meta charset="utf-8"><title>财经频道</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/about.html">关于</a></div>
<ul class="news">
<li><a href="/articles/1.html">某银行被指乱收年费</a></li>
<li><a href="/articles/2.html#comments">银行回应年费争议</a></li>
<li><a href="http://other.example.org/x.html">外站链接</a></li>
<li><a href="javascript:void(0)">脚本链接</a></li>
</ul></body></html>
"""


def article(title: str, body: str, meta: str = "") -> str:
    return ARTICLE.format(title=title, body=body, meta=meta)


Route = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Server:
    host: str
    port: int
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [p for p, _ in self.hits]


def send(
    handler: http.server.BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Length", str(len(body)))
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def default_routes(server: Server) -> dict[str, Route]:
    def robots(h: http.server.BaseHTTPRequestHandler) -> None:
        send(
            h,
            200,
            b"User-agent: *\nDisallow: /\n\nUser-agent: yuqing\nDisallow: /private/\nDisallow: /no-yuqing/\n",
            {"Content-Type": "text/plain"},
        )

    def feed(h: http.server.BaseHTTPRequestHandler) -> None:
        etag = '"feed-v1"'
        if h.headers.get("If-None-Match") == etag:
            send(h, 304, headers={"ETag": etag})
            return
        send(
            h,
            200,
            RSS.encode("utf-8"),
            {
                "Content-Type": "application/rss+xml; charset=utf-8",
                "ETag": etag,
                "Last-Modified": "Mon, 02 Mar 2026 02:00:00 GMT",
            },
        )

    def static(body: bytes, ctype: str) -> Route:
        return lambda h: send(h, 200, body, {"Content-Type": ctype})

    def redirect(target: str, status: int = 302) -> Route:
        return lambda h: send(h, status, headers={"Location": target})

    def huge(h: http.server.BaseHTTPRequestHandler) -> None:
        size = 10 * 1024 * 1024
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()  # no Content-Length: the limit must be enforced while streaming
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        try:
            sent = 0
            while sent < size and not server.stop.is_set():
                h.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True

    def huge_declared(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(10 * 1024 * 1024))
        h.end_headers()
        h.close_connection = True

    def stall(h: http.server.BaseHTTPRequestHandler) -> None:
        server.stop.wait(5)  # never answers within the test's timeout

    def gbk_feed(h: http.server.BaseHTTPRequestHandler) -> None:
        body = RSS.replace('encoding="utf-8"', 'encoding="gbk"').encode("gbk")
        send(h, 200, body, {"Content-Type": "application/rss+xml; charset=utf-8"})  # the header lies

    gbk_page = article("某银行被指乱收年费", ZH, '<meta charset="utf-8">').encode("gbk")
    big5_page = (
        "<html><head><title>某銀行被指亂收年費 - 財經網</title></head><body><article>"
        "<h1>某銀行被指亂收年費</h1>"
        f"<p>2026年3月2日 10:30 來源：財經網 作者：王五</p><p>{TW}</p><p>{TW}</p>"
        "<p>業內人士認為，銀行收費應當公開透明，消費者也應注意閱讀合約條款。</p></article></body></html>"
    ).encode("big5")
    return {
        "/robots.txt": robots,
        "/feed.xml": feed,
        "/atom.xml": static(ATOM.encode("utf-8"), "application/atom+xml"),
        "/gbk-feed.xml": gbk_feed,
        "/malformed.xml": static(
            b"<?xml version='1.0'?><rss version='2.0'><channel><title>broken &bogus; </titl",
            "application/xml",
        ),
        "/partial.xml": static(
            RSS.replace("</channel></rss>", "<item><title>broken & <i>unclosed</item>").encode("utf-8"),
            "application/xml",
        ),
        "/empty": static(b"", "application/rss+xml"),
        "/html-not-feed": static(b"<html><body><p>not a feed</p></body></html>", "text/html"),
        "/gbk.html": static(gbk_page, "text/html; charset=utf-8"),  # the header lies
        "/big5.html": static(big5_page, "text/html"),
        "/list.html": static(LIST.encode("utf-8"), "text/html; charset=utf-8"),
        "/articles/1.html": static(
            article("某银行被指乱收年费", ZH, '<meta charset="utf-8">').encode("utf-8"),
            "text/html; charset=utf-8",
        ),
        "/articles/2.html": static(
            article("银行回应年费争议", ZH.replace("投诉", "反映")).encode("gbk"),
            "text/html; charset=iso-8859-1",
        ),
        "/about.html": static(b"<html><body><p>about</p></body></html>", "text/html"),
        "/nocontent.html": static(
            b"<html><head><title>x</title></head><body><div></div></body></html>", "text/html"
        ),
        "/huge": huge,
        "/huge-declared": huge_declared,
        "/stall": stall,
        "/loop": redirect("/loop2"),
        "/loop2": redirect("/loop"),
        "/chain/0": static(b"end of chain", "text/plain"),
        **{f"/chain/{n}": redirect(f"/chain/{n - 1}") for n in range(1, 12)},
        "/to-feed": redirect("/feed.xml", 301),
        "/server-error": lambda h: send(h, 503, b"<html>maintenance</html>", {"Content-Type": "text/html"}),
        "/private/secret": static(b"secret", "text/plain"),
        "/no-yuqing/page": static(b"page", "text/plain"),
    }


@contextmanager
def serve(
    host: str = "127.0.0.1", extra: dict[str, Route] | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[Server]:
    holder: dict[str, Server] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            srv = holder["server"]
            path = self.path.split("?", 1)[0]
            srv.hits.append((path, {k.lower(): v for k, v in self.headers.items()}))
            route = srv.routes.get(path)
            if route is None:
                send(self, 404, b"not found", {"Content-Type": "text/plain"})
                return
            route(self)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    server = Server(host=host, port=httpd.server_address[1])
    server.routes = default_routes(server)
    server.routes.update(extra or {})
    holder["server"] = server
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        httpd.shutdown()
        httpd.server_close()
