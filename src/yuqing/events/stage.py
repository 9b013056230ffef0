"""Wires the events stage onto the bus: MENTIONS_ANALYSED -> events, EVENTS_CHANGED, SIGNALS_FIRED."""

from __future__ import annotations

from yuqing.core.bus import MENTIONS_ANALYSED, Message
from yuqing.core.context import AppContext
from yuqing.events.service import EventService

SERVICE_KEY = "events.service"


def get_service(ctx: AppContext) -> EventService:
    svc = ctx.extras.get(SERVICE_KEY)
    if not isinstance(svc, EventService):
        svc = EventService(ctx)
        ctx.extras[SERVICE_KEY] = svc
    return svc


def handle_analysed(ctx: AppContext, messages: list[Message]) -> None:
    """One batch: load the analysis results (one query), place them, commit, then publish."""
    from yuqing.analysis.service import load_analysed

    ids = sorted({int(m["mention_id"]) for m in messages if m.get("mention_id") is not None})
    if not ids:
        return
    svc = get_service(ctx)
    try:
        with ctx.db.session() as session:
            analysed = load_analysed(session, ids)
            result = svc.process(session, analysed)
    except BaseException:
        svc.forget_state()  # the commit failed: rebuild the clusterer from what is stored
        raise
    with ctx.db.session() as session:
        svc.publish(session, result)


def register(ctx: AppContext) -> None:
    ctx.bus.subscribe(
        MENTIONS_ANALYSED, lambda batch: handle_analysed(ctx, batch), name="events.handle_analysed"
    )


# Clustering is stateful: with several workers one consumer at a time runs this stage
# (yuqing.scale.worker takes a lease), and a new lease holder rebuilds its state from the store.
SERIAL = True


def reset_state(ctx: AppContext) -> None:
    """Forget the in-memory clusterer so it is rebuilt from the database on the next batch."""
    get_service(ctx).forget_state()
