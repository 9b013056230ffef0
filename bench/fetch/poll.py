"""Fetch benchmark: charset detection speed, and poll + parse + ingest throughput of RSS sources
served by a local HTTP server into a scratch SQLite database.

    python -m bench.fetch.poll [--sources 20] [--items 50]

Prints JSON figures. The server runs on 127.0.0.1 in a thread, so the figures measure our side
(HTTP client, charset, feedparser, normalise/dedup/store), not the network.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import platform
import random
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from yuqing.config import load_settings
from yuqing.core.context import create_context
from yuqing.sources.charset import decode_bytes
from yuqing.sources.models import Source
from yuqing.sources.scheduler import Scheduler

WORDS = [
    "银行",
    "信用卡",
    "年费",
    "投诉",
    "客户",
    "回应",
    "核查",
    "监管",
    "手续费",
    "争议",
    "网友",
    "理财",
    "存款",
    "贷款",
    "利率",
    "服务",
    "网点",
    "客服",
]


def sentence(rng: random.Random, n: int = 40) -> str:
    return "".join(rng.choice(WORDS) for _ in range(n // 2)) + "。"


def make_feed(rng: random.Random, feed_no: int, items: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>f</title>']
    for i in range(items):
        parts.append(
            f"<item><title>{sentence(rng, 16)}</title><link>http://news{feed_no}.example.com/a/{i}.html</link>"
            f"<guid>f{feed_no}-{i}</guid><description>{sentence(rng, 200)}</description>"
            f"<pubDate>Mon, 02 Mar 2026 08:{i % 60:02d}:00 +0800</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("gbk")


def bench_charset(rng: random.Random) -> dict[str, float]:
    text = "".join(sentence(rng, 400) for _ in range(250))  # ~50k characters
    out: dict[str, float] = {}
    for enc, declared in (("utf-8", "utf-8"), ("gbk", "utf-8"), ("big5", None)):
        body = text.encode(enc, "replace")
        runs = 20
        start = time.perf_counter()
        for _ in range(runs):
            decode_bytes(body, declared)
        elapsed = time.perf_counter() - start
        out[f"charset_{enc}_mb_per_s"] = round(len(body) * runs / elapsed / 1e6, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(1)
    feeds = {f"/feed/{n}.xml": make_feed(rng, n, args.items) for n in range(args.sources)}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = feeds.get(self.path, b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")  # lies: body is GBK
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    figures: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "sources": args.sources,
        "items_per_feed": args.items,
    }
    figures.update(bench_charset(rng))
    with tempfile.TemporaryDirectory() as tmp:
        ctx = create_context(load_settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        with ctx.db.session() as s:
            for n in range(args.sources):
                s.add(
                    Source(
                        name=f"feed-{n}",
                        kind="rss",
                        url=f"http://127.0.0.1:{httpd.server_port}/feed/{n}.xml",
                        allow_private=True,
                        created_at=ctx.clock.now(),
                        config={},
                    )
                )
        scheduler = Scheduler(ctx, rng=random.Random(2))
        start = time.perf_counter()
        outcomes = scheduler.run_once()
        elapsed = time.perf_counter() - start
        new = sum(o.counts.get("new", 0) for o in outcomes)
        figures.update(
            {
                "polls": len(outcomes),
                "polls_ok": sum(o.ok for o in outcomes),
                "mentions_new": new,
                "poll_ingest_seconds": round(elapsed, 3),
                "polls_per_s": round(len(outcomes) / elapsed, 1),
                "mentions_per_s": round(new / elapsed, 1),
            }
        )
        ctx.db.dispose()
    httpd.shutdown()
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
