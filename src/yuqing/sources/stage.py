"""The sources stage on the bus.

Ingest is the producer of the flow: :func:`yuqing.sources.service.ingest_payloads` publishes
``MENTIONS_INGESTED``; it consumes no topic. ``register`` warms the near-duplicate index so the
first batch after a restart does not pay for the rebuild.
"""

from __future__ import annotations

from yuqing.core.context import AppContext


def register(ctx: AppContext) -> None:
    from yuqing.sources.service import near_dup_index

    near_dup_index(ctx)
