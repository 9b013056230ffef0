"""Bus wiring of the web domain: keep the mention search index in sync with ingest."""

from __future__ import annotations

from yuqing.core.bus import MENTIONS_INGESTED, Message
from yuqing.core.context import AppContext


def register(ctx: AppContext) -> None:
    from yuqing.web.search import handle_ingested

    def _on_ingested(batch: list[Message]) -> None:
        handle_ingested(ctx, batch)

    ctx.bus.subscribe(MENTIONS_INGESTED, _on_ingested, name="web.search_index")
