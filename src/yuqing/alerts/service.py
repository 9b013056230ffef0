"""The alerting service: raise alerts (alert + outbox rows in the caller's transaction), route,
acknowledge, escalate, and report the measured times.

Other stages call :func:`raise_alert` and :func:`acknowledge`; the stage handlers in
:mod:`yuqing.alerts.stage` turn bus messages into alerts; :mod:`yuqing.alerts.dispatcher` sends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuqing.alerts import escalation as esc
from yuqing.alerts import grouping
from yuqing.alerts.messages import AlertView, MentionLink
from yuqing.alerts.models import Alert, AlertRecipient, ChannelHealth, Delivery, EscalationRecord, RoutingRule
from yuqing.alerts.notifiers.base import Notifier, load_channels
from yuqing.alerts.outbox import fingerprint, idempotency_key
from yuqing.alerts.routing import (
    AlertFacts,
    OrgView,
    RecipientSpec,
    RouteDecision,
    RuleSet,
    load_ruleset,
    parse_rule,
    resolve,
    route,
)
from yuqing.core.bus import ALERTS_RAISED
from yuqing.core.context import AppContext
from yuqing.core.contracts import LEVELS, EventSnapshot
from yuqing.errors import NotFound, ValidationError

log = logging.getLogger(__name__)
UNROUTED = "_unrouted"
_RAISED_KEY = "yuqing.alerts.raised"


# --- configuration ---------------------------------------------------------------------------


def file_ruleset(ctx: AppContext) -> RuleSet:
    cached = ctx.extras.get("alerts.ruleset")
    if cached is None:
        cached = load_ruleset(ctx.settings.alerts.rules_file)
        ctx.extras["alerts.ruleset"] = cached
    return cached


def _session_cache(session: Session) -> dict[Any, Any]:
    """Per-session memo of the rules and the organisation view: a batch raising many alerts in one
    unit of work reads them once. Organisation views are keyed by the minute, so a long-lived
    session sees roster and stand-in changes within a minute."""
    cache: dict[Any, Any] = session.info.setdefault("yuqing.alerts.cache", {})
    return cache


def effective_ruleset(ctx: AppContext, session: Session) -> RuleSet:
    """The file's rules overlaid with the enabled database rows (by position)."""
    cache = _session_cache(session)
    if "ruleset" not in cache:
        cache["ruleset"] = _effective_ruleset(ctx, session)
    return cache["ruleset"]


def _effective_ruleset(ctx: AppContext, session: Session) -> RuleSet:
    rows = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)).all()
    base = file_ruleset(ctx)
    by_name = {r.name: r for r in base.rules}
    extra = []
    for row in rows:
        if not row.enabled and row.name in by_name and not row.definition:
            extra.append(by_name[row.name].model_copy(update={"enabled": False}))  # switch a file rule off
            continue
        rule = parse_rule({"name": row.name, **row.definition}, source=f"alert_routing_rules[{row.name}]")
        extra.append(rule.model_copy(update={"enabled": rule.enabled and row.enabled}))
    return base.with_rules(extra)


def get_channels(ctx: AppContext) -> dict[str, Notifier]:
    """The configured channels (validated once, cached on the context); a ``file`` channel writing to
    ``settings.alerts.outbox_dir`` is always present unless configured otherwise."""
    cached = ctx.extras.get("alerts.channels")
    if cached is None:
        s = ctx.settings.alerts
        inline = dict(s.channels)
        if "file" not in inline:
            inline = {"file": {"type": "file", "directory": s.outbox_dir}, **inline}
        cached = load_channels(s.channels_file, inline, timeout=s.send_timeout_s)
        ctx.extras["alerts.channels"] = cached
    return cached


def set_rule(
    ctx: AppContext, session: Session, name: str, definition: dict[str, Any], position: int = 0
) -> None:
    """Add or replace a database routing rule (validated first)."""
    parse_rule({"name": name, **definition}, source="alert_routing_rules")
    _session_cache(session).clear()
    now = ctx.clock.now()
    row = session.scalar(select(RoutingRule).where(RoutingRule.name == name))
    if row is None:
        session.add(
            RoutingRule(name=name, definition=definition, position=position, created_at=now, updated_at=now)
        )
    else:
        row.definition, row.position, row.updated_at = definition, position, now


# --- organisation ----------------------------------------------------------------------------


def _org_view(session: Session, ruleset: RuleSet, at: datetime) -> OrgView:
    cache = _session_cache(session)
    key = ("org", id(ruleset), at.replace(second=0, microsecond=0))
    if key not in cache:
        cache[key] = _build_org_view(session, ruleset, at)
    return cache[key]


def _build_org_view(session: Session, ruleset: RuleSet, at: datetime) -> OrgView:
    from yuqing.org import service as org
    from yuqing.org.models import Group, Membership, Person

    rows = session.execute(
        select(Group.key, Membership.role, Person.key, Person.name, Person.active)
        .join(Membership, Membership.group_id == Group.id)
        .join(Person, Membership.person_id == Person.id)
    ).all()
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    names: dict[str, str] = {}
    active: set[str] = set()
    for gkey, role, pkey, pname, pactive in sorted(rows, key=lambda r: (r[0], r[2])):
        groups[gkey][role].append(pkey)
        names[pkey] = pname
        if pactive:
            active.add(pkey)
    duty_groups = {
        s.group for s in _all_specs(ruleset) if s.on_duty and s.group is not None and s.group in groups
    }
    on_duty: dict[str, tuple[str, ...]] = {}
    for g in sorted(duty_groups):
        people = org.on_duty(session, g, at)  # stand-ins already applied by the org service
        on_duty[g] = tuple(p.key for p in people)
        for p in people:
            names[p.key] = p.name
            if p.active:
                active.add(p.key)
    return OrgView(
        names=names,
        groups={g: {r: tuple(k) for r, k in roles.items()} for g, roles in groups.items()},
        on_duty=on_duty,
        active=frozenset(active),
    )


def with_stand_ins(session: Session, view: OrgView, at: datetime, candidates: set[str]) -> OrgView:
    """``view`` plus the stand-ins of ``candidates`` who are unavailable at ``at``."""

    if not candidates:
        return view
    cache = _session_cache(session)
    key = ("stand_ins", id(view), at.replace(second=0, microsecond=0), frozenset(candidates))
    if key not in cache:
        cache[key] = _with_stand_ins(session, view, at, candidates)
    return cache[key]


def _with_stand_ins(session: Session, view: OrgView, at: datetime, candidates: set[str]) -> OrgView:
    from yuqing.org import service as org
    from yuqing.org.models import Person, StandIn

    # only people who have a stand-in at all need the (per-person) availability check
    has_stand_in = set(
        session.scalars(
            select(Person.key).join(StandIn, StandIn.person_id == Person.id).where(Person.key.in_(candidates))
        )
    )
    names, active = dict(view.names), set(view.active or ())
    stand_ins: dict[str, str] = {}
    for person in session.scalars(select(Person).where(Person.key.in_(sorted(has_stand_in)))):
        actual = org.available(session, person, at)
        if actual.key != person.key:
            stand_ins[person.key] = actual.key
            names[actual.key] = actual.name
            if actual.active:
                active.add(actual.key)
    if not stand_ins:
        return view
    return dataclasses.replace(view, names=names, stand_ins=stand_ins, active=frozenset(active))


def _all_specs(ruleset: RuleSet) -> list[RecipientSpec]:
    specs = [s for r in ruleset.rules for s in r.notify]
    for chain in ruleset.escalation.values():
        for step in (*chain.steps, *((chain.final,) if chain.final else ())):
            specs.extend(step.notify)
    return specs


def route_alert(
    ctx: AppContext, session: Session, facts: AlertFacts, ruleset: RuleSet | None = None
) -> list[RouteDecision]:
    """Who would be told about an alert with these facts, and why (nothing is written)."""
    ruleset = ruleset or effective_ruleset(ctx, session)
    view = _org_view(session, ruleset, facts.at)
    first = route(ruleset, facts, view, ctx.settings.timezone)
    # again with stand-ins resolved for everyone the first pass named
    view = with_stand_ins(session, view, facts.at, {d.person for d in first})
    return route(ruleset, facts, view, ctx.settings.timezone)


def resolve_specs(
    session: Session,
    ruleset: RuleSet,
    specs: Sequence[RecipientSpec],
    at: datetime,
    why: str,
    original: tuple[str, ...] = (),
) -> list[RouteDecision]:
    view = _org_view(session, ruleset, at)
    found: dict[str, list[str]] = {}
    resolve(tuple(specs), view, why, found, original)
    view = with_stand_ins(session, view, at, set(found))
    found = {}
    resolve(tuple(specs), view, why, found, original)
    return [RouteDecision(k, tuple(v)) for k, v in found.items()]


# --- raising ---------------------------------------------------------------------------------


def savepoint(session: Session) -> contextlib.AbstractContextManager[Any]:
    """A SAVEPOINT on PostgreSQL. On SQLite none: pysqlite opens no transaction before a SAVEPOINT,
    so releasing it would commit the caller's work (the single SQLite writer makes the races that a
    savepoint guards against on PostgreSQL rare; a lost race fails the caller's transaction)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return contextlib.nullcontext()
    return session.begin_nested()


def _publish_after_commit(ctx: AppContext, session: Session, alert_id: int) -> None:
    pending: list[int] = session.info.setdefault(_RAISED_KEY, [])
    if not pending:

        def after_commit(sess: Session) -> None:
            ids = sess.info.pop(_RAISED_KEY, [])
            if not ids:
                return
            try:  # the alerts are committed; a failing subscriber must not fail the caller's commit
                ctx.bus.publish(ALERTS_RAISED, [{"alert_id": i} for i in dict.fromkeys(ids)])
            except Exception:
                log.exception("publishing alerts.raised failed; the dispatcher will still find them")

        def after_rollback(sess: Session) -> None:
            sess.info.pop(_RAISED_KEY, None)

        event.listen(session, "after_commit", after_commit, once=True)
        event.listen(session, "after_rollback", after_rollback, once=True)
    pending.append(alert_id)


def raise_alert(
    ctx: AppContext,
    session: Session,
    *,
    kind: str,
    title: str,
    level: str | None,
    reasons: list[str],
    subject_type: str,
    subject_id: int,
    dedup_key: str,
    recipients: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> Alert:
    """Record an alert and its outbox deliveries in the caller's transaction.

    ``dedup_key`` names the alert: raising it again with new content is an update (grouped by the
    noise rules; a level increase goes out immediately); raising it again with the same content is
    a no-op, so bus redelivery never double-sends. ``recipients`` are org person keys (None: route
    by the rules). ``ALERTS_RAISED`` is published after the caller commits.
    """
    if level is not None and level not in LEVELS:
        raise ValidationError(f"无效等级 / invalid level: {level}")
    if not dedup_key:
        raise ValidationError("缺少去重键 / dedup_key is required")
    now = ctx.clock.now()
    data = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))  # JSON-safe, detached copy
    reasons = [str(r) for r in reasons]
    fp = fingerprint(title, level, reasons, data)
    alert = session.scalar(select(Alert).where(Alert.dedup_key == dedup_key))
    created = False
    if alert is None:
        alert = Alert(
            kind=kind,
            title=title,
            level=level,
            reasons=reasons,
            subject_type=subject_type,
            subject_id=int(subject_id),
            dedup_key=dedup_key,
            data=data,
            fingerprint=fp,
            status="open",
            raised_at=now,
            updated_at=now,
            update_count=0,
        )
        try:
            with savepoint(session):
                session.add(alert)
                session.flush()
            created = True
        except IntegrityError:  # raised concurrently by another worker: treat as an update
            alert = session.scalar(select(Alert).where(Alert.dedup_key == dedup_key))
            if alert is None:
                raise
    purpose = "initial"
    if not created:
        if alert.fingerprint == fp:
            return alert  # same content again (bus redelivery): nothing new to say
        alert.update_count += 1
        purpose = f"u{alert.update_count}"
        alert.title, alert.level, alert.reasons, alert.data = title, level, reasons, data
        alert.fingerprint, alert.updated_at = fp, now
    ruleset = effective_ruleset(ctx, session)
    if recipients is not None:
        decisions = [
            RouteDecision(k, ("调用方指定 / named by the caller",)) for k in dict.fromkeys(recipients)
        ]
        source = "caller"
    else:
        facts = AlertFacts(
            kind=kind,
            level=level,
            at=now,
            target_ids=tuple(int(t) for t in data.get("target_ids", ()) or ()),
            risk_type=data.get("risk_type"),
        )
        decisions = route_alert(ctx, session, facts, ruleset)
        source = "route"
    if not decisions:
        log.warning("alert %s routed to nobody; using the last-resort channel", dedup_key)
        decisions = [RouteDecision(UNROUTED, ("无人匹配路由规则 / no rule matched anyone",))]
    fan_out(ctx, session, alert, decisions, purpose=purpose, source=source)
    if purpose == "initial" and alert.status == "open":
        chain = esc.chain_for(ruleset, level)
        alert.escalation_next_at = esc.next_due(chain, alert.raised_at, set()) if chain else None
    _publish_after_commit(ctx, session, alert.id)
    return alert


def contact_list(ctx: AppContext, person: Any | None, key: str) -> list[tuple[str, str | None]]:
    """(channel, address) in preference order, restricted to configured channels, plus the last resort."""
    from yuqing.org import service as org

    channels = get_channels(ctx)
    out: list[tuple[str, str | None]] = []
    if person is not None:
        out = [(c, a) for c, a in org.contact_points(person) if c in channels]
    last = ctx.settings.alerts.last_resort_channel
    if last and last in channels and all(c != last for c, _ in out):
        out.append((last, key))
    return out


def fan_out(
    ctx: AppContext,
    session: Session,
    alert: Alert,
    decisions: list[RouteDecision],
    *,
    purpose: str,
    source: str,
    urgent: bool = False,
    note: str | None = None,
) -> list[Delivery]:
    """Recipients and outbox rows for ``decisions`` (noise control applied unless ``urgent``)."""
    from yuqing.org.models import Person

    now = ctx.clock.now()
    keys = [d.person for d in decisions]
    people = {p.key: p for p in session.scalars(select(Person).where(Person.key.in_(keys)))}
    existing = {
        r.person_key: r
        for r in session.scalars(
            select(AlertRecipient).where(
                AlertRecipient.alert_id == alert.id, AlertRecipient.person_key.in_(keys)
            )
        )
    }
    recips: dict[str, AlertRecipient] = {}
    for d in decisions:
        r = existing.get(d.person)
        if r is None:
            p = people.get(d.person)
            name = p.name if p is not None else ("未路由 / unrouted" if d.person == UNROUTED else d.person)
            r = AlertRecipient(
                alert_id=alert.id,
                person_key=d.person,
                person_name=name,
                reasons=list(d.reasons),
                source=source,
                added_at=now,
            )
            session.add(r)
        else:
            r.reasons = list(dict.fromkeys([*r.reasons, *d.reasons]))
        recips[d.person] = r
    session.flush()

    s = ctx.settings.alerts
    policy = grouping.NoisePolicy(s.min_interval_s, s.storm_threshold, s.storm_window_s)
    history = _noise_history(session, alert, keys, now, s.storm_window_s) if not urgent else {}
    unhealthy = set(session.scalars(select(ChannelHealth.channel).where(ChannelHealth.status == "unhealthy")))
    taken = set(
        session.scalars(
            select(Delivery.idempotency_key).where(Delivery.alert_id == alert.id, Delivery.purpose == purpose)
        )
    )
    out: list[Delivery] = []
    for d in decisions:
        contacts = contact_list(ctx, people.get(d.person), d.person)
        if not contacts:
            log.error("no channel at all for %s (alert %s)", d.person, alert.id)
            continue
        index = next((i for i, (c, _) in enumerate(contacts) if c not in unhealthy), 0)
        channel, address = contacts[index]
        if urgent:
            plan = grouping.NoisePlan("send", now, True, "升级提醒 / escalation")
            merged: list[Delivery] = []
        else:
            h, merged = history.get(d.person, (grouping.NoiseHistory(), []))
            plan = grouping.plan(now, alert.level, h, policy)
            if plan.action != "merge":
                merged = []
        key = idempotency_key(alert.id, d.person, channel, purpose)
        if key in taken:
            continue
        taken.add(key)
        delivery = Delivery(
            alert_id=alert.id,
            recipient_id=recips[d.person].id,
            person_key=d.person,
            subject_key=alert.subject_key,
            channel=channel,
            address=address,
            contact_index=index,
            purpose=purpose,
            idempotency_key=key,
            level=alert.level,
            urgent=plan.urgent,
            note=note,
            status="pending",
            attempts=0,
            next_attempt_at=plan.send_at,
            created_at=now,
            merged_count=sum(m.merged_count + 1 for m in merged),
        )
        session.add(delivery)
        out.append(delivery)
        if merged:
            session.flush()
            for m in merged:
                m.status, m.merged_into_id = "merged", delivery.id
    session.flush()
    return out


def _noise_history(
    session: Session, alert: Alert, keys: list[str], now: datetime, storm_window_s: float
) -> dict[str, tuple[grouping.NoiseHistory, list[Delivery]]]:
    """Per person: the interval and merging look at this alert; the level at the whole subject."""
    rows = session.scalars(
        select(Delivery).where(
            Delivery.subject_key == alert.subject_key,
            Delivery.person_key.in_(keys),
            Delivery.status.in_(("sent", "pending", "sending")),
        )
    ).all()
    recent = dict(
        session.execute(
            select(Delivery.person_key, func.count())
            .where(
                Delivery.person_key.in_(keys),
                Delivery.status == "sent",
                Delivery.sent_at >= now - timedelta(seconds=storm_window_s),
            )
            .group_by(Delivery.person_key)
        ).all()
    )
    by_person: dict[str, list[Delivery]] = defaultdict(list)
    for r in rows:
        by_person[r.person_key].append(r)
    out: dict[str, tuple[grouping.NoiseHistory, list[Delivery]]] = {}
    for key in keys:
        subject_rows = by_person.get(key, [])
        levels = [d.level for d in subject_rows if d.level]
        ds = [d for d in subject_rows if d.alert_id == alert.id]
        sent = [d for d in ds if d.status == "sent" and d.sent_at is not None]
        pending = [
            d for d in ds if d.status == "pending" and not d.urgent and not d.purpose.startswith("esc")
        ]
        h = grouping.NoiseHistory(
            last_sent_at=max((d.sent_at for d in sent if d.sent_at), default=None),
            max_level_sent=min(levels, key=LEVELS.index) if levels else None,
            pending_send_at=min((d.next_attempt_at for d in pending), default=None),
            recent_to_person=int(recent.get(key, 0)),
            subject_known=bool(subject_rows),
        )
        out[key] = (h, pending)
    return out


def reroute_unrouted(ctx: AppContext, session: Session) -> int:
    """Alerts that reached nobody (no organisation loaded yet) are routed again now. Returns how many."""
    rows = session.scalars(
        select(Alert)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(AlertRecipient.person_key == UNROUTED, Alert.status == "open")
    ).all()
    done = 0
    for alert in rows:
        data = alert.data or {}
        facts = AlertFacts(
            kind=alert.kind,
            level=alert.level,
            at=ctx.clock.now(),
            target_ids=tuple(int(t) for t in data.get("target_ids", ()) or ()),
            risk_type=data.get("risk_type"),
        )
        decisions = route_alert(ctx, session, facts)
        if not decisions:
            continue
        session.execute(
            update(Delivery)
            .where(
                Delivery.alert_id == alert.id, Delivery.person_key == UNROUTED, Delivery.status == "pending"
            )
            .values(status="cancelled", last_error="已重新路由 / re-routed")
        )
        fan_out(ctx, session, alert, decisions, purpose="reroute", source="route", note="补发 / re-routed")
        done += 1
    if done:
        _publish_after_commit(ctx, session, rows[0].id)
    return done


# --- events, signals, source health --------------------------------------------------------


def event_data(session: Session, snap: EventSnapshot, limit: int = 5) -> dict[str, Any]:
    """Key numbers and top mentions (with links) of an event, as stored in ``Alert.data``."""
    from yuqing.sources.models import Mention

    ids = list(snap.top_mention_ids[:limit])
    mentions = {m.id: m for m in session.scalars(select(Mention).where(Mention.id.in_(ids)))} if ids else {}
    top = [
        {
            "id": i,
            "title": (mentions[i].title or mentions[i].text[:80]),
            "url": mentions[i].url,
            "platform": mentions[i].platform,
        }
        for i in ids
        if i in mentions
    ]
    first_ingest = min((m.ingested_at for m in mentions.values()), default=None)
    return {
        "numbers": {
            "mention_count": snap.mention_count,
            "negative_count": snap.negative_count,
            "negative_share": round(snap.negative_share, 4),
            "reach": round(snap.reach, 1),
            "velocity": round(snap.velocity, 2),
        },
        "platforms": list(snap.platforms),
        "target_ids": list(snap.target_ids),
        "risk_type": snap.risk_type,
        "keywords": list(snap.keywords[:10]),
        "top_mentions": top,
        "first_ingested_at": first_ingest.isoformat() if first_ingest else None,
    }


def alert_for_event(ctx: AppContext, session: Session, snap: EventSnapshot) -> Alert | None:
    """Raise (or update) the alert of a graded event; one alert per (event, level)."""
    if snap.level is None or snap.status in ("merged", "archived"):
        return None
    return raise_alert(
        ctx,
        session,
        kind="event",
        title=snap.title,
        level=snap.level,
        reasons=list(snap.level_reasons),
        subject_type="event",
        subject_id=snap.event_id,
        dedup_key=f"event:{snap.event_id}:level:{snap.level}",
        data=event_data(session, snap),
    )


# --- acknowledgement -------------------------------------------------------------------------


def _ack(ctx: AppContext, session: Session, alert: Alert, by: str, via: str) -> Alert:
    if alert.acked_at is not None:
        return alert
    now = ctx.clock.now()
    alert.status, alert.acked_at, alert.acked_by, alert.ack_via = "acked", now, by[:200], via[:50]
    alert.escalation_next_at = None
    session.execute(
        update(Delivery)
        .where(Delivery.alert_id == alert.id, Delivery.status == "pending", Delivery.purpose.like("esc%"))
        .values(status="cancelled", last_error="已确认 / acknowledged")
    )
    return alert


def acknowledge(ctx: AppContext, alert_id: int, by: str, via: str = "cli") -> Alert:
    """Acknowledge an alert (idempotent: a second ack keeps the first's time and person)."""
    with ctx.db.session() as session:
        alert = session.get(Alert, alert_id, with_for_update=ctx.db.dialect == "postgresql")
        if alert is None:
            raise NotFound(f"预警不存在 / no such alert: {alert_id}")
        return _ack(ctx, session, alert, by, via)


def acknowledge_token(ctx: AppContext, token: str) -> Alert:
    """Acknowledge through a signed link (raises on a bad or expired token)."""
    from yuqing.alerts.ack import verify_token

    claim = verify_token(ctx.settings.secret_key.get_secret_value(), token, ctx.clock.now())
    return acknowledge(ctx, claim.alert_id, by=claim.person, via="link")


# --- escalation ------------------------------------------------------------------------------


def run_escalations(ctx: AppContext, *, limit: int = 500) -> int:
    """Fire every escalation step that is due; each firing recorded once. Returns firings made."""
    now = ctx.clock.now()
    fired = 0
    with ctx.db.session() as session:
        q = (
            select(Alert)
            .where(
                Alert.status == "open", Alert.escalation_next_at.is_not(None), Alert.escalation_next_at <= now
            )
            .order_by(Alert.escalation_next_at)
            .limit(limit)
        )
        if ctx.db.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        alerts = session.scalars(q).all()
        if not alerts:
            return 0
        ruleset = effective_ruleset(ctx, session)
        done_rows = session.execute(
            select(EscalationRecord.alert_id, EscalationRecord.step, EscalationRecord.repeat).where(
                EscalationRecord.alert_id.in_([a.id for a in alerts])
            )
        ).all()
        done: dict[int, set[tuple[int, int]]] = defaultdict(set)
        for aid, step, rep in done_rows:
            done[aid].add((step, rep))
        originals: dict[int, list[str]] = defaultdict(list)
        for aid, pkey in session.execute(
            select(AlertRecipient.alert_id, AlertRecipient.person_key)
            .where(AlertRecipient.alert_id.in_([a.id for a in alerts]), AlertRecipient.source != "escalation")
            .order_by(AlertRecipient.id)
        ):
            originals[aid].append(pkey)
        for keys in originals.values():  # once re-routed, the placeholder is no longer anyone
            if len(keys) > 1 and UNROUTED in keys:
                keys.remove(UNROUTED)
        for alert in alerts:
            chain = esc.chain_for(ruleset, alert.level)
            if chain is None:
                alert.escalation_next_at = None
                continue
            for f in esc.due_firings(chain, alert.raised_at, now, done[alert.id]):
                label = "最终兜底 / final catch-all" if f.final else f"第 {f.step + 1} 级 / step {f.step + 1}"
                if f.repeat:
                    label += f" 第 {f.repeat + 1} 次 / repeat {f.repeat + 1}"
                why = f"未在时限内确认，升级 {label} / not acknowledged in time"
                decisions = resolve_specs(
                    session, ruleset, f.spec.notify, now, why, tuple(originals[alert.id])
                )
                rec = EscalationRecord(
                    alert_id=alert.id,
                    step=f.step,
                    repeat=f.repeat,
                    final=f.final,
                    due_at=f.due_at,
                    fired_at=now,
                    recipients=[d.person for d in decisions],
                    description=why,
                )
                try:
                    with savepoint(session):
                        session.add(rec)
                        session.flush()
                except IntegrityError:
                    continue  # recorded by another worker
                done[alert.id].add((f.step, f.repeat))
                if decisions:
                    fan_out(
                        ctx,
                        session,
                        alert,
                        decisions,
                        purpose=f"esc{f.step}.{f.repeat}",
                        source="escalation",
                        urgent=True,
                        note=f"未确认升级提醒 / escalation: {label}",
                    )
                fired += 1
            alert.escalation_next_at = esc.next_due(chain, alert.raised_at, done[alert.id])
    return fired


# --- reading ---------------------------------------------------------------------------------


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"预警不存在 / no such alert: {alert_id}")
    return alert


def alert_view(
    alert: Alert,
    *,
    ack_url: str | None,
    updates: int = 0,
    note: str | None = None,
    recipient_name: str | None = None,
) -> AlertView:
    data = alert.data or {}
    return AlertView(
        alert_id=alert.id,
        kind=alert.kind,
        title=alert.title,
        level=alert.level,
        reasons=tuple(alert.reasons or ()),
        numbers=dict(data.get("numbers") or {}),
        platforms=tuple(data.get("platforms") or ()),
        mentions=tuple(
            MentionLink(
                title=str(m.get("title") or ""), url=m.get("url"), platform=str(m.get("platform") or "")
            )
            for m in (data.get("top_mentions") or [])
            if isinstance(m, dict)
        ),
        ack_url=ack_url,
        raised_at=alert.raised_at,
        updates=updates,
        note=note,
        recipient_name=recipient_name,
    )


@dataclass(frozen=True)
class LevelStats:
    level: str
    alerts: int
    notified: int
    acked: int
    notify_p50_s: float | None
    notify_p95_s: float | None
    ack_p50_s: float | None
    ack_p95_s: float | None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def stats(session: Session, since: datetime | None = None) -> list[LevelStats]:
    """Time to notify (raised -> first message sent) and to acknowledge, per level."""
    q = select(Alert.level, Alert.raised_at, Alert.first_notified_at, Alert.acked_at)
    if since is not None:
        q = q.where(Alert.raised_at >= since)
    by_level: dict[str, list[tuple[datetime, datetime | None, datetime | None]]] = defaultdict(list)
    for level, raised, notified, acked in session.execute(q):
        by_level[level or "-"].append((raised, notified, acked))
    out = []
    for level in (*LEVELS, "-"):
        rows = by_level.get(level)
        if not rows:
            continue
        n = [(b - a).total_seconds() for a, b, _ in rows if b is not None]
        k = [(c - a).total_seconds() for a, _, c in rows if c is not None]
        out.append(
            LevelStats(level, len(rows), len(n), len(k), _pct(n, 50), _pct(n, 95), _pct(k, 50), _pct(k, 95))
        )
    return out
