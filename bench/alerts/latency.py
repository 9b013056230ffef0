"""Ingest-to-notification latency under a steady mention stream.

A producer thread stores mentions at a steady rate (default 500/s, in batches every 100 ms); a
downstream thread publishes ``mentions.ingested`` for them, where a stand-in for the analysis and
events stages turns one mention in ``--alert-every`` into a graded event alert through the real
``raise_alert`` (routing over the plan's organisation, outbox rows in the same transaction). The
real dispatcher (``run_forever``, woken by ``alerts.raised``) sends through the real webhook
notifier (HMAC-signed JSON) to an HTTP receiver on 127.0.0.1 that stamps each arrival.
Latency = first arrival for an alert - the mention's ``ingested_at``.

    python -m bench.alerts.latency [--seconds 20] [--rate 500] [--alert-every 100] [--database-url URL]

Prints one JSON object. Storm summarising is switched off (``storm_threshold`` very high) so that
every alert is sent individually; with it on, a flood of alerts to one person becomes a digest.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from yuqing.alerts import service
from yuqing.alerts.dispatcher import Dispatcher
from yuqing.alerts.models import Alert, Delivery
from yuqing.alerts.stage import register
from yuqing.config import load_settings
from yuqing.core.bus import MENTIONS_INGESTED, InProcessBus
from yuqing.core.clock import SystemClock
from yuqing.core.context import AppContext
from yuqing.core.db import Database
from yuqing.sources.models import Mention, Source

LEVELS = ("IV", "III", "IV", "II")


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}  # alert id -> first arrival (unix time)
        self.count = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                now = time.time()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                alert_id = int(key.split("/", 1)[0].rsplit("-", 1)[-1]) if key.startswith("yq-alert-") else -1
                with outer.lock:
                    outer.count += 1
                    outer.arrivals.setdefault(alert_id, now)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=int, default=500, help="mentions per second")
    ap.add_argument("--alert-every", type=int, default=100, help="one alert per N mentions")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="yuqing-bench-alerts-")
    url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
    receiver = Receiver()
    settings = load_settings(database_url=url, secret_key="bench-secret")
    a = settings.alerts
    a.channels = {"wecom": {"type": "webhook", "url": receiver.url, "secret": "bench-secret-1"}}
    a.last_resort_channel = None
    a.storm_threshold = 10**9
    a.dispatch_poll_s = 0.05
    a.outbox_dir = str(Path(tmp) / "outbox")
    db = Database(url)
    db.upgrade()
    ctx = AppContext(settings=settings, db=db, clock=SystemClock(), bus=InProcessBus())
    from yuqing.org.service import load_org_file

    with db.session() as s:
        load_org_file(s, None, now=ctx.clock.now())
        src = Source(name="bench", kind="rss", created_at=ctx.clock.now(), config={})
        s.add(src)
        s.flush()
        source_id = src.id

    def stand_in_events(batch: list[dict[str, Any]]) -> None:
        ids = [int(m["mention_id"]) for m in batch if int(m["mention_id"]) % args.alert_every == 0]
        if not ids:
            return
        with db.session() as s:
            rows = s.execute(
                select(Mention.id, Mention.title, Mention.ingested_at).where(Mention.id.in_(ids))
            )
            for mid, title, ingested in rows:
                service.raise_alert(
                    ctx,
                    s,
                    kind="event",
                    title=title,
                    level=LEVELS[(mid // args.alert_every) % len(LEVELS)],
                    reasons=["基准测试 / benchmark"],
                    subject_type="event",
                    subject_id=mid,
                    dedup_key=f"bench:{mid}",
                    data={"first_ingested_at": ingested.isoformat(), "target_ids": [1]},
                )

    register(ctx)
    ctx.bus.subscribe(MENTIONS_INGESTED, stand_in_events, name="bench.stand_in_events")
    stop = threading.Event()
    dispatcher = Dispatcher(ctx)
    t_disp = threading.Thread(target=dispatcher.run_forever, args=(stop,), daemon=True)
    t_disp.start()

    # the downstream stages run in their own thread, as a worker would: ingestion never waits for them
    ingested: queue.Queue[list[int] | None] = queue.Queue()

    def downstream() -> None:
        while (ids := ingested.get()) is not None:
            ctx.bus.publish(MENTIONS_INGESTED, [{"mention_id": i} for i in ids])

    t_down = threading.Thread(target=downstream, daemon=True)
    t_down.start()
    per_tick = max(1, args.rate // 10)
    produced = 0
    lag_ticks = 0
    start = time.monotonic()
    next_tick = start
    seq = 0
    while time.monotonic() - start < args.seconds:
        now = datetime.now(UTC)
        rows = []
        for _ in range(per_tick):
            seq += 1
            rows.append(
                dict(
                    source_id=source_id,
                    platform="news",
                    title=f"基准信息 {seq}",
                    text="…",
                    published_at=now,
                    ingested_at=now,
                    content_hash=f"{seq:064d}",
                    external_id=str(seq),
                )
            )
        with db.session() as s:
            ids = list(s.scalars(insert(Mention).returning(Mention.id), rows))
        ingested.put(ids)
        produced += len(ids)
        next_tick += 0.1
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            lag_ticks += 1
    elapsed = time.monotonic() - start
    ingested.put(None)
    t_down.join(timeout=60)
    # let the last alerts go out
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.session() as s:
            left = s.scalar(select(Delivery.id).where(Delivery.status.in_(("pending", "sending"))).limit(1))
        if left is None:
            break
        time.sleep(0.1)
    stop.set()
    t_disp.join(timeout=10)
    dispatcher.close()
    with db.session() as s:
        alerts = {aid: data for aid, data in s.execute(select(Alert.id, Alert.data))}
    lat = []
    for aid, data in alerts.items():
        arrived = receiver.arrivals.get(aid)
        if arrived is not None:
            lat.append(arrived - datetime.fromisoformat(data["first_ingested_at"]).timestamp())
    result = {
        "backend": db.dialect,
        "seconds": round(elapsed, 2),
        "mentions": produced,
        "mentions_per_s": round(produced / elapsed, 1),
        "producer_late_ticks": lag_ticks,
        "alerts": len(alerts),
        "alerts_notified": len(lat),
        "messages_received": receiver.count,
        "latency_s": {
            "p50": round(pct(lat, 50), 3),
            "p95": round(pct(lat, 95), 3),
            "p99": round(pct(lat, 99), 3),
            "max": round(max(lat), 3),
        }
        if lat
        else None,
    }
    print(json.dumps(result, ensure_ascii=False))
    receiver.server.shutdown()
    db.dispose()


if __name__ == "__main__":
    main()
