"""The real stages (analysis -> events) on three ``yuqing worker`` processes, one SIGKILLed mid-run.

Mentions of two stories are stored in PostgreSQL and announced on ``mentions.ingested``; at the end
every mention has exactly one analysis result and one event link, and each story is exactly one
event whose mention count is exact — whichever worker saw which mention, and although one died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from conftest import create_pg_database, drop_pg_database
from yuqing.core.bus import MENTIONS_INGESTED
from yuqing.core.clock import SystemClock
from yuqing.core.db import Database
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

STORY_A = "招商银行信用卡乱收费，客户投诉年费被扣，要求退还年费（第{i}位客户）"
STORY_B = "华信银行理财产品到期无法兑付，数百名投资人聚集维权（现场{i}）"
PER_STORY = 30

pytest.importorskip("yuqing.analysis.stage")
pytest.importorskip("yuqing.events.stage")


@pytest.fixture
def pg_db(postgres_admin_url: str) -> Iterator[Database]:
    url = create_pg_database(postgres_admin_url)
    db = Database(url)
    db.upgrade()
    yield db
    db.dispose()
    drop_pg_database(postgres_admin_url, url)


def seed(db: Database) -> dict[str, list[int]]:
    from yuqing.sources.models import Mention, Source, Target

    now = SystemClock().now()
    ids: dict[str, list[int]] = {"a": [], "b": []}
    with db.session() as s:
        src = Source(name="微博", kind="webhook", platform="weibo", tier="personal", created_at=now)
        s.add(src)
        s.flush()
        s.add_all(
            [
                Target(name="招商银行", aliases=["招行"], created_at=now),
                Target(name="华信银行", created_at=now),
            ]
        )
        for i in range(2 * PER_STORY):
            story = "a" if i % 2 == 0 else "b"
            m = Mention(
                source_id=src.id,
                external_id=f"x{i}",
                platform="weibo",
                title="",
                text=(STORY_A if story == "a" else STORY_B).format(i=i),
                author=f"user{i}",
                published_at=now - timedelta(minutes=2 * PER_STORY - i),
                ingested_at=now,
                content_hash=f"h{i}",
            )
            s.add(m)
            s.flush()
            ids[story].append(m.id)
    return ids


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def count(db: Database, model) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_real_stages_on_three_workers_one_killed(pg_db: Database, redis_url: str, tmp_path: Path) -> None:
    from yuqing.analysis.models import AnalysisResult
    from yuqing.events.models import Event, EventMention

    ids = seed(pg_db)
    everything = ids["a"] + ids["b"]
    prefix = f"yqtest-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "YUQING_DATABASE_URL": pg_db.url,
        "YUQING_BUS_URL": f"{redis_url}?prefix={prefix}&batch=10",
        "YUQING_BUS__CLAIM_IDLE_MS": "1000",
        "YUQING_BUS__MAX_ATTEMPTS": "3",
        "YUQING_LOG_JSON": "true",
        "YUQING_LOG_LEVEL": "WARNING",
    }
    env.pop("YUQING_CONFIG", None)
    bus = RedisStreamsBus(redis.Redis.from_url(redis_url), prefix=prefix)
    logs = [(tmp_path / f"worker{i}.log").open("wb") for i in range(3)]
    workers: list[subprocess.Popen] = []
    try:
        for i in range(3):
            cmd = [sys.executable, "-m", "yuqing.cli", "worker", "--stages", "analysis,events"]
            cmd += ["--consumer", f"w{i}"]
            out = {"stdout": subprocess.DEVNULL, "stderr": logs[i]}
            workers.append(subprocess.Popen(cmd, cwd=tmp_path, env=env, **out))
        for start in range(0, len(everything), 20):
            bus.publish(MENTIONS_INGESTED, [{"mention_id": m} for m in everything[start : start + 20]])
        bus.publish(MENTIONS_INGESTED, [{"mention_id": "not-an-id"}])  # poison for the real stage
        wait_for(lambda: count(pg_db, AnalysisResult) >= 10, 120, "the first analyses")
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        wait_for(lambda: count(pg_db, EventMention) == len(everything), 180, "every mention placed")
        wait_for(
            lambda: all(g["pending"] == 0 and g["lag"] == 0 for r in bus.status() for g in r["groups"]),
            30,
            "empty queues",
        )
        assert count(pg_db, AnalysisResult) == len(everything)
        assert count(pg_db, EventMention) == len(everything)
        with pg_db.session() as s:
            for story in ("a", "b"):
                events = s.scalars(
                    select(EventMention.event_id).where(EventMention.mention_id.in_(ids[story])).distinct()
                ).all()
                assert len(events) == 1, f"story {story} became {len(events)} events"
                ev = s.get(Event, events[0])
                assert ev is not None and ev.mention_count == PER_STORY
            assert s.scalar(select(func.count()).select_from(Event)) == 2
        wait_for(lambda: len(bus.dead_letters()) == 1, 30, "the poison dead letter")
        dead = bus.dead_letters()[0]
        assert dead["topic"] == MENTIONS_INGESTED and dead["group"] == "analysis.on_ingested"
        assert dead["attempts"] == "3" and "not-an-id" in dead["d"] and dead["error"]
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        for f in logs:
            f.close()
        bus.drop_all()
        bus.close()
    errors = [(tmp_path / f"worker{i}.log").read_text(errors="replace")[-3000:] for i in (1, 2)]
    assert [w.returncode for w in workers[1:]] == [0, 0], errors
