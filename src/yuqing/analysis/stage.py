"""Wires the analysis stage onto the bus: MENTIONS_INGESTED -> analyse -> MENTIONS_ANALYSED."""

from __future__ import annotations

from yuqing.core.bus import MENTIONS_INGESTED, Message
from yuqing.core.context import AppContext


def register(ctx: AppContext) -> None:
    from yuqing.analysis.service import analyse_mentions

    def on_ingested(batch: list[Message]) -> None:
        ids = [int(m["mention_id"]) for m in batch if "mention_id" in m]
        if ids:
            analyse_mentions(ctx, ids)

    ctx.bus.subscribe(MENTIONS_INGESTED, on_ingested, name="analysis.on_ingested")
