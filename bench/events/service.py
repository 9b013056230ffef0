"""End-to-end throughput of the events service on SQLite (placing, aggregates, buckets, grading, signals).

    python -m bench.events.service [--mentions 3000] [--batch 100[,250,500]] [--database-url sqlite:///...]

Synthetic analysed mentions (30 stories over 5 watch targets, Chinese tokens, 20 % near-duplicates
of earlier mentions) are processed in batches as the stage would, against a fresh migrated database
in a temp dir; reports throughput (wall clock and CPU time of this process, per mention and per
batch), the load average of the machine and the clustering quality against the generating stories.
One JSON line per batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.core.contracts import AnalysedMention, TargetHit
from yuqing.core.db import Database
from yuqing.events.metrics import bcubed, nmi
from yuqing.events.models import EventMention
from yuqing.events.service import EventService

WORDS = [f"词{i:03d}" for i in range(600)]


def mentions(n: int, seed: int = 1) -> tuple[list[AnalysedMention], list[int]]:
    rng = random.Random(seed)
    stories = [(rng.sample(WORDS, 12), i % 5 + 1) for i in range(30)]
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    out: list[AnalysedMention] = []
    gold: list[int] = []
    for i in range(n):
        story = rng.randrange(len(stories))
        words, target = stories[story]
        toks = tuple(rng.sample(words, 6) + rng.sample(WORDS, 3))
        dup = None
        if out and rng.random() < 0.2:
            j = rng.randrange(len(out))
            dup, story = out[j].mention_id, gold[j]
        gold.append(story)
        out.append(
            AnalysedMention(
                mention_id=i + 1,
                source_id=1,
                platform=rng.choice(["weibo", "news", "wechat"]),
                source_tier=rng.choice(["personal", "self_media", "financial_media"]),
                url=None,
                title="".join(toks[:4]),
                text="".join(toks),
                author=f"u{rng.randrange(500)}",
                author_followers=rng.randrange(10_000),
                published_at=t0 + timedelta(seconds=30 * i),
                lang="zh",
                duplicate_of_id=dup,
                sentiment=rng.choice(["negative", "neutral"]),
                negative_prob=rng.random(),
                targets=(TargetHit(target, f"T{target}", True, 0.8),),
                influence=rng.random() * 50,
                tokens=toks,
            )
        )
    return out, gold


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mentions", type=int, default=3000)
    ap.add_argument("--batch", default="100", help="batch size, or several separated by commas")
    ap.add_argument("--database-url", default=None, help="an empty database (default: SQLite in a temp dir)")
    args = ap.parse_args()
    for size in [int(b) for b in str(args.batch).split(",") if b.strip()]:
        run(args.mentions, size, args.database_url)


def run(n: int, batch_size: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        db.upgrade()
        clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
        ctx = AppContext(settings=load_settings(database_url=url), db=db, clock=clock, bus=InProcessBus())
        svc = EventService(ctx)
        data, gold = mentions(n)
        load_before = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        created = 0
        batches = 0
        for i in range(0, len(data), batch_size):
            batch = data[i : i + batch_size]
            batches += 1
            clock.set(batch[-1].published_at)
            with db.session() as s:
                result = svc.process(s, batch)
            with db.session() as s:
                svc.publish(s, result)
            created += len(result.created)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        with db.session() as s:
            placed = {
                mid: eid for mid, eid in s.execute(select(EventMention.mention_id, EventMention.event_id))
            }
        pred = [placed[m.mention_id] for m in data]
        db.dispose()
    print(
        json.dumps(
            {
                "database": url.split(":", 1)[0],
                "python": platform.python_version(),
                "mentions": n,
                "batch": batch_size,
                "batches": batches,
                "events_created": created,
                "stories": len(set(gold)),
                "nmi": round(nmi(gold, pred), 4),
                "bcubed_f1": round(bcubed(gold, pred)[2], 4),
                "wall_seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "mentions_per_second": round(n / wall, 1),
                "cpu_mentions_per_second": round(n / cpu, 1),
                "cpu_ms_per_batch": round(1000 * cpu / batches, 2),
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
