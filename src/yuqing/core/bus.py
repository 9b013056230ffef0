"""The bus that stages talk through.

Messages are small JSON-able dicts that name what changed (ids, not rows); handlers receive
them in batches so a stage can do one query per batch. The embedded default dispatches
in-process, in FIFO order, without recursion: a handler that publishes enqueues, and the
outermost ``publish`` drains the queue. Processing is keyed by ids, so redelivery (the
scale-out bus is at-least-once) never double-counts.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[list[Message]], None]

# Topics along the flow. Payloads: see docs/architecture.md ("Bus topics").
MENTIONS_INGESTED = "mentions.ingested"  # {"mention_id": int}
MENTIONS_ANALYSED = "mentions.analysed"  # {"mention_id": int}
EVENTS_CHANGED = "events.changed"  # {"event_id": int, "change": "created"|"updated"|"level", ...}
SIGNALS_FIRED = "signals.fired"  # {"signal_id": int}
ALERTS_RAISED = "alerts.raised"  # {"alert_id": int}
INCIDENTS_CHANGED = "incidents.changed"  # {"incident_id": int, "change": str}


class Bus(Protocol):
    def publish(self, topic: str, messages: list[Message]) -> None: ...

    def subscribe(self, topic: str, handler: Handler, *, name: str | None = None) -> None: ...


class InProcessBus:
    """Synchronous in-process bus; a failing handler's error propagates to the publisher."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[str, Handler]]] = collections.defaultdict(list)
        self._queue: collections.deque[tuple[str, list[Message]]] = collections.deque()
        self._draining = False
        self.published: collections.Counter[str] = collections.Counter()

    def subscribe(self, topic: str, handler: Handler, *, name: str | None = None) -> None:
        label: str = name or str(getattr(handler, "__qualname__", repr(handler)))
        self._handlers[topic].append((label, handler))

    def handlers(self, topic: str) -> list[str]:
        return [name for name, _ in self._handlers.get(topic, [])]

    def publish(self, topic: str, messages: list[Message]) -> None:
        if not messages:
            return
        self.published[topic] += len(messages)
        self._queue.append((topic, list(messages)))
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue:
                t, batch = self._queue.popleft()
                for _name, handler in self._handlers.get(t, []):
                    handler(batch)
        finally:
            self._draining = False
            self._queue.clear()
