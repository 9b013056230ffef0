"""End-to-end throughput of the scale-out pipeline: 1, 2 and 4 ``yuqing worker`` processes.

Each run gets a fresh PostgreSQL database and Redis prefix, stores N synthetic mentions (stories of
several banks), starts K workers running the real ``analysis`` and ``events`` stages, waits until
they are consuming, announces the mentions on ``mentions.ingested`` and times until every mention
is placed in an event. An untimed warm-up batch goes first (models load on a worker's first
batch). Single-worker runs of each stage alone name the bottleneck; a no-op handler measures the
bus itself.

    python -m bench.scale.throughput [--n 1000] [--workers 1,2,4]

Needs PostgreSQL (``YUQING_BENCH_PG``, default postgres@127.0.0.1:5432) and Redis
(``YUQING_BENCH_REDIS``, default 127.0.0.1:6379/15). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from yuqing.core.db import Database, make_engine
from yuqing.core.redis_bus import RedisStreamsBus

PG = os.environ.get("YUQING_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("YUQING_BENCH_REDIS", "redis://127.0.0.1:6379/15")
WARM_UP = 100  # mentions processed before the clock starts (models load on the first batch)
BANKS = ["招商银行", "华信银行", "示例银行", "东方银行", "北辰银行"]
ISSUES = [
    "信用卡乱收费，客户投诉年费被扣，要求退还（第{i}位客户）",
    "手机银行系统故障，客户无法登录转账，客服电话打不通（网友{i}）",
    "理财产品到期无法兑付，投资人聚集维权（现场{i}）",
    "网点员工态度恶劣，老人取款遭刁难，视频在网上流传（转发{i}）",
]


def create_db() -> str:
    name = f"yuqing_bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(PG).set(database=name).render_as_string(hide_password=False)


def drop_db(url: str) -> None:
    engine = make_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def seed(db: Database, n: int) -> list[int]:
    from yuqing.sources.models import Mention, Source, Target

    now = datetime.now(UTC)
    ids = []
    with db.session() as s:
        src = Source(name="微博", kind="webhook", platform="weibo", tier="personal", created_at=now)
        s.add(src)
        s.flush()
        s.add_all([Target(name=b, created_at=now) for b in BANKS])
        rows = []
        for i in range(n):
            bank, issue = BANKS[i % len(BANKS)], ISSUES[(i // len(BANKS)) % len(ISSUES)]
            rows.append(
                Mention(
                    source_id=src.id,
                    external_id=f"x{i}",
                    platform="weibo",
                    title="",
                    text=bank + issue.format(i=i),
                    author=f"user{i}",
                    published_at=now - timedelta(seconds=n - i),
                    ingested_at=now,
                    content_hash=f"h{i}",
                )
            )
        s.add_all(rows)
        s.flush()
        ids = [m.id for m in rows]
    return ids


def count(db: Database, model: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def wait(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark run did not finish")
        time.sleep(0.05)


def run(n: int, workers: int, stages: str, topic: str, done: Callable[[Database], int]) -> dict[str, Any]:
    from yuqing.analysis.service import analyse_mentions
    from yuqing.config import load_settings
    from yuqing.core.bus import InProcessBus
    from yuqing.core.clock import SystemClock
    from yuqing.core.context import AppContext

    url = create_db()
    db = Database(url)
    db.upgrade()
    ids = seed(db, n + WARM_UP)
    if topic == "mentions.analysed":  # events alone: analyse first, untimed
        ctx = AppContext(
            load_settings(database_url=url, secret_key="bench-secret"), db, SystemClock(), InProcessBus()
        )
        analyse_mentions(ctx, ids, publish=False)
    prefix = f"yqbench-{uuid.uuid4().hex[:8]}"
    bus = RedisStreamsBus(redis.Redis.from_url(REDIS), prefix=prefix)
    env = {
        **os.environ,
        "YUQING_DATABASE_URL": url,
        "YUQING_SECRET_KEY": "bench-secret",
        "YUQING_BUS_URL": f"{REDIS}?prefix={prefix}&batch=50",
        "YUQING_LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "yuqing.cli", "worker", "--stages", stages, "--consumer", f"b{i}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    try:
        # ready = every worker has registered as a consumer of the first group (after its start-up)
        wait(lambda: _consumers(bus, topic) >= workers, 120)
        # warm-up, untimed: every worker loads its models on its first batch
        bus.publish(topic, [{"mention_id": m} for m in ids[:WARM_UP]])
        wait(lambda: done(db) >= WARM_UP, 300)
        started = time.perf_counter()
        for start in range(WARM_UP, n + WARM_UP, 200):
            bus.publish(topic, [{"mention_id": m} for m in ids[start : min(start + 200, n + WARM_UP)]])
        wait(lambda: done(db) >= n + WARM_UP, 600)
        elapsed = time.perf_counter() - started
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        bus.drop_all()
        bus.close()
        db.dispose()
        drop_db(url)
    rate = n / elapsed
    return {
        "stages": stages,
        "workers": workers,
        "mentions": n,
        "seconds": round(elapsed, 2),
        "mentions_per_s": round(rate, 1),
        "per_worker_per_s": round(rate / workers, 1),
    }


def _consumers(bus: RedisStreamsBus, topic: str) -> int:
    for row in bus.status():
        if row["topic"] == topic and row["groups"]:
            return min(g["consumers"] for g in row["groups"])
    return 0


def bus_only(n: int) -> dict[str, Any]:
    """The bus alone: one consumer, a handler that does nothing (publish and consume, batch 100)."""
    bus = RedisStreamsBus(redis.Redis.from_url(REDIS), prefix=f"yqbench-{uuid.uuid4().hex[:8]}")
    got = [0]
    bus.subscribe("t", lambda batch: got.__setitem__(0, got[0] + len(batch)), name="noop")
    try:
        started = time.perf_counter()
        for start in range(0, n, 500):
            bus.publish("t", [{"mention_id": i} for i in range(start, min(n, start + 500))])
        published = time.perf_counter() - started
        t0 = time.perf_counter()
        while got[0] < n:
            bus.process_once("c", claim=False)
        consumed = time.perf_counter() - t0
    finally:
        bus.drop_all()
        bus.close()
    return {
        "messages": n,
        "publish_per_s": round(n / published),
        "consume_per_s": round(n / consumed),
    }


def main() -> None:
    from yuqing.analysis.models import AnalysisResult
    from yuqing.events.models import EventMention

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "bus_only": bus_only(20_000),
        "stage_alone": [
            run(args.n, 1, "analysis", "mentions.ingested", lambda db: count(db, AnalysisResult)),
            run(args.n, 1, "events", "mentions.analysed", lambda db: count(db, EventMention)),
        ],
        "end_to_end": [
            run(args.n, k, "analysis,events", "mentions.ingested", lambda db: count(db, EventMention))
            for k in (int(w) for w in args.workers.split(","))
        ],
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    out = Path(os.environ.get("YUQING_BENCH_OUT", "")) if os.environ.get("YUQING_BENCH_OUT") else None
    if out:
        out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
