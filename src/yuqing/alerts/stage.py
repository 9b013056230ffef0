"""Bus wiring of the alerting stage.

- ``events.changed`` -> the event's snapshot (``yuqing.events.service.load_snapshot``) -> one alert
  per (event, level); updates of the same level are grouped by the noise rules;
- ``signals.fired`` -> an early-sign alert (per signal id);
- ``sources.unhealthy`` -> a monitoring-system alert to the logistics group (per source and status);
- ``alerts.raised`` -> wakes the in-process dispatcher.

Handlers are idempotent: alerts are keyed by ids (``dedup_key``) and raising the same content
again is a no-op, so redelivery never double-sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.alerts import service
from yuqing.alerts.dispatcher import wake_event
from yuqing.core.bus import ALERTS_RAISED, EVENTS_CHANGED, SIGNALS_FIRED, Message
from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVELS, EventSnapshot
from yuqing.errors import NotFound, YuqingError

log = logging.getLogger(__name__)
SOURCES_UNHEALTHY = "sources.unhealthy"  # {"source_id", "status", "reasons"}
SIGNAL_KIND_ZH = {"volume": "声量异常上升", "negative_volume": "负面声量异常上升"}


def snapshot_loader() -> Callable[[Session, int], EventSnapshot] | None:
    try:
        from yuqing.events.service import load_snapshot  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:
        return None
    return load_snapshot  # type: ignore[no-any-return,unused-ignore]


def _snapshot(session: Session, event_id: int | None) -> EventSnapshot | None:
    loader = snapshot_loader()
    if loader is None or event_id is None:
        return None
    try:
        return loader(session, int(event_id))
    except NotFound:
        return None


def on_events_changed(ctx: AppContext, batch: list[Message]) -> None:
    loader = snapshot_loader()
    if loader is None:
        log.warning("events stage has no load_snapshot; %d event changes not alerted", len(batch))
        return
    event_ids = list(dict.fromkeys(int(m["event_id"]) for m in batch if m.get("event_id") is not None))
    with ctx.db.session() as session:
        for event_id in event_ids:
            try:
                snap = loader(session, event_id)
            except NotFound:
                continue
            service.alert_for_event(ctx, session, snap)


def signal_alert(ctx: AppContext, session: Session, msg: Message) -> None:
    from yuqing.sources.models import Target

    signal_id = int(msg["signal_id"])
    kind = str(msg.get("kind") or "signal")
    target_name = None
    if msg.get("target_id") is not None:
        target_name = session.scalar(select(Target.name).where(Target.id == int(msg["target_id"])))
    snap = _snapshot(session, msg.get("event_id"))
    what = SIGNAL_KIND_ZH.get(kind, kind)
    subject = target_name or (snap.title if snap else None) or f"#{signal_id}"
    title = str(msg.get("title") or f"{subject}：{what} / early sign: {kind}")
    zh, en = msg.get("message"), msg.get("message_en")
    reasons = [str(r) for r in (msg.get("reasons") or [])] or [
        " / ".join(str(x) for x in (zh, en) if x) or f"{what} / {kind}"
    ]
    data: dict[str, Any] = service.event_data(session, snap) if snap else {}
    data.update(
        signal_id=signal_id,
        signal_kind=kind,
        target_id=msg.get("target_id"),
        event_id=msg.get("event_id"),
        target_ids=[int(msg["target_id"])]
        if msg.get("target_id") is not None
        else data.get("target_ids", []),
    )
    for key in ("observed", "expected", "p_value"):
        if key in msg:
            data.setdefault("numbers", {})[key] = msg[key]
    level = msg.get("level") if msg.get("level") in LEVELS else (snap.level if snap else None)
    service.raise_alert(
        ctx,
        session,
        kind="signal",
        title=title,
        level=level,
        reasons=reasons,
        subject_type="event" if msg.get("event_id") is not None else "target",
        subject_id=int(msg.get("event_id") or msg.get("target_id") or 0),
        dedup_key=f"signal:{signal_id}",
        data=data,
    )


def on_signals_fired(ctx: AppContext, batch: list[Message]) -> None:
    with ctx.db.session() as session:
        for msg in {int(m["signal_id"]): m for m in batch if m.get("signal_id") is not None}.values():
            try:
                with service.savepoint(session):
                    signal_alert(ctx, session, msg)
            except YuqingError:
                log.exception("signal %s not alerted", msg.get("signal_id"))


def on_sources_unhealthy(ctx: AppContext, batch: list[Message]) -> None:
    with ctx.db.session() as session:
        for msg in batch:
            if msg.get("source_id") is None:
                continue
            sid, status = int(msg["source_id"]), str(msg.get("status") or "unhealthy")
            reasons = [str(r) for r in (msg.get("reasons") or [])] or [status]
            label = str(msg.get("name") or f"#{sid}")
            service.raise_alert(
                ctx,
                session,
                kind="source_health",
                title=f"监测源 {label} 异常：{status} / source {label} is {status}",
                level=None,
                reasons=reasons,
                subject_type="source",
                subject_id=sid,
                dedup_key=f"source:{sid}:{status}:{msg.get('since') or ''}",
                data={"source_id": sid, **msg},
            )


def inline_dispatch(ctx: AppContext) -> bool:
    wanted = ctx.settings.alerts.inline_dispatch
    if wanted is not None:
        return wanted
    from yuqing.core.bus import InProcessBus
    from yuqing.core.clock import ManualClock

    return isinstance(ctx.clock, ManualClock) and isinstance(ctx.bus, InProcessBus)


def on_alerts_raised(ctx: AppContext, _batch: list[Message]) -> None:
    """Wake the dispatcher; in a replay (manual clock, in-process bus) send and escalate right here."""
    wake_event(ctx).set()
    if not inline_dispatch(ctx):
        return
    from yuqing.alerts.dispatcher import Dispatcher

    d = ctx.extras.get("alerts.inline_dispatcher")
    if d is None:
        d = ctx.extras.setdefault("alerts.inline_dispatcher", Dispatcher(ctx))
    d.drain()
    if service.run_escalations(ctx):
        d.drain()


def register(ctx: AppContext) -> None:
    # bad rules or channel configuration stop the process at start, not at the first alert
    service.file_ruleset(ctx)
    service.get_channels(ctx)
    ctx.bus.subscribe(EVENTS_CHANGED, lambda b: on_events_changed(ctx, b), name="alerts.events_changed")
    ctx.bus.subscribe(SIGNALS_FIRED, lambda b: on_signals_fired(ctx, b), name="alerts.signals_fired")
    ctx.bus.subscribe(
        SOURCES_UNHEALTHY, lambda b: on_sources_unhealthy(ctx, b), name="alerts.sources_unhealthy"
    )
    ctx.bus.subscribe(ALERTS_RAISED, lambda b: on_alerts_raised(ctx, b), name="alerts.dispatch")
