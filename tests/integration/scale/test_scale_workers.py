"""Three ``yuqing worker`` processes on PostgreSQL + Redis; one is SIGKILLed mid-run.

The stages here are test-local (a module written to a temporary directory and named with
``--stages``): an idempotent "analysis" that upserts one row per mention and counts only new
rows, and a *serial* "events" stage that clusters mentions into one event per story the racy
way, like the real one (an in-process cache of stories rebuilt from the store and then trusted;
create if missing; no unique constraint to save it) — it stays correct only because the worker
serialises its consumer group and resets the cache when the lease changes process. (Without
``SERIAL = True`` or without ``reset_state`` the same test ends with several events per story.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from conftest import create_pg_database, drop_pg_database
from yuqing.core.db import make_engine
from yuqing.core.redis_bus import RedisStreamsBus

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("YUQING_TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="runs in the PostgreSQL pass only (it uses its own database, so once is enough)",
    ),
]

STAGES = """
import os
import time

from sqlalchemy import text


def register(ctx):
    def analyse(batch):
        if any(m.get("poison") for m in batch):
            raise ValueError("poison mention / 无法分析")
        ids = [int(m["mention_id"]) for m in batch]
        with ctx.db.session() as s:
            s.execute(text("INSERT INTO t_deliveries(mention_id) SELECT unnest(CAST(:ids AS bigint[]))"),
                      {"ids": ids})
            new = s.execute(
                text("INSERT INTO t_analysed(mention_id, pid) SELECT unnest(CAST(:ids AS bigint[])), :pid "
                     "ON CONFLICT DO NOTHING RETURNING mention_id"),
                {"ids": ids, "pid": os.getpid()},
            ).scalars().all()
            s.execute(text("UPDATE t_counter SET n = n + :k"), {"k": len(new)})
            time.sleep(0.02)  # a batch takes a while: the kill lands mid-batch
        ctx.bus.publish("mentions.analysed", [{"mention_id": m["mention_id"], "story": m["story"]}
                                              for m in batch])

    ctx.bus.subscribe("mentions.ingested", analyse, name="test.analysis")
"""

EVENTS = """
import time

from sqlalchemy import text

SERIAL = True
KEY = "test.events.stories"


def reset_state(ctx):
    ctx.extras.pop(KEY, None)


def register(ctx):
    def cluster(batch):
        with ctx.db.session() as s:
            stories = ctx.extras.get(KEY)
            if stories is None:  # like the events clusterer: rebuilt from the store, then trusted
                stories = dict(s.execute(text("SELECT story, id FROM t_events")).all())
                ctx.extras[KEY] = stories
            created = {}
            for m in batch:
                mid = int(m["mention_id"])
                if s.execute(text("SELECT 1 FROM t_links WHERE mention_id = :m"), {"m": mid}).first():
                    continue
                event_id = stories.get(m["story"]) or created.get(m["story"])
                time.sleep(0.002)  # widen the read-then-create window
                if event_id is None:
                    event_id = s.execute(
                        text("INSERT INTO t_events(story, n) VALUES (:k, 0) RETURNING id"), {"k": m["story"]}
                    ).scalar()
                    created[m["story"]] = event_id
                s.execute(text("INSERT INTO t_links(mention_id, event_id) VALUES (:m, :e)"),
                          {"m": mid, "e": event_id})
                s.execute(text("UPDATE t_events SET n = n + 1 WHERE id = :e"), {"e": event_id})
        stories.update(created)  # only once committed

    ctx.bus.subscribe("mentions.analysed", cluster, name="test.events")
"""

TABLES = [
    "CREATE TABLE t_analysed (mention_id bigint PRIMARY KEY, pid int NOT NULL)",
    "CREATE TABLE t_deliveries (mention_id bigint NOT NULL)",
    "CREATE TABLE t_counter (n bigint NOT NULL)",
    "INSERT INTO t_counter VALUES (0)",
    "CREATE TABLE t_events (id serial PRIMARY KEY, story text NOT NULL, n int NOT NULL)",
    "CREATE TABLE t_links (mention_id bigint PRIMARY KEY, event_id int NOT NULL)",
]


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    url = create_pg_database(postgres_admin_url)
    engine = make_engine(url)
    with engine.begin() as conn:
        for sql in TABLES:
            conn.execute(text(sql))
    engine.dispose()
    yield url
    drop_pg_database(postgres_admin_url, url)


def scalar(engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_workers_one_killed_exact_counts_one_event_per_story(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    (tmp_path / "scale_test_stages.py").write_text(STAGES, encoding="utf-8")
    (tmp_path / "scale_test_events.py").write_text(EVENTS, encoding="utf-8")
    prefix = f"yqtest-{uuid.uuid4().hex[:8]}"
    bus_url = f"{redis_url}?prefix={prefix}&batch=10"
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "YUQING_DATABASE_URL": pg_url,
        "YUQING_BUS_URL": bus_url,
        "YUQING_BUS__CLAIM_IDLE_MS": "1000",
        "YUQING_BUS__MAX_ATTEMPTS": "3",
        "YUQING_LOG_JSON": "true",
        "YUQING_LOG_LEVEL": "WARNING",
    }
    env.pop("YUQING_CONFIG", None)
    bus = RedisStreamsBus(redis.Redis.from_url(redis_url), prefix=prefix, stream_maxlen=100_000)
    engine = make_engine(pg_url)
    workers: list[subprocess.Popen] = []
    victim: subprocess.Popen | None = None
    logs = [(tmp_path / f"worker{i}.log").open("wb") for i in range(3)]
    n, per_story = 300, 50  # stories start one after another, so caches go stale
    try:
        for i in range(3):
            cmd = [sys.executable, "-m", "yuqing.cli", "worker", "--consumer", f"w{i}"]
            cmd += ["--stages", "scale_test_stages,scale_test_events"]
            workers.append(
                subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=logs[i])
            )
        for start in range(0, n, 50):
            bus.publish(
                "mentions.ingested",
                [
                    {"mention_id": i, "story": f"s{(i - 1) // per_story}"}
                    for i in range(start + 1, start + 51)
                ],
            )
        bus.publish("mentions.ingested", [{"mention_id": 10_000, "story": "x", "poison": True}])
        wait_for(lambda: scalar(engine, "SELECT count(DISTINCT pid) FROM t_analysed") >= 2, 60, "workers")
        wait_for(lambda: scalar(engine, "SELECT n FROM t_counter") >= 60, 60, "first mentions")
        with engine.connect() as conn:
            busy = {int(p) for p in conn.execute(text("SELECT DISTINCT pid FROM t_analysed")).scalars()}
        victim = next(w for w in workers if w.pid in busy)  # one that is doing work
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert scalar(engine, "SELECT n FROM t_counter") < n, "the kill came too late to prove anything"

        wait_for(lambda: scalar(engine, "SELECT count(*) FROM t_links") == n, 90, "all mentions clustered")
        wait_for(lambda: len(bus.dead_letters("mentions.ingested")) == 1, 30, "the poison dead letter")

        # analysis: exactly one row per mention, the idempotent counter exact, redelivery absorbed
        assert scalar(engine, "SELECT count(*) FROM t_analysed") == n
        assert scalar(engine, "SELECT n FROM t_counter") == n
        assert scalar(engine, "SELECT count(DISTINCT mention_id) FROM t_deliveries") == n
        assert scalar(engine, f"SELECT count(*) FROM t_analysed WHERE pid = {victim.pid}") > 0
        # events: one event per story, never one per worker, with exact mention counts
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT story, count(*), sum(n) FROM t_events GROUP BY story")).all()
        expected = [(f"s{k}", 1, per_story) for k in range(n // per_story)]
        assert sorted((r[0], int(r[1]), int(r[2])) for r in rows) == expected
        # the poison message: dead-lettered with its error after 3 attempts, nothing of it stored
        dead = bus.dead_letters("mentions.ingested")[0]
        assert dead["group"] == "test.analysis" and dead["attempts"] == "3"
        assert "poison mention" in dead["error"]
        assert scalar(engine, "SELECT count(*) FROM t_analysed WHERE mention_id = 10000") == 0
        # nothing left pending once the killed worker's messages were claimed
        wait_for(
            lambda: all(g["pending"] == 0 and g["lag"] == 0 for row in bus.status() for g in row["groups"]),
            30,
            "empty queues",
        )
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        for f in logs:
            f.close()
        errors = [(tmp_path / f"worker{i}.log").read_text(errors="replace")[-3000:] for i in range(3)]
        engine.dispose()
        bus.drop_all()
        bus.close()
    for w in workers:
        if w is not victim:
            assert w.returncode == 0, errors
