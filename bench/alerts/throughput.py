"""Raise and dispatch throughput: N alerts raised one transaction each (routed by the plan's rules),
then the dispatcher drains the outbox to a local webhook receiver.

    python -m bench.alerts.throughput [--alerts 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from yuqing.alerts import service
from yuqing.alerts.dispatcher import Dispatcher
from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import SystemClock
from yuqing.core.context import AppContext
from yuqing.core.db import Database

from .latency import Receiver


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=300)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="yuqing-bench-alerts-")
    url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
    receiver = Receiver()
    settings = load_settings(database_url=url, secret_key="bench-secret")
    a = settings.alerts
    a.channels = {"wecom": {"type": "webhook", "url": receiver.url, "secret": "bench-secret-1"}}
    a.last_resort_channel, a.storm_threshold, a.outbox_dir = None, 10**9, str(Path(tmp) / "outbox")
    a.digest_min = 10**6  # every delivery its own message
    db = Database(url)
    db.upgrade()
    ctx = AppContext(settings=settings, db=db, clock=SystemClock(), bus=InProcessBus())
    from yuqing.org.service import load_org_file

    with db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
    levels = ("IV", "III", "II", "I")
    t0 = time.perf_counter()
    for i in range(args.alerts):
        with db.session() as s:
            service.raise_alert(
                ctx,
                s,
                kind="event",
                title=f"基准事件 {i}",
                level=levels[i % 4],
                reasons=["benchmark"],
                subject_type="event",
                subject_id=i,
                dedup_key=f"tp:{i}",
                data={},
            )
    raise_s = time.perf_counter() - t0
    d = Dispatcher(ctx)
    t1 = time.perf_counter()
    r = d.drain()
    send_s = time.perf_counter() - t1
    d.close()
    print(
        json.dumps(
            {
                "backend": db.dialect,
                "alerts": args.alerts,
                "raise_per_s": round(args.alerts / raise_s, 1),
                "raise_ms_each": round(raise_s / args.alerts * 1000, 2),
                "deliveries": r.sent,
                "dispatch_per_s": round(r.sent / send_s, 1),
                "received": receiver.count,
            }
        )
    )
    receiver.server.shutdown()
    db.dispose()


if __name__ == "__main__":
    main()
