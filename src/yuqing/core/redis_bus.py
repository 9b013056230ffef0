"""The scale-out bus: Redis Streams consumer groups, at-least-once, bounded, with dead letters.

``YUQING_BUS_URL=redis://host:6379/0`` selects it (:func:`yuqing.core.context.make_bus`). Options ride
on the URL's query string and are removed before connecting: ``prefix`` (key prefix, default
``yuqing``), ``batch`` (messages per read, default 100), ``block_ms`` (idle wait, default 500),
``retry_after`` (seconds suggested to a refused publisher, default 5).

Layout (``P`` = prefix):

- ``P:<topic>``: one stream per topic; each entry holds ``d`` = the message as JSON (and ``g`` = a
  single target group for replayed dead letters).
- one consumer group per subscribed handler (its ``name``, else ``module.qualname``), created at
  id ``0`` so that a group started after messages were published still sees them;
- ``P:<topic>.dead``: the dead-letter stream of the topic (``topic group id d error attempts at``);
- ``P:errors:<topic>:<group>``: a hash of the last error of each pending message;
- ``P:topics``: the set of known topics (for ``yuqing bus status``).

Delivery: a consumer reads a batch (XREADGROUP), calls the handler with the whole batch and
acknowledges it (XACK). When the batch fails, each message is retried alone; the ones that still
fail stay pending and are claimed again (XAUTOCLAIM, by any consumer, the same one included) once
idle for ``claim_idle_ms`` — which is also how the messages of a killed worker move on. The
attempt count is the stream's own delivery counter; at ``max_attempts`` a failing message goes to
the dead-letter stream with its error (and a message delivered more often than that without ever
being acknowledged — one that kills its worker — goes there too).

Back-pressure (never loss): streams are never trimmed by length (MAXLEN would drop unconsumed
messages). A publish from outside the pipeline (ingest API, scheduler) is refused with
:class:`~yuqing.errors.Overloaded` when the stream would exceed ``stream_maxlen``; the check and the
XADDs run in one Lua script, so it is atomic. A publish from inside a handler is never refused
(refusing it would turn back-pressure into dead letters); instead a consumer pauses any group whose
downstream streams are over the bound, so pressure propagates back to the admission point.
Workers trim each stream only below what every group has acknowledged (XTRIM MINID at the oldest
pending or undelivered id across groups).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from yuqing.core.bus import Handler, Message
from yuqing.errors import ConfigError, Overloaded, ValidationError

log = logging.getLogger(__name__)

URL_OPTIONS = ("prefix", "batch", "block_ms", "retry_after")
ADMIT_RATIO = 0.9  # admission control refuses a little before publish does (see ``admit``)

_PUBLISH_LUA = """
local len = redis.call('XLEN', KEYS[1])
local limit = tonumber(ARGV[1])
local n = #ARGV - 2
if limit > 0 and len + n > limit then
  return {-1, len}
end
for i = 3, #ARGV do
  if ARGV[2] == '' then
    redis.call('XADD', KEYS[1], '*', 'd', ARGV[i])
  else
    redis.call('XADD', KEYS[1], '*', 'd', ARGV[i], 'g', ARGV[2])
  end
end
return {1, len + n}
"""

Around = Callable[["Subscription"], contextlib.AbstractContextManager[bool]]


@dataclass
class Subscription:
    topic: str
    group: str
    handler: Handler
    module: str = ""
    serial: bool = False  # processed by one consumer at a time (see yuqing.scale.worker)
    reset: Callable[[], None] | None = None  # drops per-process state when another process took over
    downstream: set[str] = field(default_factory=set)  # topics its handler published to


@dataclass
class BatchResult:
    ok: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0


def handler_group_name(handler: Handler, name: str | None = None) -> str:
    """The stable consumer-group name of a handler: its given name, else ``module.qualname``."""
    if name:
        return name
    module = getattr(handler, "__module__", None) or "handler"
    qual = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{module}.{qual}"


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """Separate yuqing's options from the Redis URL proper."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in URL_OPTIONS}
    rest = urlencode([(k, v) for k, v in query if k not in URL_OPTIONS])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), options


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _next_id(stream_id: str) -> str:
    ms, _, seq = stream_id.partition("-")
    return f"{ms}-{int(seq or 0) + 1}"


def _id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class RedisStreamsBus:
    """The :class:`~yuqing.core.bus.Bus` over Redis Streams; ``run`` consumes (see module doc)."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "yuqing",
        stream_maxlen: int = 100_000,
        claim_idle_ms: int = 30_000,
        max_attempts: int = 5,
        batch_size: int = 100,
        block_ms: int = 500,
        retry_after: int = 5,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.stream_maxlen = stream_maxlen
        self.claim_idle_ms = claim_idle_ms
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.retry_after = retry_after
        self.subscriptions: list[Subscription] = []
        self.outage_backoff = (0.5, 30.0)  # first and longest wait between retries during an outage
        self._publish_script = client.register_script(_PUBLISH_LUA)
        self._local = threading.local()
        self._last_claim: dict[tuple[str, str, str], float] = {}
        self._last_trim: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        self._checked_at: dict[str, float] = {}

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str, settings: Any = None) -> RedisStreamsBus:
        """Build from ``redis://…[?prefix=…&batch=…]``; ``settings`` is the ``bus`` settings section."""
        import redis

        plain, opts = split_url(url)
        try:
            client = redis.Redis.from_url(plain, health_check_interval=30, socket_keepalive=True)
            kwargs: dict[str, Any] = {
                "prefix": opts.get("prefix") or "yuqing",
                "batch_size": int(opts.get("batch", 100)),
                "block_ms": int(opts.get("block_ms", 500)),
                "retry_after": int(opts.get("retry_after", 5)),
            }
        except ValueError as exc:
            raise ConfigError(f"总线地址无效 / invalid bus URL: {exc}") from exc
        if settings is not None:
            kwargs.update(
                stream_maxlen=settings.stream_maxlen,
                claim_idle_ms=settings.claim_idle_ms,
                max_attempts=settings.max_attempts,
            )
        return cls(client, **kwargs)

    def close(self) -> None:
        self.client.close()

    # --- keys -----------------------------------------------------------------------------

    def stream_key(self, topic: str) -> str:
        return f"{self.prefix}:{topic}"

    def dead_key(self, topic: str) -> str:
        return f"{self.prefix}:{topic}.dead"

    def errors_key(self, topic: str, group: str) -> str:
        return f"{self.prefix}:errors:{topic}:{group}"

    @property
    def topics_key(self) -> str:
        return f"{self.prefix}:topics"

    def topics(self) -> list[str]:
        return sorted(_s(t) for t in self.client.smembers(self.topics_key))

    # --- the Bus protocol -----------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, *, name: str | None = None) -> None:
        group = handler_group_name(handler, name)
        if any(s.topic == topic and s.group == group for s in self.subscriptions):
            return
        self.ensure_group(topic, group)
        module = str(getattr(handler, "__module__", "") or "")
        self.subscriptions.append(Subscription(topic, group, handler, module=module))

    def ensure_group(self, topic: str, group: str) -> None:
        import redis

        self.client.sadd(self.topics_key, topic)
        try:
            self.client.xgroup_create(self.stream_key(topic), group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def publish(self, topic: str, messages: list[Message]) -> None:
        if not messages:
            return
        inside = getattr(self._local, "current", None)
        if inside is not None:
            inside.downstream.add(topic)
        self._add(topic, messages, bounded=inside is None)

    def _add(self, topic: str, messages: list[Message], *, bounded: bool, target: str = "") -> None:
        from yuqing.core import metrics

        if bounded and len(messages) > self.stream_maxlen:
            raise ValidationError(
                f"批量过大 / batch of {len(messages)} exceeds the stream bound {self.stream_maxlen}"
            )
        payloads = [json.dumps(m, ensure_ascii=False, separators=(",", ":"), default=str) for m in messages]
        key = self.stream_key(topic)
        self.client.sadd(self.topics_key, topic)
        limit = self.stream_maxlen if bounded else 0
        status, length = self._publish_script(keys=[key], args=[limit, target, *payloads])
        if int(status) < 0 and self.trim(topic):
            status, length = self._publish_script(keys=[key], args=[limit, target, *payloads])
        if int(status) < 0:
            metrics.BUS_REJECTED.labels(topic).inc(len(messages))
            raise Overloaded(
                f"队列已满，请稍后重试 / the {topic} queue is full ({int(length)} waiting, bound "
                f"{self.stream_maxlen}); retry after {self.retry_after}s",
                retry_after=self.retry_after,
                topic=topic,
                depth=int(length),
            )
        metrics.BUS_PUBLISHED.labels(topic).inc(len(messages))

    def admit(self, topic: str, count: int = 1) -> None:
        """Admission control for an entry point: raise :class:`Overloaded` *before* doing any work.

        It refuses at ``ADMIT_RATIO`` of the bound, so that a request admitted here is (bar a large
        burst of concurrent requests) not refused by its ``publish`` after its rows are committed.
        """
        depth = int(self.client.xlen(self.stream_key(topic)))
        if depth + count > self.stream_maxlen * ADMIT_RATIO:
            self.trim(topic)
            depth = int(self.client.xlen(self.stream_key(topic)))
        if depth + count > self.stream_maxlen * ADMIT_RATIO:
            from yuqing.core import metrics

            metrics.BUS_REJECTED.labels(topic).inc(count)
            raise Overloaded(
                f"系统繁忙，请稍后重试 / busy: {depth} {topic} messages waiting; retry after "
                f"{self.retry_after}s",
                retry_after=self.retry_after,
                topic=topic,
                depth=depth,
            )

    # --- trimming -------------------------------------------------------------------------

    def safe_min_id(self, topic: str) -> str | None:
        """The oldest id some group still needs (pending or not yet delivered); None = keep all."""
        key = self.stream_key(topic)
        groups = self.client.xinfo_groups(key)
        if not groups:
            return None
        candidates = []
        for g in groups:
            name = _s(g["name"])
            if int(g["pending"]):
                summary = self.client.xpending(key, name)
                candidates.append(_s(summary["min"]))
            else:
                candidates.append(_next_id(_s(g["last-delivered-id"])))
        return min(candidates, key=_id_key)

    def trim(self, topic: str) -> int:
        """Drop the entries every group has acknowledged; returns how many went.

        A stream that no group reads (no stage subscribes to the topic) keeps its last
        ``stream_maxlen`` entries, so that a stage deployed later still finds recent history.
        """
        import redis

        try:
            minid = self.safe_min_id(topic)
        except redis.ResponseError:  # no such stream yet
            return 0
        key = self.stream_key(topic)
        if minid is None:
            removed = int(self.client.xtrim(key, maxlen=self.stream_maxlen, approximate=False))
            self._last_trim[topic] = time.monotonic()
            return removed
        if minid == "0-1":
            return 0
        removed = int(self.client.xtrim(key, minid=minid, approximate=False))
        self._last_trim[topic] = time.monotonic()
        return removed

    # --- consuming ------------------------------------------------------------------------

    def selected(self, groups: Iterable[str] | None = None) -> list[Subscription]:
        if groups is None:
            return list(self.subscriptions)
        wanted = set(groups)
        return [s for s in self.subscriptions if s.group in wanted or s.topic in wanted]

    def run(
        self,
        stop: threading.Event,
        groups: Iterable[str] | None = None,
        *,
        consumer: str | None = None,
        around: Around | None = None,
    ) -> None:
        """Consume until ``stop`` is set; ``around(sub)`` may refuse a round (serialised groups)."""
        consumer = consumer or default_consumer_name()
        subs = self.selected(groups)
        if not subs:
            raise ConfigError("没有可消费的订阅 / no subscriptions to consume")
        for sub in subs:  # visible in ``bus status`` from the start, not from the first message
            self.client.xgroup_createconsumer(self.stream_key(sub.topic), sub.group, consumer)
        log.info("bus consumer started", extra={"consumer": consumer, "groups": [s.group for s in subs]})
        self._local.stop = stop
        try:
            self._consume(stop, consumer, subs, around)
        finally:
            self._local.stop = None
            self._leave(consumer, subs)
        log.info("bus consumer stopped", extra={"consumer": consumer})

    def _leave(self, consumer: str, subs: list[Subscription]) -> None:
        """On a clean stop, forget this consumer where it holds nothing (a dead one stays listed)."""
        for sub in subs:
            key = self.stream_key(sub.topic)
            with contextlib.suppress(Exception):
                mine = self.client.xpending_range(key, sub.group, "-", "+", 1, consumer)
                if not mine:
                    self.client.xgroup_delconsumer(key, sub.group, consumer)

    def _consume(
        self, stop: threading.Event, consumer: str, subs: list[Subscription], around: Around | None
    ) -> None:
        idle = 0.01
        while not stop.is_set():
            try:
                done = self.process_once(consumer, subs, around=around)
            except Exception as exc:  # Redis or database outage: wait and go on
                if _is_connection_error(exc):
                    log.warning("bus connection error: %s", exc)
                    stop.wait(1.0)
                    continue
                raise
            if done:
                idle = 0.01
                continue
            stop.wait(idle)
            idle = min(idle * 2, self.block_ms / 1000)

    def process_once(
        self,
        consumer: str,
        subs: list[Subscription] | None = None,
        *,
        around: Around | None = None,
        claim: bool = True,
    ) -> int:
        """One round over the subscriptions: claim stale, read new, handle; returns messages handled."""
        handled = 0
        for sub in subs if subs is not None else self.subscriptions:
            if self._downstream_full(sub):
                continue
            guard = around(sub) if around is not None else contextlib.nullcontext(True)
            with guard as allowed:
                if not allowed:
                    continue
                if claim:
                    handled += self._claim_and_handle(sub, consumer)
                handled += self._read_and_handle(sub, consumer)
            self._maybe_trim(sub.topic)
        return handled

    def _downstream_full(self, sub: Subscription) -> bool:
        if not sub.downstream:
            return False
        now = time.monotonic()
        if self._paused_until.get(sub.group, 0) > now:
            return True
        if self._checked_at.get(sub.group, 0.0) > now - 0.5:
            return False
        self._checked_at[sub.group] = now
        full = [t for t in sub.downstream if int(self.client.xlen(self.stream_key(t))) > self.stream_maxlen]
        full = [
            t for t in full if self.trim(t) >= 0 and self.client.xlen(self.stream_key(t)) > self.stream_maxlen
        ]
        if full:
            self._paused_until[sub.group] = now + 1.0
            log.warning("pausing %s: downstream %s over its bound", sub.group, ", ".join(full))
            return True
        return False

    def _maybe_trim(self, topic: str) -> None:
        if time.monotonic() - self._last_trim.get(topic, 0.0) > 5.0:
            self._last_trim[topic] = time.monotonic()
            self.trim(topic)
            self.forget_dead_consumers(topic)

    def forget_dead_consumers(self, topic: str) -> int:
        """Drop consumers that hold nothing and have not been heard of for long (killed workers)."""
        key = self.stream_key(topic)
        limit = max(10 * self.claim_idle_ms, 300_000)
        gone = 0
        for sub in [s for s in self.subscriptions if s.topic == topic]:
            for c in self.client.xinfo_consumers(key, sub.group):
                if int(c["pending"]) == 0 and int(c["idle"]) > limit:
                    self.client.xgroup_delconsumer(key, sub.group, c["name"])
                    gone += 1
        return gone

    def _read_and_handle(self, sub: Subscription, consumer: str) -> int:
        key = self.stream_key(sub.topic)
        reply = self.client.xreadgroup(sub.group, consumer, {key: ">"}, count=self.batch_size)
        entries = reply[0][1] if reply else []
        if not entries:
            return 0
        return self._handle(sub, [(_s(i), f) for i, f in entries], {}, consumer)

    def _claim_and_handle(self, sub: Subscription, consumer: str) -> int:
        now = time.monotonic()
        mark = (sub.topic, sub.group, consumer)
        if now - self._last_claim.get(mark, 0.0) < self.claim_idle_ms / 2000:
            return 0
        self._last_claim[mark] = now
        key = self.stream_key(sub.topic)
        _next, entries, *_ = self.client.xautoclaim(
            key, sub.group, consumer, self.claim_idle_ms, "0-0", count=self.batch_size
        )
        if not entries:
            return 0
        ids = [_s(i) for i, _f in entries]
        counts: dict[str, int] = {}
        first, last = min(ids, key=_id_key), max(ids, key=_id_key)
        for row in self.client.xpending_range(key, sub.group, first, last, len(ids) * 2, consumer):
            counts[_s(row["message_id"])] = int(row["times_delivered"])
        from yuqing.core import metrics

        metrics.BUS_CLAIMED.labels(sub.topic, sub.group).inc(len(ids))
        log.info("claimed %d pending message(s) of %s", len(ids), sub.group)
        if len(entries) >= self.batch_size:  # a dead consumer left more: claim again next round
            self._last_claim[mark] = 0.0
        return self._handle(sub, [(_s(i), f) for i, f in entries], counts, consumer)

    def _handle(
        self,
        sub: Subscription,
        entries: list[tuple[str, Any]],
        deliveries: dict[str, int],
        consumer: str = "",
    ) -> int:
        """Handle a batch; ``deliveries`` has the delivery counts of claimed entries (others: 1)."""
        from yuqing.core import metrics

        key = self.stream_key(sub.topic)
        result = BatchResult()
        todo: list[tuple[str, Message]] = []
        skip: list[str] = []
        raw: dict[str, dict[str, Any]] = {}
        for entry_id, fields in entries:
            fields = {_s(k): v for k, v in (fields or {}).items()}
            raw[entry_id] = fields
            target = _s(fields["g"]) if "g" in fields else ""
            if target and target != sub.group:
                skip.append(entry_id)
                continue
            try:
                message = json.loads(_s(fields["d"]))
                if not isinstance(message, dict):
                    raise ValueError("message is not a JSON object")
            except (KeyError, ValueError) as exc:
                self._dead_letter(sub, entry_id, fields, f"undecodable message: {exc}", 1)
                result.dead += 1
                continue
            attempts = deliveries.get(entry_id, 1)
            if attempts > self.max_attempts:
                error = self.client.hget(self.errors_key(sub.topic, sub.group), entry_id)
                reason = (
                    _s(error) if error else "delivered repeatedly without acknowledgement (worker crashed?)"
                )
                self._dead_letter(sub, entry_id, fields, reason, attempts)
                result.dead += 1
                continue
            todo.append((entry_id, message))
        if skip:
            self.client.xack(key, sub.group, *skip)
            result.skipped += len(skip)
        if todo:
            started = time.perf_counter()
            try:
                try:
                    self._call(sub, [m for _i, m in todo])
                except Exception as first:
                    if not is_transient(first):
                        raise
                    self._hold_and_retry(sub, consumer, todo, first)
            except Exception as exc:
                if len(todo) > 1:
                    log.warning("batch of %d failed in %s (%s); retrying singly", len(todo), sub.group, exc)
                for entry_id, message in todo:
                    try:
                        if len(todo) > 1:
                            self._call(sub, [message])
                        else:
                            raise exc
                    except Exception as one_exc:
                        attempts = deliveries.get(entry_id, 1)
                        error = f"{type(one_exc).__name__}: {one_exc}"[:2000]
                        log.warning(
                            "message %s failed in %s (attempt %d/%d): %s",
                            entry_id,
                            sub.group,
                            attempts,
                            self.max_attempts,
                            error,
                        )
                        if attempts >= self.max_attempts:
                            self._dead_letter(sub, entry_id, raw[entry_id], error, attempts)
                            result.dead += 1
                        else:
                            self.client.hset(self.errors_key(sub.topic, sub.group), entry_id, error)
                            result.failed += 1
                    else:
                        self._ack(sub, [entry_id])
                        result.ok += 1
            else:
                self._ack(sub, [i for i, _m in todo])
                result.ok += len(todo)
            metrics.STAGE_BATCH_SECONDS.labels(sub.group).observe(time.perf_counter() - started)
        metrics.record_batch(sub.topic, sub.group, result.ok, result.failed, result.dead)
        return result.ok + result.failed + result.dead + result.skipped

    def _hold_and_retry(
        self, sub: Subscription, consumer: str, todo: list[tuple[str, Message]], exc: Exception
    ) -> None:
        """An outage (database or network down) is not the messages' fault: keep them and retry.

        The batch stays pending for this consumer; XCLAIM ... JUSTID keeps it ours without counting
        an attempt, so an outage longer than ``claim_idle_ms × max_attempts`` dead-letters nothing.
        Re-raises the last error when the consumer is stopping (the batch stays pending) or when
        the retry fails for another reason (then the usual per-message path runs).
        """
        stop: threading.Event | None = getattr(self._local, "stop", None)
        if stop is None or not consumer:
            raise exc
        ids = [i for i, _m in todo]
        delay, longest = self.outage_backoff
        longest = min(longest, self.claim_idle_ms / 2000)  # re-claim before anyone else may
        while True:
            log.warning("transient failure in %s, holding %d message(s): %s", sub.group, len(ids), exc)
            if stop.wait(delay):
                raise exc
            delay = min(delay * 2, longest)
            with contextlib.suppress(Exception):
                self.client.xclaim(self.stream_key(sub.topic), sub.group, consumer, 0, ids, justid=True)
            try:
                self._call(sub, [m for _i, m in todo])
                return
            except Exception as again:
                if not is_transient(again):
                    raise
                exc = again

    def _call(self, sub: Subscription, batch: list[Message]) -> None:
        self._local.current = sub
        try:
            sub.handler(batch)
        finally:
            self._local.current = None

    def _ack(self, sub: Subscription, ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.stream_key(sub.topic), sub.group, *ids)
        pipe.hdel(self.errors_key(sub.topic, sub.group), *ids)
        pipe.execute()

    def _dead_letter(
        self, sub: Subscription, entry_id: str, fields: dict[str, Any], error: str, n: int
    ) -> None:
        payload = fields.get("d", b"")
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(
            self.dead_key(sub.topic),
            {
                "topic": sub.topic,
                "group": sub.group,
                "id": entry_id,
                "d": payload,
                "error": error[:2000],
                "attempts": str(n),
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        pipe.xack(self.stream_key(sub.topic), sub.group, entry_id)
        pipe.hdel(self.errors_key(sub.topic, sub.group), entry_id)
        pipe.execute()
        log.error("message %s of %s dead-lettered after %d attempt(s): %s", entry_id, sub.group, n, error)

    # --- operations -----------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Per topic: stream length, dead letters, and per group pending / lag / consumers."""
        import redis

        out = []
        for topic in self.topics():
            key = self.stream_key(topic)
            try:
                groups = self.client.xinfo_groups(key)
            except redis.ResponseError:
                groups = []
            out.append(
                {
                    "topic": topic,
                    "length": int(self.client.xlen(key)),
                    "dead": int(self.client.xlen(self.dead_key(topic))),
                    "groups": [
                        {
                            "group": _s(g["name"]),
                            "pending": int(g["pending"]),
                            "lag": None if g.get("lag") is None else int(g["lag"]),
                            "consumers": int(g["consumers"]),
                            "last_delivered": _s(g["last-delivered-id"]),
                        }
                        for g in groups
                    ],
                }
            )
        return out

    def dead_letters(self, topic: str | None = None, count: int = 100) -> list[dict[str, Any]]:
        out = []
        for t in [topic] if topic else self.topics():
            for dead_id, fields in self.client.xrange(self.dead_key(t), count=count):
                row = {_s(k): _s(v) for k, v in fields.items()}
                row["dead_id"] = _s(dead_id)
                row["topic"] = t
                out.append(row)
        return out

    def replay(self, topic: str, dead_ids: Iterable[str] | None = None) -> int:
        """Put dead letters back on their stream, each for its own group only; returns how many."""
        wanted = set(dead_ids) if dead_ids is not None else None
        replayed = 0
        for row in self.dead_letters(topic, count=100_000):
            if wanted is not None and row["dead_id"] not in wanted:
                continue
            try:
                message = json.loads(row.get("d") or "")
            except ValueError:
                continue  # undecodable: replaying it would only fail again
            self._add(topic, [message], bounded=False, target=row.get("group", ""))
            self.client.xdel(self.dead_key(topic), row["dead_id"])
            replayed += 1
        return replayed

    def purge_dead(self, topic: str, dead_ids: Iterable[str]) -> int:
        ids = list(dead_ids)
        return int(self.client.xdel(self.dead_key(topic), *ids)) if ids else 0

    def delete_group(self, topic: str, group: str) -> bool:
        """Remove a consumer group that no longer runs (its lag would hold back trimming forever)."""
        self.client.delete(self.errors_key(topic, group))
        return bool(self.client.xgroup_destroy(self.stream_key(topic), group))

    def drop_all(self) -> None:
        """Delete every key under the prefix (tests and ``yuqing bus reset``)."""
        for keys in _chunks(self.client.scan_iter(match=f"{self.prefix}:*", count=500), 500):
            self.client.delete(*keys)


def _chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_transient(exc: BaseException) -> bool:
    """Errors of the infrastructure (database or Redis unreachable, lock or serialisation conflicts)."""
    import redis
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | redis.ConnectionError | redis.TimeoutError)


def _is_connection_error(exc: Exception) -> bool:
    import redis

    return isinstance(exc, redis.ConnectionError | redis.TimeoutError)


def default_consumer_name(suffix: str = "") -> str:
    name = f"{socket.gethostname()}-{os.getpid()}"
    return f"{name}-{suffix}" if suffix else name


def admit(bus: Any, topic: str, count: int = 1) -> None:
    """Admission control on any bus: a no-op for the in-process bus (see :meth:`RedisStreamsBus.admit`)."""
    check = getattr(bus, "admit", None)
    if check is not None:
        check(topic, count)
