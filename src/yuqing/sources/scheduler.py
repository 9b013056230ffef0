"""Polls every due source through its connector plugin and hands the payloads to the ingest service.

Timing (docs/fetching.md):

* after a success: ``next_poll_at = now + interval × (1 + u)``, ``u`` uniform in ``[-jitter, +jitter]``
  (``settings.http.jitter``, default ±10 %) from an injectable, seedable RNG, so sources added
  together drift apart instead of polling in lock-step;
* after the n-th consecutive failure: ``next_poll_at = now + min(interval × 2^n, cap) × (1 + u)``,
  ``cap = max(interval, settings.http.max_backoff_s)`` (default 6 h); a success resets n to 0.

Failures are recorded on the source (``last_error`` = ``"<code>: <message>"``,
``consecutive_failures``, ``last_attempt_at``); a failed fetch that still received a body (an HTTP
error page, the first ``max_bytes`` of a too-large page) is stored as a raw item and quarantined
with stage ``fetch`` and the error code as reason. Nothing raised by one source stops the loop.

Concurrency: up to ``settings.http.concurrency`` sources are *fetched* in parallel worker threads;
ingest and bookkeeping run in the scheduler's own thread, one source at a time.

Graceful stop: :meth:`Scheduler.run_forever` checks its ``stop`` event before starting each fetch,
so a SIGTERM lets the fetches in flight finish and be ingested (payloads are stored before they are
parsed, by the ingest service) and then returns: nothing fetched is lost, and whatever was not yet
polled simply stays due for the next start.
"""

from __future__ import annotations

import concurrent.futures
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from yuqing.core.clock import ensure_utc
from yuqing.core.context import AppContext
from yuqing.errors import FetchError, YuqingError
from yuqing.sources.base import RawPayload
from yuqing.sources.fetch import redact_url
from yuqing.sources.models import Source

log = logging.getLogger(__name__)

PUSH_ONLY_KINDS = frozenset({"file", "webhook"})  # fed by `yuqing ingest` and POST /api/v1/ingest

IngestFn = Callable[[AppContext, Source, list[RawPayload], Any], Any]
ConnectorLoader = Callable[[str], Any]


def next_delay(interval_s: float, failures: int, *, jitter: float, cap_s: float, rng: random.Random) -> float:
    """Seconds until the next poll (pure; see the module docstring for the formula)."""
    interval_s = max(float(interval_s), 1.0)
    base = interval_s if failures <= 0 else min(interval_s * 2 ** min(failures, 30), max(cap_s, interval_s))
    return base * (1.0 + rng.uniform(-jitter, jitter))


@dataclass
class PollOutcome:
    source_id: int
    name: str
    ok: bool
    code: str | None = None  # error code on failure
    message: str | None = None
    payloads: int = 0
    not_modified: bool = False
    report: Any = None  # the ingest service's IngestReport
    next_poll_at: datetime | None = None
    quarantine_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _default_ingest(ctx: AppContext, source: Source, payloads: list[RawPayload], connector: Any) -> Any:
    from yuqing.sources.service import ingest_payloads

    return ingest_payloads(ctx, source, payloads, connector)


def _default_loader(kind: str) -> Any:
    from yuqing.sources.service import get_connector

    return get_connector(kind)


def _nothing_readable(counts: dict[str, int]) -> bool:
    """True when payloads arrived but none gave a single item and all of them were quarantined."""
    raw = counts.get("raw_items", 0)
    accepted = counts.get("new", 0) + counts.get("exact_dupes", 0) + counts.get("near_dupes", 0)
    return raw > 0 and accepted == 0 and counts.get("quarantined", 0) >= raw


class Scheduler:
    def __init__(
        self,
        ctx: AppContext,
        *,
        rng: random.Random | None = None,
        ingest: IngestFn | None = None,
        connector_loader: ConnectorLoader | None = None,
        on_poll: Callable[[PollOutcome], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.rng = rng or random.Random()
        self.ingest = ingest or _default_ingest
        self.load_connector = connector_loader or _default_loader
        self.on_poll = on_poll
        self._connectors: dict[str, Any] = {}
        self.polls = 0
        self._last_health_check: datetime | None = None

    # --- which sources ------------------------------------------------------------------------

    def _pollable_kinds_filter(self) -> Any:
        return Source.kind.not_in(sorted(PUSH_ONLY_KINDS))

    def due_sources(self, now: datetime | None = None) -> list[Source]:
        """Enabled, pollable sources whose ``next_poll_at`` is unset or not after ``now``, oldest first."""
        now = now or self.ctx.clock.now()
        with self.ctx.db.session() as s:
            rows = s.scalars(
                select(Source)
                .where(
                    Source.enabled.is_(True),
                    self._pollable_kinds_filter(),
                    or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now),
                )
                .order_by(Source.next_poll_at.is_not(None), Source.next_poll_at, Source.id)
            ).all()
        return [r for r in rows if self._pollable(r.kind)]

    def next_due_at(self) -> datetime | None:
        """When the earliest pollable source is next due (None: nothing to poll)."""
        with self.ctx.db.session() as s:
            rows = s.execute(
                select(Source.kind, Source.next_poll_at).where(
                    Source.enabled.is_(True), self._pollable_kinds_filter()
                )
            ).all()
        times = [
            ensure_utc(t) if t is not None else self.ctx.clock.now() for k, t in rows if self._pollable(k)
        ]
        return min(times) if times else None

    def _connector(self, kind: str) -> Any:
        if kind not in self._connectors:
            self._connectors[kind] = self.load_connector(kind)
        return self._connectors[kind]

    def _pollable(self, kind: str) -> bool:
        try:
            connector = self._connector(kind)
        except YuqingError:
            return True  # polled so that the failure is recorded on the source
        return bool(getattr(connector, "pollable", kind not in PUSH_ONLY_KINDS))

    # --- polling ---------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> list[PollOutcome]:
        """Poll every due source once; returns what happened to each, in due order.

        Up to ``settings.http.concurrency`` fetches run in worker threads (so one stalling site does
        not hold up the others); ingesting and recording happen here, in the calling thread, one
        source at a time (one writer, one bus publisher). Once ``stop`` is set no new fetch starts;
        fetches in flight are finished and ingested.
        """
        due = self.due_sources()
        workers = max(1, int(self.ctx.settings.http.concurrency))
        if workers == 1 or len(due) <= 1:
            outcomes = []
            for source in due:
                if stop is not None and stop.is_set():
                    break
                outcomes.append(self.poll(source))
            return outcomes
        order = {source.id: i for i, source in enumerate(due)}
        results: list[PollOutcome] = []
        pending = list(due)
        running: dict[concurrent.futures.Future[Any], tuple[Source, datetime]] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            while pending or running:
                while pending and len(running) < workers and not (stop is not None and stop.is_set()):
                    source = pending.pop(0)
                    running[pool.submit(self._fetch, source)] = (source, self.ctx.clock.now())
                if not running:
                    break
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    source, started = running.pop(future)
                    results.append(self._finish(source, future.result(), started))
        return sorted(results, key=lambda o: order.get(o.source_id, 0))

    def poll(self, source: Source) -> PollOutcome:
        """Fetch + ingest one source and record the outcome on it. Never raises."""
        started = self.ctx.clock.now()
        return self._finish(source, self._fetch(source), started)

    def _fetch(self, source: Source) -> list[RawPayload] | BaseException:
        """The network part (safe in a worker thread): payloads, or the exception it raised."""
        try:
            return list(self._connector(source.kind).fetch(source, self.ctx))
        except Exception as exc:
            return exc

    def _finish(
        self, source: Source, fetched: list[RawPayload] | BaseException, started: datetime
    ) -> PollOutcome:
        """Ingest what was fetched and record the outcome on the source (calling thread)."""
        ctx = self.ctx
        outcome = PollOutcome(source_id=source.id, name=source.name, ok=False)
        try:
            if isinstance(fetched, BaseException):
                raise fetched
            connector = self._connector(source.kind)
            payloads = fetched
            outcome.payloads = len(payloads)
            outcome.not_modified = bool(payloads) and all(p.not_modified for p in payloads)
            fresh = [p for p in payloads if not p.not_modified]
            if fresh:
                outcome.report = self.ingest(ctx, source, fresh, connector)
                counts = getattr(outcome.report, "counts", None)
                outcome.counts = counts() if callable(counts) else {}
            if _nothing_readable(outcome.counts):
                # Every payload went to quarantine (e.g. a feed that is malformed at every poll): the
                # bodies are kept, but the source is not delivering, so it counts as a failure and
                # its ETag is not stored (the next poll fetches the body again instead of a 304).
                outcome.code = "parse_failed"
                outcome.message = (
                    f"{outcome.counts.get('quarantined', 0)} 个内容全部进入隔离区 / every payload was "
                    "quarantined (see `yuqing quarantine list`)"
                )
                self._record_failure(source, started, outcome)
            else:
                outcome.ok = True
                self._record_success(source, payloads, started, outcome)
        except FetchError as exc:
            outcome.code, outcome.message = exc.code, exc.message
            kept = exc.detail.get("payload")
            if isinstance(kept, RawPayload) and kept.body:
                outcome.quarantine_id = self._quarantine_body(source, kept, exc)
            self._record_failure(source, started, outcome)
        except Exception as exc:  # a connector or ingest bug must not stop the service
            outcome.code = getattr(exc, "code", None) or type(exc).__name__.lower()
            outcome.message = getattr(exc, "message", None) or str(exc) or repr(exc)
            if not isinstance(exc, YuqingError):
                log.error("polling source %s failed unexpectedly", source.name, exc_info=exc)
            try:
                self._record_failure(source, started, outcome)
            except Exception:
                log.exception("cannot record the failure of source %s", source.name)
        self.polls += 1
        level = logging.INFO if outcome.ok else logging.WARNING
        log.log(
            level, "polled %s: ok=%s code=%s counts=%s", source.name, outcome.ok, outcome.code, outcome.counts
        )
        if self.on_poll is not None:
            self.on_poll(outcome)
        return outcome

    def _delay(self, interval: int | None, failures: int) -> timedelta:
        http = self.ctx.settings.http
        seconds = next_delay(
            interval or 600, failures, jitter=http.jitter, cap_s=http.max_backoff_s, rng=self.rng
        )
        return timedelta(seconds=seconds)

    def _record_success(
        self, source: Source, payloads: list[RawPayload], started: datetime, outcome: PollOutcome
    ) -> None:
        now = self.ctx.clock.now()
        first = payloads[0] if payloads else None
        with self.ctx.db.session() as s:
            row = s.get(Source, source.id)
            if row is None:
                return
            row.last_attempt_at = started
            row.last_success_at = now
            row.consecutive_failures = 0
            row.last_error = None
            if first is not None:
                headers = {k.lower(): v for k, v in (first.headers or {}).items()}
                if headers.get("etag"):
                    row.etag = headers["etag"][:500]
                if headers.get("last-modified"):
                    row.last_modified = headers["last-modified"][:200]
            row.next_poll_at = now + self._delay(row.poll_interval_s, 0)
            outcome.next_poll_at = row.next_poll_at

    def _record_failure(self, source: Source, started: datetime, outcome: PollOutcome) -> None:
        now = self.ctx.clock.now()
        with self.ctx.db.session() as s:
            row = s.get(Source, source.id)
            if row is None:
                return
            failures = (row.consecutive_failures or 0) + 1
            row.consecutive_failures = failures
            row.last_attempt_at = started
            row.last_error = f"{outcome.code}: {outcome.message}"[:10_000]
            row.next_poll_at = now + self._delay(row.poll_interval_s, failures)
            outcome.next_poll_at = row.next_poll_at

    def _quarantine_body(self, source: Source, payload: RawPayload, exc: FetchError) -> int | None:
        from yuqing.sources.service import quarantine, store_raw

        try:
            raw_id = store_raw(self.ctx, source, payload)
            from sqlalchemy import update

            from yuqing.sources.models import RawItem

            with self.ctx.db.session() as s:
                s.execute(update(RawItem).where(RawItem.id == raw_id).values(status="quarantined"))
            return quarantine(
                self.ctx,
                stage="fetch",
                reason=exc.code,
                error=exc.message,
                source_id=source.id,
                raw_item_id=raw_id,
                payload={
                    "url": redact_url(str(exc.detail.get("url") or "")),
                    "status": exc.detail.get("status"),
                },
            )
        except Exception:
            log.exception("cannot keep the body of a failed fetch of %s", source.name)
            return None

    # --- the service loop ----------------------------------------------------------------------

    def check_health(self, every_s: float = 60.0) -> None:
        """Report sources that turned unhealthy, at most every ``every_s`` seconds."""
        now = self.ctx.clock.now()
        if self._last_health_check is not None and (now - self._last_health_check).total_seconds() < every_s:
            return
        self._last_health_check = now
        try:
            from yuqing.sources.health import report_unhealthy

            report_unhealthy(self.ctx)
        except Exception:
            log.exception("source health check failed")

    def seconds_until_due(self) -> float:
        due = self.next_due_at()
        if due is None:
            return float(self.ctx.settings.http.idle_sleep_s)
        return max(0.0, (due - self.ctx.clock.now()).total_seconds())

    def run_forever(
        self, stop: threading.Event, *, max_sleep: float | None = None, min_sleep: float = 0.05
    ) -> None:
        """Poll until ``stop`` is set; sleeps until the next source is due (at most ``max_sleep``)."""
        max_sleep = max_sleep if max_sleep is not None else float(self.ctx.settings.http.idle_sleep_s)
        log.info("scheduler started")
        while not stop.is_set():
            try:
                self.run_once(stop)
                self.check_health()
                wait = min(max(self.seconds_until_due(), min_sleep), max_sleep)
            except Exception:  # e.g. the database is briefly unavailable: wait and retry
                log.exception("scheduler iteration failed")
                wait = max_sleep
            stop.wait(wait)
        log.info("scheduler stopped after %d polls", self.polls)
