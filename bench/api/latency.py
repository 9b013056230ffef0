"""p50/p95 latency of the main console pages and API calls over a large PostgreSQL store.

    python -m bench.api.latency [--mentions 1000000] [--requests 40] [--keep]

Creates a scratch PostgreSQL database (``$YUQING_BENCH_PG_URL``, default the local server),
migrates it, bulk-loads generated mentions with COPY (plus analysis results, target hits and the
search index rows), serves the app with uvicorn on 127.0.0.1 and times real HTTP requests with
a bounded loop. Prints one JSON document. The scratch database is dropped unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import SystemClock
from yuqing.core.context import AppContext
from yuqing.core.db import Database
from yuqing.web import auth
from yuqing.web.app import create_app
from yuqing.web.search import index_terms

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PLATFORMS = ("weibo", "news", "wechat", "complaint", "forum", "douyin", "xueqiu", "zhihu")
BANKS = ("华信银行", "东岳银行", "南海银行", "北辰银行", "西江银行")
SUBJECTS = (
    "信用卡",
    "分期手续费",
    "理财产品",
    "存款利率",
    "网点服务",
    "手机银行",
    "贷款审批",
    "小额账户管理费",
)
EVENTS = (
    "客户投诉",
    "乱收费",
    "系统故障",
    "暴雷",
    "排队两个小时",
    "被盗刷",
    "宣传误导",
    "利率下调",
    "获奖",
    "公益活动",
)
TAILS = (
    "要求退款",
    "监管介入调查",
    "已发布情况说明",
    "网友热议",
    "记者调查发现",
    "官方回应",
    "持续发酵",
    "引发关注",
)
SENTIMENTS = ("negative", "neutral", "positive")


def _pg(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def generate(
    n: int, now: datetime, rng: random.Random, offset: int = 0, hit_offset: int = 0
) -> tuple[list[tuple[Any, ...]], ...]:
    """Rows for mentions, analysis_results, analysis_target_hits, mention_search (ids offset+1..offset+n)."""
    mentions, results, hits, search = [], [], [], []
    hit_id = hit_offset
    for i in range(offset + 1, offset + n + 1):
        bank = rng.choice(BANKS)
        title = f"{bank}{rng.choice(SUBJECTS)}{rng.choice(EVENTS)}"
        body = (
            f"{title}，{rng.choice(TAILS)}。{rng.choice(SUBJECTS)}{rng.choice(EVENTS)}，{rng.choice(TAILS)}。"
        )
        published = now - timedelta(seconds=rng.randrange(30 * 86400))
        platform = rng.choice(PLATFORMS)
        source_id = 1 + (i % 20)
        mentions.append(
            (
                i,
                source_id,
                f"b{i}",
                platform,
                f"https://example.com/{platform}/{i}",
                title,
                body,
                f"作者{rng.randrange(5000)}",
                rng.randrange(100000),
                published,
                published + timedelta(minutes=1),
                0,
                0,
                0,
                0,
                "zh",
                f"{i:064x}",
                0,
                0,
                "{}",
            )
        )
        sentiment = rng.choices(SENTIMENTS, weights=(4, 4, 2))[0]
        prob = rng.random() * 0.5 + (0.5 if sentiment == "negative" else 0.0)
        results.append(
            (i, "zh", sentiment, prob, "{}", None, None, 0.0, "model", 1.0, "[]", "[]", "[]", "{}", published)
        )
        if rng.random() < 0.8:
            hit_id += 1
            target_id = 1 + BANKS.index(bank)
            hits.append((hit_id, i, target_id, "alias", "[]", sentiment == "negative", prob))
        search.append((i, " ".join(index_terms(title, body)), published))
    return mentions, results, hits, search


def fill_target_buckets(cur: Any) -> None:
    """The hourly per-target rollup the events stage maintains as mentions flow in."""
    cur.execute("DELETE FROM event_target_buckets")
    cur.execute(
        "INSERT INTO event_target_buckets (target_id, hour, count, negative_count) "
        "SELECT h.target_id, date_trunc('hour', m.published_at), count(*), sum(h.negative::int) "
        "FROM analysis_target_hits h JOIN mentions m ON m.id = h.mention_id GROUP BY 1, 2"
    )


def load(db_url: str, n: int, now: datetime, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    batch = 100_000
    timings = {"generate_s": 0.0, "copy_s": 0.0}
    with psycopg.connect(_pg(db_url)) as conn:
        with conn.cursor() as cur:
            for k in range(20):
                cur.execute(
                    "INSERT INTO sources (id, name, kind, platform, tier, config, enabled, allow_private, "
                    "poll_interval_s, consecutive_failures, items_total, created_at) "
                    "VALUES (%s, %s, 'rss', %s, 'local_media', '{}', true, false, 600, 0, 0, %s)",
                    (k + 1, f"source-{k + 1}", PLATFORMS[k % len(PLATFORMS)], now),
                )
            for k, bank in enumerate(BANKS):
                cur.execute(
                    "INSERT INTO targets (id, name, kind, aliases, executives, products, exclude, "
                    "is_own, enabled, created_at) "
                    "VALUES (%s, %s, 'organisation', '[]', '[]', '[]', '[]', %s, true, %s)",
                    (k + 1, bank, k == 0, now),
                )
        done = 0
        while done < n:
            size = min(batch, n - done)
            g0 = time.perf_counter()
            sub_rng = random.Random(rng.random())
            mentions, results, hits, search = generate(size, now, sub_rng, offset=done, hit_offset=done)
            timings["generate_s"] += time.perf_counter() - g0
            c0 = time.perf_counter()
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY mentions (id, source_id, external_id, platform, url, title, text, author, "
                    "author_followers, published_at, ingested_at, reposts, comments, likes, views, lang, "
                    "content_hash, dup_count, dup_reach, extra) FROM STDIN"
                ) as cp:
                    for row in mentions:
                        cp.write_row(row)
                with cur.copy(
                    "COPY analysis_results (mention_id, lang, sentiment, negative_prob, probs, "
                    "trigger_category, risk_type, risk_confidence, risk_via, influence, entities, keywords, "
                    "tokens, model_versions, analysed_at) FROM STDIN"
                ) as cp:
                    for row in results:
                        cp.write_row(row)
                with cur.copy(
                    "COPY analysis_target_hits (id, mention_id, target_id, via, matched_terms, negative, "
                    "negative_prob) FROM STDIN"
                ) as cp:
                    for row in hits:
                        cp.write_row(row)
                with cur.copy("COPY mention_search (mention_id, tokens, indexed_at) FROM STDIN") as cp:
                    for row in search:
                        cp.write_row(row)
            conn.commit()
            timings["copy_s"] += time.perf_counter() - c0
            done += size
        with conn.cursor() as cur:
            fill_target_buckets(cur)
            for table in ("mentions", "analysis_target_hits", "sources", "targets"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    timings["load_total_s"] = time.perf_counter() - t0
    return {k: round(v, 1) for k, v in timings.items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(ctx: AppContext, requests: int, mentions: int) -> dict[str, dict[str, float]]:
    auth.add_user(ctx, "bench", "bench-password-1", ["viewer"])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    now = ctx.clock.now()
    day_ago = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    calls = {
        "GET /api/v1/mentions": "/api/v1/mentions",
        "GET /api/v1/mentions?platform": "/api/v1/mentions?platform=weibo",
        "GET /api/v1/mentions?target": "/api/v1/mentions?target=2",
        "GET /api/v1/mentions?sentiment": "/api/v1/mentions?sentiment=negative",
        "GET /api/v1/mentions?since (24h)": f"/api/v1/mentions?since={day_ago}",
        "GET /api/v1/mentions?q=信用卡 (common)": "/api/v1/mentions?q=信用卡",
        "GET /api/v1/mentions?q=华信银行 暴雷 (AND)": "/api/v1/mentions?q=华信银行 暴雷",
        "GET /api/v1/mentions?target&sentiment&q": "/api/v1/mentions?target=1&sentiment=negative&q=乱收费",
        "GET /api/v1/mentions/{id}": f"/api/v1/mentions/{max(1, mentions // 2)}",
        "GET /api/v1/stats/volume (7 days)": "/api/v1/stats/volume?days=7",
        "GET /api/v1/events": "/api/v1/events",
        "GET / (overview page)": "/",
        "GET /mentions (page)": "/mentions",
        "GET /mentions?q= (page)": "/mentions?q=理财产品",
    }
    out: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        r = client.post("/api/v1/auth/login", json={"username": "bench", "password": "bench-password-1"})
        r.raise_for_status()
        # second page via cursor
        first = client.get("/api/v1/mentions").json()
        calls["GET /api/v1/mentions (cursor page 2)"] = f"/api/v1/mentions?cursor={first['next_cursor']}"
        for label, path in calls.items():
            times = []
            for k in range(requests + 3):
                t0 = time.perf_counter()
                resp = client.get(
                    path, headers={"Accept": "text/html" if not path.startswith("/api") else "*/*"}
                )
                elapsed = (time.perf_counter() - t0) * 1000
                if resp.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {resp.status_code} {resp.text[:200]}")
                if k >= 3:
                    times.append(elapsed)
            times.sort()
            out[label] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                "max_ms": round(times[-1], 1),
            }
    server.should_exit = True
    thread.join(timeout=10)
    return out


def main() -> None:
    import os

    ap = argparse.ArgumentParser()
    ap.add_argument("--mentions", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--database", help="reuse an existing loaded database URL (skips loading)")
    ap.add_argument("--refresh-rollup", action="store_true", help="with --database: rebuild target buckets")
    args = ap.parse_args()
    admin = os.environ.get("YUQING_BENCH_PG_URL", ADMIN_URL)
    created = None
    if args.database:
        url = args.database
        load_times: dict[str, float] = {}
    else:
        name = f"yuqing_apibench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_pg(admin), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created = name
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        settings = load_settings(database_url=url, secret_key="bench-secret")
        settings.web.argon2_time_cost = 1
        settings.web.argon2_memory_kib = 1024
        db = Database(url)
        db.upgrade()
        ctx = AppContext(settings=settings, db=db, clock=SystemClock(), bus=InProcessBus())
        if not args.database:
            load_times = load(url, args.mentions, ctx.clock.now())
        elif args.refresh_rollup:
            with psycopg.connect(_pg(url)) as conn, conn.cursor() as cur:
                fill_target_buckets(cur)
        with db.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM mentions")).scalar()
        figures = measure(ctx, args.requests, int(count or 0))
        db.dispose()
        print(
            json.dumps(
                {
                    "benchmark": "api.latency",
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "mentions": count,
                    "requests_per_call": args.requests,
                    "load": load_times,
                    "latency": figures,
                    "worst_p95_ms": max(v["p95_ms"] for v in figures.values()),
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    finally:
        if created and not args.keep:
            with psycopg.connect(_pg(admin), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


if __name__ == "__main__":
    main()
