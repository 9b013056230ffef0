"""Wires the emergency-response stage onto the bus: linked events' level and volume land in the timeline."""

from __future__ import annotations

from typing import Any

from yuqing.core.bus import EVENTS_CHANGED
from yuqing.core.context import AppContext


def register(ctx: AppContext) -> None:
    from yuqing.incidents.service import on_events_changed

    def handle(batch: list[dict[str, Any]]) -> None:
        on_events_changed(ctx, batch)

    ctx.bus.subscribe(EVENTS_CHANGED, handle, name="incidents.on_events_changed")
