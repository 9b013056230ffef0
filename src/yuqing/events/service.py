"""The events service: places analysed mentions into events, keeps their metrics, grades them and fires
early signs. Thin over storage; the decisions live in ``cluster``, ``burst`` and ``grading``.

The online clusterer lives in memory per process (``ctx.extras["events.clusterer"]``), rebuilt from
the database on first use (active events and a bounded set of dormant ones, from their stored token
counts). If a batch fails, the cached clusterer is dropped so that the next batch rebuilds it from
what was committed.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, bindparam, cast, func, insert, select, update
from sqlalchemy.orm import Session

from yuqing.core.bus import EVENTS_CHANGED, SIGNALS_FIRED, Message
from yuqing.core.context import AppContext
from yuqing.core.contracts import AnalysedMention, EventSnapshot, level_rank
from yuqing.errors import NotFound, ValidationError
from yuqing.events.burst import BurstParams, detect, floor_hour
from yuqing.events.cluster import Doc, OnlineClusterer, Refinement
from yuqing.events.evaluate import params_from_settings, vectors_from_settings
from yuqing.events.grading import TIER_RANK, Rules, grade, load_rules
from yuqing.events.models import (
    Event,
    EventBucket,
    EventCorrection,
    EventLevelChange,
    EventMention,
    Signal,
    TargetBucket,
)
from yuqing.events.tokens import key_terms, mention_tokens

log = logging.getLogger(__name__)

CLUSTERER_KEY = "events.clusterer"
TOKENS_KEPT = 300  # token counts stored per event (clusterer state at start-up)


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    level_changes: list[tuple[int, str | None, str]] = field(default_factory=list)
    signals: list[int] = field(default_factory=list)
    skipped: int = 0  # mentions already placed (redelivery)


@dataclass(frozen=True, slots=True)
class Placed:
    """What the batch aggregates need of a newly stored link (the row itself is bulk-inserted)."""

    event_id: int
    published_at: datetime
    negative: bool
    negative_prob: float
    target_ids: list[int]


# Hourly buckets are read and incremented in SQL (Core): one read, one batched update, one batched insert.
_EB = EventBucket.metadata.tables[EventBucket.__tablename__]
_TB = TargetBucket.metadata.tables[TargetBucket.__tablename__]


@lru_cache(maxsize=65536)
def display_token(tok: str) -> str:
    """A stored token as a reader sees it: concepts show their Chinese word."""
    if tok.startswith("~"):
        concept = tok[1:]
        for word, c in key_terms().word_to_concept.items():
            if c == tok and any("\u3400" <= ch <= "\u9fff" for ch in word):
                return word
        return concept
    return tok


def keywords_of(counts: dict[str, int], n: int = 8) -> list[str]:
    words = [
        (-c, t)
        for t, c in counts.items()
        if not t.startswith("@") and not (len(t) < 2 and t.isascii()) and not t.isdigit()
    ]
    # Most frequent first, then by token. The first few are usually enough (several tokens can show
    # as the same word); the full order is only needed when they are not.
    for ranked in (heapq.nsmallest(4 * n, words), sorted(words)):
        out: list[str] = []
        for _c, t in ranked:
            d = display_token(t)
            if d not in out:
                out.append(d)
            if len(out) >= n:
                return out
        if len(ranked) == len(words):
            break
    return out


class EventService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings.events
        self.rules: Rules = load_rules(self.settings.grading_rules_file)
        self.burst_params = BurstParams(
            days=self.settings.burst_baseline_days,
            min_count=self.settings.burst_min_count,
            threshold=self.settings.burst_threshold,
        )
        self.window = timedelta(hours=self.rules.window_hours)  # velocity / window_count window

    # -- clusterer state ----------------------------------------------------------------------

    def clusterer(self, session: Session) -> OnlineClusterer:
        cached = self.ctx.extras.get(CLUSTERER_KEY)
        if isinstance(cached, OnlineClusterer):
            return cached
        c = OnlineClusterer(params_from_settings(self.settings), vectors_from_settings(self.settings))
        active = session.scalars(
            select(Event)
            .where(Event.status == "active")
            .order_by(Event.last_seen.desc())
            .limit(self.settings.max_active_events)
        ).all()
        for ev in reversed(active):
            c.restore(ev.id, ev.token_counts or {}, max(ev.mention_count, 1), ev.last_seen)
        if self.settings.max_dormant_events:
            dormant = session.scalars(
                select(Event)
                .where(Event.status == "dormant")
                .order_by(Event.last_seen.desc())
                .limit(self.settings.max_dormant_events)
            ).all()
            for ev in reversed(dormant):
                c.restore(ev.id, ev.token_counts or {}, max(ev.mention_count, 1), ev.last_seen)
                c.expire_one(ev.id)
        self.ctx.extras[CLUSTERER_KEY] = c
        return c

    def forget_state(self) -> None:
        self.ctx.extras.pop(CLUSTERER_KEY, None)

    # -- the stage ----------------------------------------------------------------------------

    def process(self, session: Session, analysed: Sequence[AnalysedMention]) -> BatchResult:
        """Place a batch of analysed mentions (idempotent by mention id); returns what changed."""
        try:
            return self._process(session, analysed)
        except BaseException:
            self.forget_state()
            raise

    def _process(self, session: Session, analysed: Sequence[AnalysedMention]) -> BatchResult:
        now = self.ctx.clock.now()
        result = BatchResult()
        ids = [m.mention_id for m in analysed]
        done = {
            link.mention_id: link
            for link in session.scalars(select(EventMention).where(EventMention.mention_id.in_(ids)))
        }
        todo: dict[int, AnalysedMention] = {}
        revised: list[EventMention] = []
        for m in analysed:
            if m.mention_id in done:
                result.skipped += 1
                if self._revise(session, done[m.mention_id], m):
                    revised.append(done[m.mention_id])
            elif m.mention_id in todo:
                result.skipped += 1
            else:
                todo[m.mention_id] = m
        clusterer = self.clusterer(session)
        self._expire(session, clusterer, now)
        if revised:
            # Re-analysis (e.g. an analyst corrected the sentiment): metrics follow, placement stays.
            revised_ids = sorted({link.event_id for link in revised})
            session.flush()
            evs = list(session.scalars(select(Event).where(Event.id.in_(revised_ids))))
            self._refresh(session, evs, clusterer, now, result, full=True)
            result.updated.extend(e.id for e in evs if e.id not in result.updated)
        if not todo:
            return result
        mentions = sorted(todo.values(), key=lambda m: (m.published_at, m.mention_id))
        # Originals of near-duplicates placed in earlier batches (the clusterer may not remember them).
        origs = {m.duplicate_of_id for m in mentions if m.duplicate_of_id is not None}
        origs -= {o for o in origs if clusterer.cluster_of(o) is not None}
        if origs:
            for mid, eid in session.execute(
                select(EventMention.mention_id, EventMention.event_id).where(
                    EventMention.mention_id.in_(origs)
                )
            ):
                clusterer.remember_doc(mid, eid)

        events: dict[int, Event] = {}
        woke: set[int] = set()
        touched_order: list[int] = []
        rows: list[dict[str, Any]] = []
        links: list[Placed] = []
        for m in mentions:
            toks = mention_tokens(
                m,
                max_words=self.settings.cluster_max_words,
            )
            doc = Doc(m.mention_id, toks, m.published_at, m.duplicate_of_id)
            target = clusterer.choose(doc)
            if target is None:
                ev = Event(
                    title=(m.title or m.text[:80]).strip(),
                    first_seen=m.published_at,
                    last_seen=m.published_at,
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
                session.add(ev)
                session.flush()
                events[ev.id] = ev
                result.created.append(ev.id)
                target = ev.id
            elif target in clusterer.dormant:
                woke.add(target)
            clusterer.place(doc, target)
            if target not in touched_order:
                touched_order.append(target)
            row = self._link_row(m, target, toks, now)
            rows.append(row)
            links.append(Placed(target, m.published_at, row["negative"], m.negative_prob, row["target_ids"]))
        self._apply_refinement(clusterer.refine(), rows, links, touched_order)
        session.execute(insert(EventMention), rows)

        missing = [eid for eid in touched_order if eid not in events]
        if missing:
            for ev in session.scalars(select(Event).where(Event.id.in_(missing))):
                events[ev.id] = ev
        for eid in woke:
            events[eid].status = "active"
        self._buckets(session, links)
        self._refresh(session, [events[e] for e in touched_order], clusterer, now, result, new_links=links)
        result.updated += [e for e in touched_order if e not in result.created and e not in result.updated]
        names = {t.target_id: t.name for m in mentions for t in m.targets}
        self._signals(session, links, now, result, names)
        return result

    @staticmethod
    def _apply_refinement(
        refined: Refinement, rows: list[dict[str, Any]], links: list[Placed], touched_order: list[int]
    ) -> None:
        """The clusterer's end-of-batch refinement, before the links are stored: moved mentions change
        event (the clusterer never empties an event, so every event created in the batch keeps some)."""
        if not refined.moves:
            return
        for i, row in enumerate(rows):
            moved = refined.moves.get(row["mention_id"])
            if moved is not None:
                row["event_id"] = moved
                links[i] = replace(links[i], event_id=moved)
                if moved not in touched_order:
                    touched_order.append(moved)

    def _revise(self, session: Session, link: EventMention, m: AnalysedMention) -> bool:
        """Apply a re-analysed mention's new sentiment / risk / influence / targets to its link."""
        negative = m.sentiment == "negative"
        targets = sorted({t.target_id for t in m.targets})
        if (
            link.negative == negative
            and link.risk_type == m.risk_type
            and abs(link.influence - m.influence) < 1e-9
            and abs(link.negative_prob - m.negative_prob) < 1e-9
            and list(link.target_ids or []) == targets
        ):
            return False
        hour = floor_hour(link.published_at)
        delta = int(negative) - int(link.negative)
        # populate_existing: the batch code updates buckets in SQL, so an instance already in this
        # session's identity map may be stale (pending ORM changes are flushed first).
        session.flush()
        bucket = session.scalar(
            select(EventBucket)
            .where(EventBucket.event_id == link.event_id, EventBucket.hour == hour)
            .execution_options(populate_existing=True)
        )
        if bucket is not None:
            bucket.negative_count += delta
            bucket.negative_prob_sum += m.negative_prob - link.negative_prob
        if delta:
            for tb in session.scalars(
                select(TargetBucket)
                .where(TargetBucket.target_id.in_(link.target_ids or []), TargetBucket.hour == hour)
                .execution_options(populate_existing=True)
            ):
                tb.negative_count += delta
        link.negative = negative
        link.negative_prob = m.negative_prob
        link.risk_type = m.risk_type
        link.influence = m.influence
        link.target_ids = targets
        return True

    def _link_row(self, m: AnalysedMention, event_id: int, toks: list[str], now: datetime) -> dict[str, Any]:
        """The ``event_mentions`` row of a newly placed mention (bulk-inserted once per batch)."""
        return {
            "event_id": event_id,
            "mention_id": m.mention_id,
            "published_at": m.published_at,
            "source_id": m.source_id,
            "platform": m.platform,
            "source_tier": m.source_tier,
            "author": m.author,
            "author_followers": m.author_followers,
            "title": (m.title or m.text[:120])[:500],
            "lang": m.lang,
            "negative": m.sentiment == "negative",
            "negative_prob": m.negative_prob,
            "influence": m.influence,
            "duplicate_of_id": m.duplicate_of_id,
            "target_ids": sorted({t.target_id for t in m.targets}),
            "risk_type": m.risk_type,
            "tokens": toks[:200],
            "assigned_by": "auto",
            "created_at": now,
        }

    def _expire(self, session: Session, clusterer: OnlineClusterer, now: datetime) -> None:
        gone = clusterer.expire(now)
        if gone:
            session.execute(
                update(Event).where(Event.id.in_(gone), Event.status == "active").values(status="dormant")
            )
        cutoff = now - timedelta(days=self.settings.archive_after_days)
        stale = list(
            session.scalars(select(Event.id).where(Event.status == "dormant", Event.last_seen < cutoff))
        )
        if stale:
            for eid in stale:
                clusterer.close(eid)
            session.execute(update(Event).where(Event.id.in_(stale)).values(status="archived"))

    # -- aggregates ---------------------------------------------------------------------------

    def _buckets(self, session: Session, links: Sequence[Placed]) -> None:
        ev_add: dict[tuple[int, datetime], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        tg_add: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0])
        for link in links:
            h = floor_hour(link.published_at)
            a = ev_add[(link.event_id, h)]
            a[0] += 1
            a[1] += int(link.negative)
            a[2] += link.negative_prob
            for t in link.target_ids:
                b = tg_add[(t, h)]
                b[0] += 1
                b[1] += int(link.negative)
        self._add_buckets(session, ev_add)
        if tg_add:
            tids = {k[0] for k in tg_add}
            hours = {k[1] for k in tg_add}
            existing = {
                (tid, h): bid
                for bid, tid, h in session.execute(
                    select(_TB.c.id, _TB.c.target_id, _TB.c.hour).where(
                        _TB.c.target_id.in_(tids), _TB.c.hour.in_(hours)
                    )
                )
            }
            new_rows: list[dict[str, Any]] = []
            deltas: list[dict[str, Any]] = []
            for (tid, h), (c, n) in tg_add.items():
                bid = existing.get((tid, h))
                if bid is None:
                    new_rows.append({"target_id": tid, "hour": h, "count": c, "negative_count": n})
                else:
                    deltas.append({"b_id": bid, "d_count": c, "d_negative": n})
            if deltas:
                session.execute(
                    update(_TB)
                    .where(_TB.c.id == bindparam("b_id"))
                    .values(
                        count=_TB.c.count + bindparam("d_count"),
                        negative_count=_TB.c.negative_count + bindparam("d_negative"),
                    ),
                    deltas,
                )
            if new_rows:
                session.execute(insert(_TB), new_rows)

    def _add_buckets(self, session: Session, adds: dict[tuple[int, datetime], list[float]]) -> None:
        """Add hourly deltas to ``event_buckets``: one read, one batched update, one batched insert."""
        if not adds:
            return
        session.flush()  # the ORM may hold bucket changes (a revised mention) and new events
        eids = {k[0] for k in adds}
        hours = {k[1] for k in adds}
        existing = {
            (eid, h): bid
            for bid, eid, h in session.execute(
                select(_EB.c.id, _EB.c.event_id, _EB.c.hour).where(
                    _EB.c.event_id.in_(eids), _EB.c.hour.in_(hours)
                )
            )
        }
        new_rows: list[dict[str, Any]] = []
        deltas: list[dict[str, Any]] = []
        for (eid, h), (c, n, p) in adds.items():
            bid = existing.get((eid, h))
            if bid is None:
                new_rows.append(
                    {
                        "event_id": eid,
                        "hour": h,
                        "count": int(c),
                        "negative_count": int(n),
                        "negative_prob_sum": p,
                    }
                )
            else:
                deltas.append({"b_id": bid, "d_count": int(c), "d_negative": int(n), "d_prob": p})
        if deltas:
            session.execute(
                update(_EB)
                .where(_EB.c.id == bindparam("b_id"))
                .values(
                    count=_EB.c.count + bindparam("d_count"),
                    negative_count=_EB.c.negative_count + bindparam("d_negative"),
                    negative_prob_sum=_EB.c.negative_prob_sum + bindparam("d_prob"),
                ),
                deltas,
            )
        if new_rows:
            session.execute(insert(_EB), new_rows)

    def _refresh(
        self,
        session: Session,
        events: Sequence[Event],
        clusterer: OnlineClusterer,
        now: datetime,
        result: BatchResult | None = None,
        *,
        new_links: Sequence[Placed] = (),
        full: bool = False,
    ) -> None:
        """Recompute the metrics of ``events`` from their links (a few grouped queries) and grade them."""
        if not events:
            return
        ids = [e.id for e in events]
        w0 = now - self.window
        w1 = now - 2 * self.window
        em = EventMention
        agg = {
            row[0]: row[1:]
            for row in session.execute(
                select(
                    em.event_id,
                    func.count(),
                    func.sum(cast(em.negative, Integer)),
                    func.count(func.distinct(em.author)),
                    func.coalesce(func.sum(em.influence), 0.0),
                    func.min(em.published_at),
                    func.max(em.published_at),
                )
                .where(em.event_id.in_(ids))
                .group_by(em.event_id)
            )
        }
        win: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for eid, at in session.execute(
            select(em.event_id, em.published_at).where(em.event_id.in_(ids), em.published_at >= w1)
        ):
            if at > now:
                continue
            win[eid][0 if at >= w0 else 1] += 1
        platforms: dict[int, set[str]] = defaultdict(set)
        tiers: dict[int, set[str]] = defaultdict(set)
        risks: dict[int, Counter[str]] = defaultdict(Counter)
        for eid, platform, tier, risk, n in session.execute(
            select(em.event_id, em.platform, em.source_tier, em.risk_type, func.count())
            .where(em.event_id.in_(ids))
            .group_by(em.event_id, em.platform, em.source_tier, em.risk_type)
        ):
            platforms[eid].add(platform)
            tiers[eid].add(tier)
            if risk:
                risks[eid][risk] += n
        targets: dict[int, set[int]] = defaultdict(set)
        if full:
            for eid, tids in session.execute(select(em.event_id, em.target_ids).where(em.event_id.in_(ids))):
                targets[eid].update(tids or [])
        else:
            for ev in events:
                targets[ev.id].update(ev.target_ids or [])
            for link in new_links:
                targets[link.event_id].update(link.target_ids)
        sources: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for eid, sid, platform, n in session.execute(
            select(em.event_id, em.source_id, em.platform, func.count())
            .where(em.event_id.in_(ids))
            .group_by(em.event_id, em.source_id, em.platform)
            .order_by(func.count().desc())
        ):
            if len(sources[eid]) < 5:
                sources[eid].append({"source_id": sid, "platform": platform, "mentions": n})
        kols: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for eid, author, followers, infl, n in session.execute(
            select(
                em.event_id, em.author, func.max(em.author_followers), func.sum(em.influence), func.count()
            )
            .where(em.event_id.in_(ids), em.author.is_not(None))
            .group_by(em.event_id, em.author)
            .order_by(func.sum(em.influence).desc(), func.max(em.author_followers).desc())
        ):
            if len(kols[eid]) < 5:
                kols[eid].append(
                    {
                        "author": author,
                        "followers": int(followers or 0),
                        "influence": float(infl or 0),
                        "mentions": n,
                    }
                )
        rn = (
            func.row_number()
            .over(partition_by=em.event_id, order_by=(em.influence.desc(), em.published_at, em.mention_id))
            .label("rn")
        )
        ranked_q = (
            select(em.event_id, em.mention_id, em.title, rn)
            .where(em.event_id.in_(ids), em.duplicate_of_id.is_(None))
            .subquery()
        )
        top: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for eid, mid, title, _rn in session.execute(
            select(ranked_q).where(ranked_q.c.rn <= 10).order_by(ranked_q.c.event_id, ranked_q.c.rn)
        ):
            top[eid].append((mid, title))
        hours = self.window.total_seconds() / 3600
        for ev in events:
            row = agg.get(ev.id)
            if row is None:  # emptied by a split
                continue
            count, neg, authors, reach, first, last = row
            neg = int(neg or 0)
            ev.mention_count = int(count)
            ev.negative_count = neg
            ev.negative_share = neg / count if count else 0.0
            ev.unique_authors = int(authors)
            ev.reach = float(reach)
            ev.first_seen, ev.last_seen = first, last
            now_n, prev_n = win[ev.id]
            ev.window_count = now_n
            ev.velocity = now_n / hours
            ev.velocity_prev = prev_n / hours
            ev.platforms = sorted(platforms[ev.id])
            ev.target_ids = sorted(targets[ev.id])
            ev.risk_type = risks[ev.id].most_common(1)[0][0] if risks[ev.id] else None
            tier_set = tiers[ev.id]
            ev.highest_tier = max(tier_set, key=lambda t: (TIER_RANK.get(t, 0), t)) if tier_set else None
            ev.top_sources = sources[ev.id]
            ev.key_opinion_leaders = kols[ev.id]
            ranked = top[ev.id]
            ev.top_mention_ids = [r[0] for r in ranked]
            if ranked and ranked[0][1]:
                ev.title = ranked[0][1][:300]
            state = clusterer.active.get(ev.id) or clusterer.dormant.get(ev.id)
            if state is not None:
                ev.token_counts = {**dict(state.counts.most_common(TOKENS_KEPT)), **dict(state.groups)}
                ev.keywords = keywords_of(state.counts)
            ev.updated_at = now
            self._grade(session, ev, now, result, tier_set)

    def metrics_of(self, ev: Event, tier_set: Iterable[str] = ()) -> dict[str, Any]:
        tiers = set(tier_set) | ({ev.highest_tier} if ev.highest_tier else set())
        growth = ev.velocity / ev.velocity_prev if ev.velocity_prev else float(ev.velocity > 0) * ev.velocity
        return {
            "mention_count": ev.mention_count,
            "negative_count": ev.negative_count,
            "negative_share": round(ev.negative_share, 4),
            "window_count": ev.window_count,
            "velocity": round(ev.velocity, 2),
            "growth": round(growth, 2),
            "reach": round(ev.reach, 1),
            "platform_count": len(ev.platforms),
            "unique_authors": ev.unique_authors,
            "tier_rank": TIER_RANK.get(ev.highest_tier or "", 0),
            "highest_tier": ev.highest_tier,
            "central_media": "central_media" in tiers,
            "regulator": "regulator" in tiers,
            "risk_type": ev.risk_type,
        }

    def _grade(
        self, session: Session, ev: Event, now: datetime, result: BatchResult | None, tier_set: Iterable[str]
    ) -> None:
        metrics = self.metrics_of(ev, tier_set)
        ev.metrics = metrics
        g = grade(metrics, self.rules)
        old = ev.level
        # Levels only rise automatically while the event lives; a quieter hour does not downgrade it.
        if old is not None and level_rank(g.level) <= level_rank(old):
            return
        ev.level = g.level
        ev.level_reasons = list(g.reasons)
        ev.level_reasons_en = list(g.reasons_en)
        session.add(
            EventLevelChange(
                event_id=ev.id,
                at=now,
                old_level=old,
                new_level=g.level,
                rule=g.rule,
                reasons=list(g.reasons),
                reasons_en=list(g.reasons_en),
                metrics=metrics,
            )
        )
        if result is not None:
            result.level_changes.append((ev.id, old, g.level))

    # -- early signs --------------------------------------------------------------------------

    def _signals(
        self,
        session: Session,
        links: Sequence[Placed],
        now: datetime,
        result: BatchResult,
        names: dict[int, str] | None = None,
    ) -> None:
        hour = floor_hour(now)
        start = hour - timedelta(days=self.burst_params.days)
        hours_hit = {floor_hour(link.published_at) for link in links}
        if hour not in hours_hit:
            return  # only mentions of the current hour can make the current hour burst
        tids = sorted({t for link in links if floor_hour(link.published_at) == hour for t in link.target_ids})
        eids = sorted({link.event_id for link in links if floor_hour(link.published_at) == hour})
        series: dict[tuple[str, str, int], dict[datetime, int]] = defaultdict(dict)
        if tids:
            for tid, at, count, negative in session.execute(
                select(_TB.c.target_id, _TB.c.hour, _TB.c.count, _TB.c.negative_count).where(
                    _TB.c.target_id.in_(tids), _TB.c.hour >= start, _TB.c.hour <= hour
                )
            ):
                series[("target", "volume", tid)][at] = count
                series[("target", "negative_volume", tid)][at] = negative
        for eid, at, count, negative in session.execute(
            select(_EB.c.event_id, _EB.c.hour, _EB.c.count, _EB.c.negative_count).where(
                _EB.c.event_id.in_(eids), _EB.c.hour >= start, _EB.c.hour <= hour
            )
        ):
            series[("event", "volume", eid)][at] = count
            series[("event", "negative_volume", eid)][at] = negative
        cooldown = now - timedelta(hours=self.settings.burst_cooldown_hours)
        recent = {
            (kind, target_id, event_id)
            for kind, target_id, event_id in session.execute(
                select(Signal.kind, Signal.target_id, Signal.event_id).where(Signal.fired_at >= cooldown)
            )
        }
        fired: list[Signal] = []
        for scope, kind, sid in sorted(series):
            res = detect(series[(scope, kind, sid)], hour, self.burst_params)
            if not res.fired:
                continue
            target_id = sid if scope == "target" else None
            event_id = sid if scope == "event" else None
            if (kind, target_id, event_id) in recent:
                continue
            what_zh = "负面声量" if kind == "negative_volume" else "声量"
            what_en = "negative volume" if kind == "negative_volume" else "volume"
            name = (names or {}).get(sid, "") if scope == "target" else ""
            who = f"监测主体「{name or sid}」" if scope == "target" else f"事件 #{sid}"
            who_en = f"target {name or sid}" if scope == "target" else f"event #{sid}"
            ratio = res.observed / res.expected
            span_zh = "本小时" if res.hours == 1 else f"近 {res.hours} 小时"
            span_en = "this hour" if res.hours == 1 else f"in the last {res.hours} h"
            fired.append(
                Signal(
                    kind=kind,
                    target_id=target_id,
                    event_id=event_id,
                    fired_at=now,
                    hour=hour,
                    observed=res.observed,
                    expected=round(res.expected, 3),
                    p_value=res.p_value,
                    message=(
                        f"{who} {what_zh}突增：{span_zh} {res.observed} 条，"
                        f"基线 {res.expected:.1f} 条（{ratio:.1f} 倍）"
                    ),
                    message_en=(
                        f"{who_en} {what_en} burst: {res.observed} {span_en} vs baseline "
                        f"{res.expected:.1f} ({ratio:.1f}x)"
                    ),
                )
            )
        if fired:
            session.add_all(fired)
            session.flush()
            result.signals.extend(s.id for s in fired)

    # -- analyst corrections ------------------------------------------------------------------

    def merge(self, session: Session, event_ids: Sequence[int], by: str) -> Event:
        """Merge events into the first id; the others become ``merged`` and never receive mentions."""
        ids = list(dict.fromkeys(event_ids))
        if len(ids) < 2:
            raise ValidationError("合并至少需要两个事件 / merge needs at least two events")
        now = self.ctx.clock.now()
        found = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))}
        for eid in ids:
            if eid not in found:
                raise NotFound(f"事件不存在 / event {eid} not found")
            if found[eid].status == "merged":
                raise ValidationError(f"事件 {eid} 已被合并 / event {eid} was already merged")
        clusterer = self.clusterer(session)
        keep = found[ids[0]]
        try:
            for eid in ids[1:]:
                other = found[eid]
                links = list(session.scalars(select(EventMention).where(EventMention.event_id == eid)))
                counts: Counter[str] = Counter()
                for link in links:
                    counts.update(link.tokens)
                    link.event_id = keep.id
                    link.assigned_by = "analyst"
                    clusterer.remember_doc(link.mention_id, keep.id)
                clusterer.close(eid)
                clusterer.absorb(keep.id, dict(counts), len(links), other.last_seen)
                other.status = "merged"
                other.merged_into_id = keep.id
                other.updated_at = now
                session.execute(update(Signal).where(Signal.event_id == eid).values(event_id=keep.id))
            keep.status = "active"
            session.flush()
            self._rebuild_buckets(session, [keep.id, *ids[1:]])
            mention_ids = list(
                session.scalars(select(EventMention.mention_id).where(EventMention.event_id == keep.id))
            )
            session.add(
                EventCorrection(
                    kind="merge",
                    by=by,
                    at=now,
                    event_ids=ids,
                    mention_ids=mention_ids,
                    result_event_id=keep.id,
                )
            )
            result = BatchResult()
            self._refresh(session, [keep], clusterer, now, result, full=True)
        except BaseException:
            self.forget_state()
            raise
        self._publish_changes(result, updated=[keep.id])
        return keep

    def split(self, session: Session, event_id: int, mention_ids: Sequence[int], by: str) -> Event:
        """Move ``mention_ids`` out of ``event_id`` into a new event; both keep their own future."""
        ev = session.get(Event, event_id)
        if ev is None:
            raise NotFound(f"事件不存在 / event {event_id} not found")
        wanted = set(mention_ids)
        if not wanted:
            raise ValidationError("拆分需要指定信息 / split needs mention ids")
        links = list(
            session.scalars(
                select(EventMention).where(
                    EventMention.event_id == event_id, EventMention.mention_id.in_(wanted)
                )
            )
        )
        found = {link.mention_id for link in links}
        if found != wanted:
            missing = sorted(wanted - found)
            raise ValidationError(
                f"这些信息不属于事件 {event_id} / not in event {event_id}: {', '.join(map(str, missing))}"
            )
        total = session.scalar(
            select(func.count()).select_from(EventMention).where(EventMention.event_id == event_id)
        )
        if total == len(links):
            raise ValidationError("不能拆出全部信息 / a split must leave mentions in the event")
        now = self.ctx.clock.now()
        clusterer = self.clusterer(session)
        try:
            new = Event(
                title=links[0].title,
                first_seen=min(link.published_at for link in links),
                last_seen=max(link.published_at for link in links),
                status="active",
                created_at=now,
                updated_at=now,
            )
            session.add(new)
            session.flush()
            counts: Counter[str] = Counter()
            for link in links:
                counts.update(link.tokens)
                link.event_id = new.id
                link.assigned_by = "analyst"
                clusterer.remember_doc(link.mention_id, new.id)
            clusterer.withdraw(event_id, dict(counts), len(links))
            clusterer.absorb(new.id, dict(counts), len(links), new.last_seen)
            session.flush()
            self._rebuild_buckets(session, [event_id, new.id])
            session.add(
                EventCorrection(
                    kind="split",
                    by=by,
                    at=now,
                    event_ids=[event_id],
                    mention_ids=sorted(wanted),
                    result_event_id=new.id,
                )
            )
            result = BatchResult(created=[new.id])
            # The remaining event is re-graded from scratch: its level may drop after a split.
            ev.level = None
            self._refresh(session, [ev, new], clusterer, now, result, full=True)
        except BaseException:
            self.forget_state()
            raise
        self._publish_changes(result, updated=[event_id])
        return new

    def _rebuild_buckets(self, session: Session, event_ids: Sequence[int]) -> None:
        session.query(EventBucket).filter(EventBucket.event_id.in_(event_ids)).delete(
            synchronize_session=False
        )
        adds: dict[tuple[int, datetime], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        for eid, at, neg, prob in session.execute(
            select(
                EventMention.event_id,
                EventMention.published_at,
                EventMention.negative,
                EventMention.negative_prob,
            ).where(EventMention.event_id.in_(event_ids))
        ):
            a = adds[(eid, floor_hour(at))]
            a[0] += 1
            a[1] += int(neg)
            a[2] += prob
        self._add_buckets(session, adds)

    # -- bus ----------------------------------------------------------------------------------

    def _publish_changes(self, result: BatchResult, updated: Sequence[int] = ()) -> None:
        msgs = change_messages(result, updated)
        if msgs:
            self.ctx.bus.publish(EVENTS_CHANGED, msgs)

    def publish(self, session: Session, result: BatchResult) -> None:
        """Publish EVENTS_CHANGED and SIGNALS_FIRED for a committed batch."""
        self._publish_changes(result)
        if result.signals:
            sigs = session.scalars(
                select(Signal).where(Signal.id.in_(result.signals)).order_by(Signal.id)
            ).all()
            self.ctx.bus.publish(SIGNALS_FIRED, [signal_message(s) for s in sigs])


def change_messages(result: BatchResult, updated: Sequence[int] = ()) -> list[Message]:
    """created / updated (at most once per event) / level messages of a batch."""
    msgs: list[Message] = []
    levels = {eid: (old, new) for eid, old, new in result.level_changes}
    for eid in result.created:
        old, new = levels.get(eid, (None, None))
        msgs.append({"event_id": eid, "change": "created", "old_level": old, "new_level": new})
    for eid in dict.fromkeys([*result.updated, *updated]):
        if eid in result.created:
            continue
        msgs.append({"event_id": eid, "change": "updated", "old_level": None, "new_level": None})
    for eid, (old, new) in levels.items():
        msgs.append({"event_id": eid, "change": "level", "old_level": old, "new_level": new})
    return msgs


def signal_message(s: Signal) -> Message:
    return {
        "signal_id": s.id,
        "target_id": s.target_id,
        "event_id": s.event_id,
        "kind": s.kind,
        "observed": s.observed,
        "expected": s.expected,
        "hour": s.hour.isoformat(),
        "message": s.message,
        "message_en": s.message_en,
    }


# -- read side (the contract other stages use) ---------------------------------------------------


def _snapshot(ev: Event) -> EventSnapshot:
    return EventSnapshot(
        event_id=ev.id,
        title=ev.title,
        level=ev.level,
        level_reasons=tuple(ev.level_reasons or ()),
        status=ev.status,
        first_seen=ev.first_seen,
        last_seen=ev.last_seen,
        mention_count=ev.mention_count,
        negative_count=ev.negative_count,
        negative_share=ev.negative_share,
        reach=ev.reach,
        velocity=ev.velocity,
        platforms=tuple(ev.platforms or ()),
        target_ids=tuple(ev.target_ids or ()),
        risk_type=ev.risk_type,
        keywords=tuple(ev.keywords or ()),
        top_mention_ids=tuple(ev.top_mention_ids or ()),
    )


def load_snapshot(session: Session, event_id: int) -> EventSnapshot:
    """The event as downstream stages see it; a merged event resolves to the event it went into."""
    ev = session.get(Event, event_id)
    seen = set()
    while ev is not None and ev.status == "merged" and ev.merged_into_id and ev.id not in seen:
        seen.add(ev.id)
        ev = session.get(Event, ev.merged_into_id)
    if ev is None:
        raise NotFound(f"事件不存在 / event {event_id} not found")
    return _snapshot(ev)


def list_snapshots(
    session: Session,
    *,
    level: str | None = None,
    status: str | None = None,
    target_id: int | None = None,
    limit: int = 100,
) -> list[EventSnapshot]:
    """Events, most recently active first; ``status`` None hides merged ones."""
    q = select(Event)
    if level is not None:
        q = q.where(Event.level == level)
    q = q.where(Event.status == status) if status is not None else q.where(Event.status != "merged")
    q = q.order_by(Event.last_seen.desc(), Event.id.desc())
    out: list[EventSnapshot] = []
    # target_ids is JSON: filter in Python, reading in pages so the limit still holds.
    offset = 0
    while len(out) < limit:
        page = session.scalars(q.offset(offset).limit(500)).all()
        if not page:
            break
        offset += len(page)
        for ev in page:
            if target_id is None or target_id in (ev.target_ids or []):
                out.append(_snapshot(ev))
                if len(out) >= limit:
                    break
    return out
