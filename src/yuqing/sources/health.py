"""Source health: is each source still delivering? Monitoring that silently stops is the worst failure.

Pure core :func:`assess` over plain counts; thin service :func:`source_health` (one aggregate
query for all sources) and :func:`report_unhealthy`, which publishes ``sources.unhealthy`` when a
source *turns* unhealthy (or changes unhealthy status) — idempotent across calls, because the
last reported status is kept in ``Source.config["_health"]``.

Statuses, worst first:

* ``failing``  — ``failing_after`` (K) or more consecutive failed polls;
* ``silent``   — a normally active source (≥ ``min_baseline_items`` items in the previous 7 days) has
  produced nothing for longer than ``max(silent_factor × usual gap, silent_min_s)``, where the usual
  gap is ``7 days / items in the previous 7 days``;
* ``degraded`` — some failures (below K), or items in the last 24 h below ``degraded_ratio`` × the
  baseline (the previous 7 days' mean hourly rate × 24), or no success for 3 poll intervals;
* ``ok``       — none of the above (a new source without a baseline is ``ok``, and says so).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from yuqing.core.clock import ensure_utc
from yuqing.core.context import AppContext
from yuqing.sources.models import Mention, Source
from yuqing.sources.settings import HttpSettings

log = logging.getLogger(__name__)

# {"source_id": int, "status": str, "reasons": [str], "name": str, "since": ISO time of the change}
SOURCES_UNHEALTHY = "sources.unhealthy"
STATUSES = ("ok", "degraded", "silent", "failing")
PUSH_ONLY_KINDS = frozenset({"file", "webhook"})


@dataclass(frozen=True)
class HealthInput:
    now: datetime
    items_24h: int
    items_prev_7d: int  # the 7 days before the last 24 h
    last_item_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None = None
    poll_interval_s: int = 600
    created_at: datetime | None = None
    polled: bool = True  # False for push-only sources (file, webhook): no polls to judge


@dataclass
class SourceHealth:
    source_id: int
    name: str
    kind: str
    status: str
    reasons: list[str] = field(default_factory=list)
    items_24h: int = 0
    rate_per_hour: float = 0.0
    baseline_per_hour: float | None = None
    last_item_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_item_at", "last_success_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def _hours(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} 天 / days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} 小时 / h"
    return f"{seconds / 60:.0f} 分钟 / min"


def assess(data: HealthInput, params: HttpSettings) -> tuple[str, list[str], float | None]:
    """Pure: ``(status, reasons, baseline items per hour)`` for one source."""
    reasons: list[str] = []
    status = "ok"
    baseline = data.items_prev_7d / (7 * 24) if data.items_prev_7d >= params.min_baseline_items else None

    def worse(new: str) -> None:
        nonlocal status
        if STATUSES.index(new) > STATUSES.index(status):
            status = new

    if data.polled and data.consecutive_failures >= params.failing_after:
        worse("failing")
        reasons.append(
            f"连续失败 {data.consecutive_failures} 次 / {data.consecutive_failures} consecutive failures"
            + (f": {data.last_error[:200]}" if data.last_error else "")
        )
    elif data.polled and data.consecutive_failures > 0:
        worse("degraded")
        reasons.append(
            f"最近失败 {data.consecutive_failures} 次 / {data.consecutive_failures} recent failure(s)"
            + (f": {data.last_error[:200]}" if data.last_error else "")
        )
    if baseline is not None:
        usual_gap = 7 * 24 * 3600 / data.items_prev_7d
        limit = max(params.silent_factor * usual_gap, float(params.silent_min_s))
        since = data.last_item_at or (data.now - timedelta(days=8))
        quiet = (data.now - since).total_seconds()
        if quiet > limit:
            worse("silent")
            reasons.append(
                f"已 {_hours(quiet)} 无新信息（通常间隔 {_hours(usual_gap)}）/ nothing for {_hours(quiet)}, "
                f"usual gap {_hours(usual_gap)}"
            )
        elif data.items_24h < params.degraded_ratio * baseline * 24:
            worse("degraded")
            reasons.append(
                f"24 小时仅 {data.items_24h} 条，基线约 {baseline * 24:.0f} 条 / only {data.items_24h} items "
                f"in 24 h against a baseline of {baseline * 24:.0f}"
            )
    elif data.polled and data.created_at is not None and (data.now - data.created_at) < timedelta(days=7):
        reasons.append("新信源，暂无基线 / new source, no baseline yet")
    if data.polled and data.consecutive_failures == 0:
        reference = data.last_success_at or data.created_at
        overdue = timedelta(seconds=3 * max(data.poll_interval_s, 60))
        if reference is not None and data.now - reference > overdue and data.last_success_at is not None:
            worse("degraded")
            reasons.append(
                f"{_hours((data.now - reference).total_seconds())} 未成功抓取 / no successful poll for "
                f"{_hours((data.now - reference).total_seconds())}"
            )
    if status == "ok" and not reasons:
        reasons.append("正常 / ok")
    return status, reasons, baseline


def source_health(ctx: AppContext, *, include_disabled: bool = False) -> list[SourceHealth]:
    """Health of every (enabled) source, from one aggregate query over mentions."""
    now = ctx.clock.now()
    day = now - timedelta(hours=24)
    week = day - timedelta(days=7)
    with ctx.db.session() as s:
        query = select(Source).order_by(Source.id)
        if not include_disabled:
            query = query.where(Source.enabled.is_(True))
        sources = s.scalars(query).all()
        counts = {
            row.source_id: row
            for row in s.execute(
                select(
                    Mention.source_id,
                    func.sum(case((Mention.ingested_at > day, 1), else_=0)).label("day"),
                    func.sum(case((Mention.ingested_at <= day, 1), else_=0)).label("week"),
                    func.max(Mention.ingested_at).label("last"),
                )
                .where(Mention.ingested_at > week, Mention.ingested_at <= now)
                .group_by(Mention.source_id)
            )
        }
        last_ever = dict(
            s.execute(
                select(Mention.source_id, func.max(Mention.ingested_at)).group_by(Mention.source_id)
            ).all()
        )
    result = []
    for src in sources:
        row = counts.get(src.id)
        items_24h = int(row.day or 0) if row is not None else 0
        prev = int(row.week or 0) if row is not None else 0
        last = last_ever.get(src.id)
        data = HealthInput(
            now=now,
            items_24h=items_24h,
            items_prev_7d=prev,
            last_item_at=ensure_utc(last) if last is not None else None,
            last_success_at=src.last_success_at,
            consecutive_failures=src.consecutive_failures or 0,
            last_error=src.last_error,
            poll_interval_s=src.poll_interval_s or 600,
            created_at=src.created_at,
            polled=src.kind not in PUSH_ONLY_KINDS,
        )
        status, reasons, baseline = assess(data, ctx.settings.http)
        result.append(
            SourceHealth(
                source_id=src.id,
                name=src.name,
                kind=src.kind,
                status=status,
                reasons=reasons,
                items_24h=items_24h,
                rate_per_hour=items_24h / 24,
                baseline_per_hour=baseline,
                last_item_at=data.last_item_at,
                last_success_at=src.last_success_at,
                consecutive_failures=data.consecutive_failures,
                last_error=src.last_error,
            )
        )
    return result


def report_unhealthy(ctx: AppContext) -> list[SourceHealth]:
    """Every unhealthy source; publishes ``sources.unhealthy`` for those whose status changed to a
    non-ok one since the last report (and remembers recoveries so a relapse is reported again)."""
    health = source_health(ctx)
    changed: list[SourceHealth] = []
    now = ctx.clock.now()
    with ctx.db.session() as s:
        for h in health:
            row = s.get(Source, h.source_id)
            if row is None:
                continue
            config = dict(row.config or {})
            previous = (config.get("_health") or {}).get("status", "ok")
            if previous != h.status:
                config["_health"] = {"status": h.status, "since": now.isoformat()}
                row.config = config
                if h.status != "ok":
                    changed.append(h)
    if changed:
        ctx.bus.publish(
            SOURCES_UNHEALTHY,
            [
                {
                    "source_id": h.source_id,
                    "status": h.status,
                    "reasons": h.reasons,
                    "name": h.name,
                    "since": now.isoformat(),
                }
                for h in changed
            ],
        )
        for h in changed:
            log.warning("source %s is %s: %s", h.name, h.status, "; ".join(h.reasons))
    return [h for h in health if not h.healthy]
