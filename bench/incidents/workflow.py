"""Benchmark of the emergency-response stage: timeline hash chain and the overdue sweep.

Run from the repo root: ``python -m bench.incidents.workflow [--db URL] [--entries N] [--incidents M]``.
Prints JSON figures. Uses a scratch SQLite file by default (the store a small site runs on).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.core.db import Database
from yuqing.incidents import service
from yuqing.incidents import timeline as tl
from yuqing.org.service import load_org_file


def pure_chain(n: int) -> dict[str, float]:
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    start = time.perf_counter()
    entries: list[tl.Entry] = []
    for i in range(n):
        entries.append(
            tl.make_entry(
                entries[-1] if entries else None,
                at=t0 + timedelta(seconds=i),
                kind="coordination",
                actor="zhou.ting",
                data={"message": "统一口径已下发，请确认并传达到一线。" * 2, "i": i},
            )
        )
    built = time.perf_counter() - start
    start = time.perf_counter()
    assert tl.verify(entries, head_hash=entries[-1].hash, count=n).ok
    verified = time.perf_counter() - start
    return {"entries": n, "build_per_s": round(n / built), "verify_per_s": round(n / verified)}


def stored(url: str, entries: int, incidents: int) -> dict[str, float]:
    settings = load_settings(database_url=url)
    db = Database(url)
    db.upgrade()
    clock = ManualClock(datetime(2026, 3, 2, 1, tzinfo=UTC))
    ctx = AppContext(settings=settings, db=db, clock=clock, bus=InProcessBus())
    with db.session() as s:
        load_org_file(s, None, now=clock.now())
    start = time.perf_counter()
    inc = service.open_incident(
        ctx, actor="lin.xiao", title="基准 / bench", level="II", category="customer_complaint"
    )
    opened = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(entries):
        service.log_coordination(ctx, inc.id, actor="zhou.ting", message=f"沟通记录 {i}")
    appended = time.perf_counter() - start
    start = time.perf_counter()
    result = service.verify_timeline(ctx, inc.id)
    verified = time.perf_counter() - start
    assert result.ok
    for i in range(incidents):
        service.open_incident(
            ctx, actor="lin.xiao", title=f"事件 {i}", level="III", category="negative_social"
        )
    clock.advance(timedelta(hours=30))
    start = time.perf_counter()
    raised = service.check_deadlines(ctx)
    swept = time.perf_counter() - start
    db.dispose()
    return {
        "backend": db.dialect,
        "open_incident_with_playbook_ms": round(opened * 1000, 1),
        "timeline_append_per_s": round(entries / appended, 1),
        "timeline_entries": result.count,
        "verify_ms": round(verified * 1000, 1),
        "overdue_sweep_incidents": incidents + 1,
        "overdue_alerts_raised": len(raised),
        "overdue_sweep_s": round(swept, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: scratch SQLite)")
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--pure", type=int, default=20000)
    args = parser.parse_args()
    out: dict[str, object] = {"pure_chain": pure_chain(args.pure)}
    if args.db:
        out["stored"] = stored(args.db, args.entries, args.incidents)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out["stored"] = stored(f"sqlite:///{Path(tmp) / 'bench.db'}", args.entries, args.incidents)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
