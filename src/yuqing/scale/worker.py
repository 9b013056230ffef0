"""``yuqing worker``: consume pipeline stages from the Redis Streams bus, in threads, until stopped.

A worker registers the stages it is asked for (``yuqing.<stage>.stage.register(ctx)``, or any
importable module path that has a ``register(ctx)``), then runs ``concurrency`` consumer threads,
each a consumer of every registered group. Several workers on several machines share the groups.

Serialised stages
-----------------
Event clustering reads the current events and then creates or extends one; two consumers doing
that at once for two mentions of one story would create two events. The groups of a *serial*
stage (``events`` by default, or a stage module with ``SERIAL = True``) are therefore handled by
one consumer at a time across the whole deployment:

- on PostgreSQL, a consumer takes a session advisory lock keyed by the group name
  (``pg_try_advisory_lock`` on a dedicated connection) before reading a batch of that group and
  releases it after acknowledging. A consumer that does not get it skips the group this round, so
  no message waits in a consumer that cannot handle it. If the worker dies, PostgreSQL drops the
  lock with its connection. To close the window in which a dying holder's last COMMIT could still
  be in flight when its session lock is released, every transaction the holder opens during the
  batch also takes a *shared transaction* advisory lock on a second key (shared, so a handler may
  nest sessions), and a new holder takes that key exclusively once (and lets it go) before it
  reads: it waits until any such COMMIT has finished.
- on any other store (SQLite is single-machine anyway) a Redis lock with a lease of
  ``lease_s`` seconds does the same.

A serial stage may keep state in memory between batches (the events stage caches its online
clusterer). When the lease passes to another *process*, that cache is stale: the new holder calls
the stage module's ``reset_state(ctx)`` first (the worker records the last holding process per group
in Redis, ``P:holder:<group>``); for the events stage, until it provides ``reset_state``, the worker
drops ``ctx.extras["events.clusterer"]`` itself. Consumer threads of one process share the cache,
so they need no reset among themselves.

Handing the lease from process to process on every batch would make each new holder rebuild its
cache, so the lease is *sticky*: after each round the holder marks the group as its own for
``affinity_ms`` (5 s, ``P:sticky:<group>``) and other processes do not even try while the mark is
fresh. The holder renews it every round (it polls at least every ``block_ms``), so in practice one
process does the serial stage and another takes over within ``affinity_ms`` of its death.

The other stages scale out freely: they are idempotent per mention id.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import event, text

from yuqing.core.context import AppContext
from yuqing.core.pipeline import STAGE_ORDER
from yuqing.core.redis_bus import RedisStreamsBus, Subscription, default_consumer_name
from yuqing.errors import ConfigError

log = logging.getLogger(__name__)

SERIAL_STAGES = ("events",)
# Per-process caches of serial stages that do not (yet) provide ``reset_state(ctx)``.
KNOWN_STATE_KEYS = {"events": ("events.clusterer",)}
WORKER_STAGES = STAGE_ORDER  # every domain that may subscribe handlers


def stage_module_name(stage: str) -> str:
    """A domain name (``analysis``) means ``yuqing.analysis.stage``; anything else is a module path."""
    from yuqing.core.db import DOMAINS

    return f"yuqing.{stage}.stage" if stage in DOMAINS else stage


def require_redis_bus(ctx: AppContext) -> RedisStreamsBus:
    if not isinstance(ctx.bus, RedisStreamsBus):
        raise ConfigError(
            "worker 需要 Redis 总线，请设置 YUQING_BUS_URL=redis://… / a worker needs the Redis bus: "
            "set YUQING_BUS_URL=redis://host:6379/0"
        )
    return ctx.bus


def load_stages(
    ctx: AppContext, stages: Sequence[str] | None = None, serial: Sequence[str] = SERIAL_STAGES
) -> list[str]:
    """Register the stages' handlers on ``ctx.bus`` and mark the serial ones; returns those loaded."""
    bus = require_redis_bus(ctx)
    wanted = list(stages) if stages else list(WORKER_STAGES)
    loaded = []
    for stage in wanted:
        name = stage_module_name(stage)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            if stages:  # asked for by name: that is an error; the default list skips absent stages
                raise ConfigError(f"没有这个处理阶段 / no such stage: {stage}") from exc
            continue
        before = len(bus.subscriptions)
        module.register(ctx)
        is_serial = stage in serial or bool(getattr(module, "SERIAL", False))
        reset = _reset_hook(ctx, stage, module)
        for sub in bus.subscriptions[before:]:
            sub.serial = is_serial
            sub.reset = reset if is_serial else None
        loaded.append(stage)
    return loaded


def _reset_hook(ctx: AppContext, stage: str, module: Any) -> Callable[[], None] | None:
    hook = getattr(module, "reset_state", None)
    if callable(hook):
        return lambda: hook(ctx)
    keys = KNOWN_STATE_KEYS.get(stage)
    if keys:

        def drop() -> None:
            for key in keys:
                ctx.extras.pop(key, None)

        return drop
    return None


PROCESS_TOKEN = f"{default_consumer_name()}-{uuid.uuid4().hex[:8]}"


def lock_keys(group: str) -> tuple[int, int]:
    """Two signed 64-bit advisory-lock keys for a group: the batch lease and the commit fence."""
    digest = hashlib.sha256(group.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True), int.from_bytes(digest[8:16], "big", signed=True)


class SerialGuard:
    """``around`` hook of :meth:`RedisStreamsBus.run`: one consumer at a time for serial groups."""

    def __init__(self, ctx: AppContext, *, lease_s: float = 300.0, affinity_ms: int = 5000) -> None:
        self.ctx = ctx
        self.lease_s = lease_s
        self.affinity_ms = affinity_ms
        self.postgres = ctx.db.dialect == "postgresql"
        self._local = threading.local()
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        if self.postgres:
            event.listen(ctx.db.sessionmaker, "after_begin", self._fence)

    def _fence(self, _session: Any, _transaction: Any, connection: Any) -> None:
        key = getattr(self._local, "fence", None)
        if key is not None:
            connection.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": key})

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    @contextlib.contextmanager
    def __call__(self, sub: Subscription) -> Iterator[bool]:
        if not sub.serial:
            yield True
            return
        bus = require_redis_bus(self.ctx)
        sticky_key = f"{bus.prefix}:sticky:{sub.group}"
        if self.affinity_ms > 0:
            sticky = bus.client.get(sticky_key)
            if sticky is not None and sticky.decode() != PROCESS_TOKEN:
                yield False  # another live process has been doing this group: leave it there
                return
        lease = self._pg_lease if self.postgres else self._redis_lease
        with lease(sub.group) as held:
            if held:
                self._take_over(sub)
            yield held
            if held and self.affinity_ms > 0:
                bus.client.set(sticky_key, PROCESS_TOKEN, px=self.affinity_ms)

    def _take_over(self, sub: Subscription) -> None:
        """Drop the stage's per-process state if another process held the lease since we did."""
        bus = require_redis_bus(self.ctx)
        previous = bus.client.set(f"{bus.prefix}:holder:{sub.group}", PROCESS_TOKEN, get=True)
        if previous is not None and previous.decode() == PROCESS_TOKEN:
            return
        if sub.reset is not None:
            log.info("lease of %s taken over from %s: resetting its state", sub.group, previous)
            sub.reset()

    @contextlib.contextmanager
    def _pg_lease(self, group: str) -> Iterator[bool]:
        lease, fence = lock_keys(group)
        conn = self._connection()
        try:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lease}).scalar())
        except Exception:
            self._local.conn = None
            raise
        if not held:
            yield False
            return
        # Wait for any transaction of a previous (dead) holder that is still committing.
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": fence})
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": fence})
        self._local.fence = fence
        try:
            yield True
        finally:
            self._local.fence = None
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lease})

    @contextlib.contextmanager
    def _redis_lease(self, group: str) -> Iterator[bool]:
        bus = require_redis_bus(self.ctx)
        lock = bus.client.lock(f"{bus.prefix}:lock:{group}", timeout=self.lease_s, blocking=False)
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(Exception):
                lock.release()

    def close(self) -> None:
        if self.postgres:
            with contextlib.suppress(Exception):
                event.remove(self.ctx.db.sessionmaker, "after_begin", self._fence)
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(Exception):
                    conn.close()
            self._conns.clear()


def run_worker(
    ctx: AppContext,
    stop: threading.Event,
    *,
    stages: Sequence[str] | None = None,
    concurrency: int = 1,
    consumer: str | None = None,
    serial: Sequence[str] = SERIAL_STAGES,
) -> list[str]:
    """Consume ``stages`` with ``concurrency`` threads until ``stop`` is set; returns the stages run."""
    from yuqing.core import metrics

    bus = require_redis_bus(ctx)
    loaded = load_stages(ctx, stages, serial)
    if not bus.subscriptions:
        raise ConfigError("没有可运行的处理阶段 / no stage to run (none registered a handler)")
    metrics.register_bus(bus)
    guard = SerialGuard(ctx)
    base = consumer or default_consumer_name()
    failures: list[BaseException] = []

    def consume(i: int) -> None:
        try:
            bus.run(stop, consumer=f"{base}-{i}" if concurrency > 1 else base, around=guard)
        except BaseException as exc:  # a bug or a lasting outage: stop the whole worker, loudly
            log.exception("consumer %d failed", i)
            failures.append(exc)
            stop.set()

    log.info(
        "worker started",
        extra={"stages": loaded, "groups": [s.group for s in bus.subscriptions], "concurrency": concurrency},
    )
    threads = [
        threading.Thread(target=consume, args=(i,), name=f"consumer-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        guard.close()
    log.info("worker stopped")
    if failures:
        raise failures[0]
    return loaded
