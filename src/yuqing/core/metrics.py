"""Prometheus metrics: stage throughput, queue depth, consumer lag, errors, dead letters, latency.

Everything lives in one :data:`REGISTRY`. Counters and histograms are updated in-process (by the
bus and by the stages); queue depth, lag, pending and dead letters are read from Redis at scrape
time by :class:`BusCollector` (``register_bus(bus)``). Serve them with ``yuqing worker
--metrics-port 9102`` (:func:`serve`) or mount :func:`asgi_app` in the web app at ``/metrics``.

The alerts stage reports how long a notification took from the first mention to delivery with
:func:`observe_notification_latency`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

BUS_PUBLISHED = Counter(
    "yuqing_bus_published_messages", "Messages published, by topic", ["topic"], registry=REGISTRY
)
BUS_REJECTED = Counter(
    "yuqing_bus_rejected_messages",
    "Messages refused by back-pressure (the caller was told to retry later)",
    ["topic"],
    registry=REGISTRY,
)
STAGE_MESSAGES = Counter(
    "yuqing_stage_messages",
    "Messages handled by a stage's consumer group, by outcome (ok, failed = will retry, dead)",
    ["topic", "group", "outcome"],
    registry=REGISTRY,
)
STAGE_ERRORS = Counter(
    "yuqing_stage_errors", "Handler failures (each retry counts)", ["topic", "group"], registry=REGISTRY
)
BUS_CLAIMED = Counter(
    "yuqing_bus_claimed_messages",
    "Pending messages claimed from an idle or dead consumer",
    ["topic", "group"],
    registry=REGISTRY,
)
STAGE_BATCH_SECONDS = Histogram(
    "yuqing_stage_batch_seconds",
    "Time to handle one batch",
    ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
NOTIFICATION_LATENCY = Histogram(
    "yuqing_notification_latency_seconds",
    "From the first mention of an event to the notification being delivered, by level",
    ["level"],
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
    registry=REGISTRY,
)


def record_batch(topic: str, group: str, ok: int, failed: int, dead: int) -> None:
    if ok:
        STAGE_MESSAGES.labels(topic, group, "ok").inc(ok)
    if failed:
        STAGE_MESSAGES.labels(topic, group, "failed").inc(failed)
        STAGE_ERRORS.labels(topic, group).inc(failed)
    if dead:
        STAGE_MESSAGES.labels(topic, group, "dead").inc(dead)
        STAGE_ERRORS.labels(topic, group).inc(dead)


def observe_notification_latency(level: str | None, seconds: float) -> None:
    """Alerts: record one delivered notification (``level`` I–IV, seconds since the first mention)."""
    NOTIFICATION_LATENCY.labels(level or "none").observe(max(0.0, float(seconds)))


class BusCollector(Collector):
    """Reads queue depth, lag, pending and dead letters from the bus at scrape time."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus

    def collect(self) -> Iterator[Metric]:
        topic, group = ["topic"], ["topic", "group"]
        depth = GaugeMetricFamily("yuqing_bus_queue_depth", "Entries held in a topic's stream", labels=topic)
        dead = GaugeMetricFamily("yuqing_bus_dead_letters", "Entries in a dead-letter stream", labels=topic)
        lag = GaugeMetricFamily(
            "yuqing_bus_consumer_lag", "Entries not yet delivered to a group", labels=group
        )
        pending = GaugeMetricFamily("yuqing_bus_pending", "Delivered, not acknowledged", labels=group)
        consumers = GaugeMetricFamily("yuqing_bus_consumers", "Consumers of a group", labels=group)
        try:
            status = self.bus.status()
        except Exception as exc:  # a scrape must not fail because Redis is away
            log.warning("metrics: bus status unavailable: %s", exc)
            status = []
        for row in status:
            depth.add_metric([row["topic"]], row["length"])
            dead.add_metric([row["topic"]], row["dead"])
            for g in row["groups"]:
                labels = [row["topic"], g["group"]]
                lag.add_metric(labels, g["lag"] if g["lag"] is not None else row["length"])
                pending.add_metric(labels, g["pending"])
                consumers.add_metric(labels, g["consumers"])
        yield from (depth, dead, lag, pending, consumers)

    def describe(self) -> Iterator[Metric]:
        return iter(())


_bus_lock = threading.Lock()
_bus_collector: BusCollector | None = None


def register_bus(bus: Any) -> None:
    """Expose ``bus``'s queues (only buses with ``status()``: the Redis one); replaces an earlier bus."""
    global _bus_collector
    if not hasattr(bus, "status"):
        return
    with _bus_lock:
        if _bus_collector is not None:
            REGISTRY.unregister(_bus_collector)
        _bus_collector = BusCollector(bus)
        REGISTRY.register(_bus_collector)


def render() -> bytes:
    """The exposition text (for tests and ad-hoc endpoints)."""
    from prometheus_client import generate_latest

    return generate_latest(REGISTRY)


def asgi_app() -> Any:
    """An ASGI app serving the metrics; the web app mounts it: ``app.mount("/metrics", asgi_app())``."""
    from prometheus_client import make_asgi_app

    return make_asgi_app(registry=REGISTRY)


def serve(port: int, addr: str = "127.0.0.1") -> Any:
    """Serve ``/metrics`` on ``addr:port`` from a daemon thread; returns the server (``.shutdown()``)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    return server
