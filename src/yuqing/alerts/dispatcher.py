"""The dispatcher: claims due outbox rows, sends them, marks them.

Guarantee (documented in docs/alerts.md): every delivery row is sent until it succeeds, falls back
to the person's next channel, or runs out of channels (``failed``, visible, never silent). A row is
claimed by setting ``status='sending'``, a fresh ``claim_token`` and ``lease_until`` in one
transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; both backends: a conditional UPDATE so two
dispatchers never claim the same row). The send happens outside any transaction; the result is
written only if the claim token still matches. A crash before the send leaves the row to be
re-claimed when its lease expires (sent once); a crash between the send and the mark makes the
row be sent again after the lease, with the SAME idempotency key (``Idempotency-Key`` header, the
e-mail's ``Message-ID``, the file name), so the receiver can recognise the repeat. That window is
the only way a message arrives twice; no message is ever lost.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from yuqing.alerts import service
from yuqing.alerts.ack import ack_url, make_token
from yuqing.alerts.messages import RenderedMessage, render, render_digest
from yuqing.alerts.models import Alert, AlertRecipient, ChannelHealth, Delivery
from yuqing.alerts.notifiers.base import Contact, DeliveryError, Notifier
from yuqing.alerts.outbox import backoff_seconds, digest_key, idempotency_key
from yuqing.core.context import AppContext

log = logging.getLogger(__name__)
CHANNEL_UNHEALTHY = "alerts.channel_unhealthy"  # {"channel": str, "error": str}


@dataclass
class RoundResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed_over: int = 0
    failed: int = 0
    unhealthy: list[str] = field(default_factory=list)


@dataclass
class _Unit:
    rows: list[Delivery]
    key: str  # idempotency key sent with the message
    ok: bool = False
    error: str | None = None
    seconds: float = 0.0


def wake_event(ctx: AppContext) -> threading.Event:
    ev = ctx.extras.get("alerts.wake")
    if ev is None:
        ev = ctx.extras.setdefault("alerts.wake", threading.Event())
    return ev


class Dispatcher:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings.alerts
        self.channels: dict[str, Notifier] = service.get_channels(ctx)
        # a claimed batch must be sent before its lease ends, or another dispatcher re-sends it
        slowest = max([n.timeout for n in self.channels.values()] or [self.settings.send_timeout_s])
        rounds = math.ceil(self.settings.dispatch_batch / self.settings.dispatch_workers)
        self.lease_s = max(self.settings.lease_s, rounds * slowest)
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.dispatch_workers, thread_name_prefix="alerts"
        )

    # -- claim ---------------------------------------------------------------------------------
    def claim(self) -> list[Delivery]:
        now = self.ctx.clock.now()
        token = uuid.uuid4().hex
        due = or_(
            and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
            and_(Delivery.status == "sending", Delivery.lease_until <= now),
        )
        with self.ctx.db.session() as s:
            q = (
                select(Delivery.id)
                .where(due)
                .order_by(Delivery.urgent.desc(), Delivery.next_attempt_at, Delivery.id)
                .limit(self.settings.dispatch_batch)
            )
            if self.ctx.db.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = list(s.scalars(q))
            if not ids:
                return []
            s.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), due)
                .values(
                    status="sending",
                    claim_token=token,
                    lease_until=now + timedelta(seconds=self.lease_s),
                    attempts=Delivery.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = list(
                s.scalars(select(Delivery).where(Delivery.claim_token == token).order_by(Delivery.id))
            )
            groups: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
            for r in rows:
                if r.digest_key is None and not r.urgent:
                    groups[(r.person_key, r.channel)].append(r)
            for group in groups.values():
                if len(group) >= self.settings.digest_min:
                    dk = digest_key([r.idempotency_key for r in group])
                    for r in group:
                        r.digest_key = dk
        return rows

    # -- send ----------------------------------------------------------------------------------
    def _messages(self, units: list[_Unit]) -> list[tuple[_Unit, RenderedMessage | None, Contact]]:
        rows = [r for u in units for r in u.rows]
        with self.ctx.db.session() as s:
            alerts = {
                a.id: a for a in s.scalars(select(Alert).where(Alert.id.in_({r.alert_id for r in rows})))
            }
            names = dict(
                s.execute(
                    select(AlertRecipient.id, AlertRecipient.person_name).where(
                        AlertRecipient.id.in_({r.recipient_id for r in rows})
                    )
                ).all()
            )
        secret = self.ctx.settings.secret_key.get_secret_value()
        expires = self.ctx.clock.now() + timedelta(hours=self.settings.ack_link_ttl_hours)
        tz = self.ctx.settings.timezone
        out: list[tuple[_Unit, RenderedMessage | None, Contact]] = []
        for u in units:
            views = []
            for r in u.rows:
                alert = alerts[r.alert_id]
                link = ack_url(self.settings.base_url, make_token(secret, alert.id, r.person_key, expires))
                views.append(
                    service.alert_view(
                        alert,
                        ack_url=link,
                        updates=r.merged_count,
                        note=r.note,
                        recipient_name=names.get(r.recipient_id),
                    )
                )
            first = u.rows[0]
            contact = Contact(
                first.person_key, names.get(first.recipient_id, first.person_key), first.address
            )
            msg = render(views[0], tz) if len(views) == 1 else render_digest(views, tz)
            out.append((u, msg, contact))
        return out

    def _send(self, unit: _Unit, message: RenderedMessage | None, contact: Contact) -> None:
        channel = unit.rows[0].channel
        notifier = self.channels.get(channel)
        start = time.perf_counter()
        try:
            if notifier is None:
                raise DeliveryError(f"通道未配置 / channel not configured: {channel}")
            assert message is not None
            notifier.send(message, contact, unit.key)
            unit.ok = True
        except DeliveryError as exc:
            unit.error = str(exc)
        except Exception as exc:  # a plugin bug must not kill the dispatcher
            log.exception("notifier %s crashed", channel)
            unit.error = f"{type(exc).__name__}: {exc}"
        unit.seconds = time.perf_counter() - start

    def run_once(self) -> RoundResult:
        """One round: claim due deliveries, send them (in parallel), record the outcomes."""
        rows = self.claim()
        result = RoundResult(claimed=len(rows))
        if not rows:
            return result
        token = rows[0].claim_token
        units: list[_Unit] = []
        digests: dict[str, list[Delivery]] = defaultdict(list)
        for r in rows:
            if r.digest_key:
                digests[r.digest_key].append(r)
            else:
                units.append(_Unit([r], r.idempotency_key))
        units += [_Unit(g, k) for k, g in digests.items()]
        prepared = self._messages(units)
        list(self._pool.map(lambda item: self._send(*item), prepared))
        self._record(units, token, result)
        return result

    # -- record --------------------------------------------------------------------------------
    def _record(self, units: list[_Unit], token: str | None, result: RoundResult) -> None:
        from yuqing.org.models import Person

        now = self.ctx.clock.now()
        s_cfg = self.settings
        health_delta: dict[str, list[_Unit]] = defaultdict(list)
        with self.ctx.db.session() as s:
            health = {h.channel: h for h in s.scalars(select(ChannelHealth))}
            failed_people = {r.person_key for u in units if not u.ok for r in u.rows}
            people = (
                {p.key: p for p in s.scalars(select(Person).where(Person.key.in_(failed_people)))}
                if failed_people
                else {}
            )
            ok_rows = [r for u in units if u.ok for r in u.rows]
            for u in units:
                health_delta[u.rows[0].channel].append(u)
                if not u.ok:
                    for r in u.rows:
                        self._failed(s, r, u.error or "unknown", token, health, people, now, result)
            notified: set[int] = set()
            if ok_rows:  # one statement for all successes; a row re-claimed by another dispatcher stays
                done = s.execute(
                    update(Delivery)
                    .where(Delivery.id.in_([r.id for r in ok_rows]), Delivery.claim_token == token)
                    .values(status="sent", sent_at=now, lease_until=None, last_error=None)
                    .execution_options(synchronize_session=False)
                )
                result.sent += int(done.rowcount)  # type: ignore[attr-defined]
                notified = {r.alert_id for r in ok_rows}  # delivered either way
            if notified:
                from yuqing.core.metrics import observe_notification_latency

                first = s.execute(
                    select(Alert.level, Alert.raised_at).where(
                        Alert.id.in_(notified), Alert.first_notified_at.is_(None)
                    )
                ).all()
                for level, raised_at in first:  # time to notify, per level, for /metrics
                    observe_notification_latency(level, (now - raised_at).total_seconds())
                s.execute(
                    update(Alert)
                    .where(Alert.id.in_(notified), Alert.first_notified_at.is_(None))
                    .values(first_notified_at=now)
                )
            for channel, us in health_delta.items():
                h = health.get(channel)
                if h is None:
                    h = ChannelHealth(
                        channel=channel,
                        status="healthy",
                        consecutive_failures=0,
                        sent_total=0,
                        failed_total=0,
                        avg_send_s=0.0,
                    )
                    s.add(h)
                    health[channel] = h
                for u in us:
                    if u.ok:
                        h.sent_total += 1
                        h.consecutive_failures = 0
                        h.last_success_at = now
                        h.avg_send_s = 0.9 * h.avg_send_s + 0.1 * u.seconds if h.sent_total > 1 else u.seconds
                        if h.status != "healthy":
                            log.info("channel %s healthy again", channel)
                            h.status, h.unhealthy_since = "healthy", None
                    else:
                        h.failed_total += 1
                        h.consecutive_failures += 1
                        h.last_failure_at, h.last_error = now, (u.error or "")[:1000]
                if h.status == "healthy" and h.consecutive_failures >= s_cfg.unhealthy_after:
                    h.status, h.unhealthy_since = "unhealthy", now
                    result.unhealthy.append(channel)
                    log.warning("notification channel %s is unhealthy: %s", channel, h.last_error)
                    self._report_unhealthy(s, h)
        if result.unhealthy:
            self.ctx.bus.publish(
                CHANNEL_UNHEALTHY, [{"channel": c, "error": health[c].last_error} for c in result.unhealthy]
            )

    def _failed(
        self,
        s: Session,
        r: Delivery,
        error: str,
        token: str | None,
        health: dict[str, ChannelHealth],
        people: dict[str, Any],
        now: datetime,
        result: RoundResult,
    ) -> None:
        cfg = self.settings
        h = health.get(r.channel)
        channel_down = h is not None and h.status == "unhealthy"
        if r.attempts < cfg.max_attempts_per_channel and not channel_down:
            delay = backoff_seconds(r.attempts, cfg.backoff_base_s, cfg.backoff_max_s)
            done = s.execute(
                update(Delivery)
                .where(Delivery.id == r.id, Delivery.claim_token == token)
                .values(
                    status="pending",
                    next_attempt_at=now + timedelta(seconds=delay),
                    lease_until=None,
                    last_error=error[:2000],
                    digest_key=None,
                )
            )
            if done.rowcount:  # type: ignore[attr-defined]
                result.retried += 1
            return
        contacts = service.contact_list(self.ctx, people.get(r.person_key), r.person_key)
        nxt = next(
            ((i, c, a) for i, (c, a) in enumerate(contacts) if i > r.contact_index and c != r.channel), None
        )
        status = "failed_over" if nxt else "failed"
        done = s.execute(
            update(Delivery)
            .where(Delivery.id == r.id, Delivery.claim_token == token)
            .values(status=status, lease_until=None, last_error=error[:2000])
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return
        if nxt is None:
            result.failed += 1
            log.error("delivery %s to %s failed on every channel: %s", r.id, r.person_key, error)
            return
        i, channel, address = nxt
        key = idempotency_key(r.alert_id, r.person_key, channel, r.purpose)
        if s.scalar(select(Delivery.id).where(Delivery.idempotency_key == key)) is None:
            s.add(
                Delivery(
                    alert_id=r.alert_id,
                    recipient_id=r.recipient_id,
                    person_key=r.person_key,
                    subject_key=r.subject_key,
                    channel=channel,
                    address=address,
                    contact_index=i,
                    purpose=r.purpose,
                    idempotency_key=key,
                    level=r.level,
                    urgent=r.urgent,
                    note=r.note,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    merged_count=r.merged_count,
                    last_error=f"{r.channel} 失败后改用 / fallback from {r.channel}",
                )
            )
        result.failed_over += 1

    def _report_unhealthy(self, s: Session, h: ChannelHealth) -> None:
        since = h.unhealthy_since.isoformat() if h.unhealthy_since else ""
        try:
            service.raise_alert(
                self.ctx,
                s,
                kind="channel_health",
                title=f"通知通道 {h.channel} 连续失败 / channel {h.channel} failing",
                level=None,
                reasons=[f"连续失败 {h.consecutive_failures} 次 / consecutive failures", h.last_error or ""],
                subject_type="channel",
                subject_id=0,
                dedup_key=f"channel:{h.channel}:unhealthy:{since}",
                data={"channel": h.channel},
            )
        except Exception:
            log.exception("could not raise the channel-health alert for %s", h.channel)

    # -- loop ----------------------------------------------------------------------------------
    def run_forever(self, stop_event: threading.Event, *, escalate_every_s: float = 5.0) -> None:
        """Dispatch until ``stop_event`` is set; also runs the escalation tick."""
        wake = wake_event(self.ctx)
        last_escalation = 0.0
        while not stop_event.is_set():
            try:
                res = self.run_once()
                if time.monotonic() - last_escalation >= escalate_every_s:
                    last_escalation = time.monotonic()
                    service.run_escalations(self.ctx)
            except Exception:
                log.exception("dispatcher round failed; retrying")
                stop_event.wait(1.0)
                continue
            if res.claimed == 0:
                wake.wait(self.settings.dispatch_poll_s)
                wake.clear()

    def drain(self, max_rounds: int = 1000) -> RoundResult:
        """Run rounds until nothing is due (tests, ``dispatch --once``)."""
        total = RoundResult()
        for _ in range(max_rounds):
            r = self.run_once()
            if r.claimed == 0:
                break
            for f in ("claimed", "sent", "retried", "failed_over", "failed"):
                setattr(total, f, getattr(total, f) + getattr(r, f))
            total.unhealthy += r.unhealthy
        return total

    def close(self) -> None:
        self._pool.shutdown(wait=True)
