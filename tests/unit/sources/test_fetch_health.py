"""Source health (pure core + service over a real database) and the scheduler's timing formula."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.sources.health import SOURCES_UNHEALTHY, HealthInput, assess, report_unhealthy, source_health
from yuqing.sources.models import Mention, Source
from yuqing.sources.scheduler import next_delay
from yuqing.sources.settings import HttpSettings

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
P = HttpSettings()  # failing_after=3, silent_factor=6, silent_min_s=3600, degraded_ratio=0.3, min items 7


def inp(**kw: Any) -> HealthInput:
    values: dict[str, Any] = {
        "now": NOW,
        "items_24h": 24,
        "items_prev_7d": 168,
        "last_item_at": NOW - timedelta(minutes=20),
        "last_success_at": NOW - timedelta(minutes=5),
        "consecutive_failures": 0,
        "poll_interval_s": 600,
        "created_at": NOW - timedelta(days=30),
    }
    values.update(kw)
    return HealthInput(**values)


@pytest.mark.parametrize(
    ("case", "data", "status", "reason_part"),
    [
        ("steady", inp(), "ok", "正常"),
        ("one-failure", inp(consecutive_failures=1, last_error="timeout: x"), "degraded", "recent failure"),
        ("k-failures", inp(consecutive_failures=3, last_error="http_error: HTTP 503"), "failing", "HTTP 503"),
        ("many-failures", inp(consecutive_failures=9), "failing", "9 consecutive"),
        # 168 items a week = one an hour; silent after max(6 × 1 h, 1 h) = 6 h
        ("quiet-5h", inp(items_24h=19, last_item_at=NOW - timedelta(hours=5)), "ok", "ok"),
        ("quiet-7h", inp(items_24h=17, last_item_at=NOW - timedelta(hours=7)), "silent", "nothing for 7.0"),
        ("quiet-3d", inp(items_24h=0, last_item_at=NOW - timedelta(days=3)), "silent", "3.0 天"),
        (
            "low-rate",
            inp(items_24h=5, last_item_at=NOW - timedelta(minutes=30)),
            "degraded",
            "baseline of 24",
        ),
        # a busy source (~100/h): the 1 h floor stops 4-minute gaps from counting as silence
        (
            "busy-short-gap",
            inp(items_24h=2400, items_prev_7d=16800, last_item_at=NOW - timedelta(minutes=30)),
            "ok",
            "ok",
        ),
        (
            "sparse-source",
            inp(items_24h=0, items_prev_7d=3, last_item_at=NOW - timedelta(days=2)),
            "ok",
            "ok",
        ),
        (
            "new-source",
            inp(items_24h=2, items_prev_7d=0, created_at=NOW - timedelta(days=1)),
            "ok",
            "no baseline",
        ),
        (
            "not-polled-lately",
            inp(last_success_at=NOW - timedelta(hours=2)),
            "degraded",
            "no successful poll",
        ),
        (
            "failing-beats-silent",
            inp(consecutive_failures=4, items_24h=0, last_item_at=NOW - timedelta(days=2)),
            "failing",
            "consecutive",
        ),
        ("push-source-failures-ignored", inp(consecutive_failures=5, polled=False), "ok", "ok"),
    ],
)
def test_assess(case: str, data: HealthInput, status: str, reason_part: str) -> None:
    got, reasons, _ = assess(data, P)
    assert got == status, reasons
    assert any(reason_part in r for r in reasons), reasons


def test_assess_baseline() -> None:
    _, _, baseline = assess(inp(items_prev_7d=336), P)
    assert baseline == pytest.approx(2.0)
    assert assess(inp(items_prev_7d=6), P)[2] is None


@pytest.mark.parametrize(
    ("interval", "failures", "cap", "low", "high"),
    [
        (600, 0, 21600, 540, 660),
        (600, 1, 21600, 1080, 1320),
        (600, 3, 21600, 4320, 5280),
        (600, 10, 21600, 19440, 23760),  # capped at 6 h
        (86400, 2, 21600, 77760, 95040),  # the cap never shortens the normal interval
        (0, 0, 21600, 0.9, 1.1),  # at least one second
    ],
)
def test_next_delay(interval: int, failures: int, cap: int, low: float, high: float) -> None:
    rng = random.Random(3)
    for _ in range(50):
        assert low <= next_delay(interval, failures, jitter=0.1, cap_s=cap, rng=rng) <= high


def test_next_delay_is_reproducible_with_a_seed() -> None:
    a = [next_delay(600, 0, jitter=0.1, cap_s=3600, rng=r) for r in [random.Random(5)] * 5]
    b = [next_delay(600, 0, jitter=0.1, cap_s=3600, rng=r) for r in [random.Random(5)] * 5]
    assert a == b and len(set(a)) > 1


def _mentions(ctx: Any, source_id: int, times: list[datetime]) -> None:
    with ctx.db.session() as s:
        for i, t in enumerate(times):
            s.add(
                Mention(
                    source_id=source_id,
                    external_id=f"{source_id}-{i}",
                    platform="news",
                    title="t",
                    text="x",
                    published_at=t,
                    ingested_at=t,
                    content_hash=f"{source_id}-{i}",
                )
            )


def test_source_health_service_and_report(ctx: Any) -> None:
    now = ctx.clock.now()
    with ctx.db.session() as s:
        rows = [
            Source(
                name="steady",
                kind="rss",
                url="http://a/",
                created_at=now - timedelta(days=30),
                last_success_at=now - timedelta(minutes=5),
            ),
            Source(
                name="went-quiet",
                kind="rss",
                url="http://b/",
                created_at=now - timedelta(days=30),
                last_success_at=now - timedelta(minutes=5),
            ),
            Source(
                name="broken",
                kind="web",
                url="http://c/",
                created_at=now - timedelta(days=30),
                consecutive_failures=4,
                last_error="timeout: 请求超时",
            ),
        ]
        s.add_all(rows)
        s.flush()
        steady, quiet, broken = (r.id for r in rows)
    hourly = [now - timedelta(hours=h, minutes=10) for h in range(0, 8 * 24)]
    _mentions(ctx, steady, hourly)
    _mentions(ctx, quiet, [t for t in hourly if t < now - timedelta(days=2)])
    health = {h.name: h for h in source_health(ctx)}
    assert health["steady"].status == "ok" and health["steady"].items_24h == 24
    assert health["steady"].baseline_per_hour == pytest.approx(1.0)
    assert health["went-quiet"].status == "silent" and health["went-quiet"].items_24h == 0
    assert health["broken"].status == "failing"

    published: list[dict[str, Any]] = []
    ctx.bus.subscribe(SOURCES_UNHEALTHY, published.extend)
    unhealthy = report_unhealthy(ctx)
    assert {h.name for h in unhealthy} == {"went-quiet", "broken"}
    assert {(m["source_id"], m["status"]) for m in published} == {(quiet, "silent"), (broken, "failing")}
    assert all(m["reasons"] and m["since"] == now.isoformat() for m in published)
    assert {m["name"] for m in published} == {"went-quiet", "broken"}
    report_unhealthy(ctx)  # idempotent: nothing changed, nothing published again
    assert len(published) == 2
    # The broken source recovers, then fails again: reported again.
    with ctx.db.session() as s:
        row = s.get(Source, broken)
        assert row is not None
        row.consecutive_failures = 0
        row.last_success_at = now
    report_unhealthy(ctx)
    assert len(published) == 2
    with ctx.db.session() as s:
        row = s.get(Source, broken)
        assert row is not None
        row.consecutive_failures = 3
    report_unhealthy(ctx)
    assert [m["source_id"] for m in published[2:]] == [broken]
