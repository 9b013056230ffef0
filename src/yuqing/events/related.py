"""Possibly related events: the stories an analyst may want to merge.

An online clusterer never merges two events by itself (an analyst's split must stick), so a story
told in different words early on can stay in two events (Google News titles: big stories in 2-5
large clusters). Each event's page lists the events whose words are most alike, by the cosine of
TF-IDF-weighted token counts (IDF over the events compared), with the shared words that weigh most
as the reason; `yuqing events merge` does the rest. Watch-target tokens do not count as shared
words (every event of a bank has its name), but events about disjoint targets are never related.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.events.models import Event
from yuqing.events.tokens import TARGET_PREFIX

CANDIDATES = 300  # most recent active / dormant events compared with the one shown
_TF = [0.0] + [1 + math.log(c) for c in range(1, 256)]  # sublinear term frequency


@dataclass(frozen=True)
class Related:
    event_id: int
    score: float  # cosine, 0-1
    shared: tuple[str, ...]  # the shared tokens that weigh most, as readable words


def readable(token: str) -> str:
    """``~fee`` -> fee, ``@e:华信银行`` -> 华信银行, ``@r:收费争议`` -> 收费争议."""
    if token[:1] == "~":
        return token[1:].replace("_", " ")
    if token[:1] == "@" and ":" in token:
        return token.split(":", 1)[1]
    return token


def related(
    target: Mapping[str, int],
    candidates: Mapping[int, Mapping[str, int]],
    limit: int = 5,
    min_score: float = 0.2,
    shared_words: int = 4,
) -> list[Related]:
    """The ``limit`` candidates most alike ``target`` (score >= ``min_score``), best first."""
    df: Counter[str] = Counter()
    for counts in (target, *candidates.values()):
        df.update(w for w, c in counts.items() if c > 0)
    n = len(candidates) + 1
    idf = {w: math.log((n + 1) / (d + 0.5)) for w, d in df.items() if not w.startswith(TARGET_PREFIX)}

    def weights(counts: Mapping[str, int]) -> dict[str, float]:
        return {w: _TF[c] * idf[w] if c < len(_TF) else (1 + math.log(c)) * idf[w]
                for w, c in counts.items() if c > 0 and w in idf}  # fmt: skip

    def groups(counts: Mapping[str, int]) -> set[str]:
        return {w for w, c in counts.items() if c > 0 and w.startswith(TARGET_PREFIX)}

    tw = weights(target)
    tnorm = math.sqrt(sum(v * v for v in tw.values()))
    tgroups = groups(target)
    if not tnorm:
        return []
    out: list[Related] = []
    for cid, counts in candidates.items():
        if tw.keys().isdisjoint(counts):
            continue
        cgroups = groups(counts)
        if tgroups and cgroups and tgroups.isdisjoint(cgroups):
            continue
        cw = weights(counts)
        common = {w: tw[w] * cw[w] for w in tw.keys() & cw.keys()}
        if not common:
            continue
        score = sum(common.values()) / (tnorm * math.sqrt(sum(v * v for v in cw.values())))
        if score >= min_score:
            words = dict.fromkeys(readable(w) for w in sorted(common, key=lambda w: (-common[w], w)))
            out.append(Related(cid, round(score, 3), tuple(words)[:shared_words]))
    out.sort(key=lambda r: (-r.score, r.event_id))
    return out[:limit]


def load_related(session: Session, event_id: int, limit: int = 5) -> list[tuple[Related, Event]]:
    """Related events of one event among the most recent active and dormant ones, with their rows."""
    ev = session.get(Event, event_id)
    if ev is None or not ev.token_counts:
        return []
    rows = session.scalars(
        select(Event)
        .where(Event.status.in_(("active", "dormant")), Event.id != event_id)
        .order_by(Event.last_seen.desc())
        .limit(CANDIDATES)
    ).all()
    by_id = {e.id: e for e in rows}
    found = related(ev.token_counts, {e.id: e.token_counts or {} for e in rows}, limit=limit)
    return [(r, by_id[r.event_id]) for r in found]
