"""End-of-batch refinement of the online clusterer (close placements re-checked once per batch)."""

from __future__ import annotations

from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.core.contracts import AnalysedMention
from yuqing.events.cluster import ClusterParams, Doc, OnlineClusterer
from yuqing.events.models import Event, EventMention
from yuqing.events.service import CLUSTERER_KEY, EventService

STORY_A = ["storm", "branch", "card", "login"]
STORY_B = ["down", "card", "flood"]
# The batch: FIRST joins B by a small margin; the two later documents make A the better home for it.
FIRST = ["flood", "app", "card", "login"]
LATER = [["river", "branch", "login"], ["down", "login", "storm"]]


def _two_stories(params: ClusterParams | None = None) -> tuple[OnlineClusterer, int, int]:
    c = OnlineClusterer(params)
    a, _ = c.assign(Doc(1, STORY_A))
    b, _ = c.assign(Doc(2, STORY_B))
    assert a != b
    assert not c.refine().moves
    return c, a, b


def test_close_placement_moves_to_the_cluster_the_batch_built() -> None:
    c, a, b = _two_stories()
    assert c.assign(Doc(10, FIRST)) == (b, False)
    assert [c.assign(Doc(11 + i, t)) for i, t in enumerate(LATER)] == [(a, False), (a, False)]
    out = c.refine()
    assert out.moves == {10: a}
    assert c.cluster_of(10) == a
    sa, sb = c.active[a], c.active[b]
    assert (sa.m, sb.m) == (4, 1)
    assert sa.n == len(STORY_A) + len(FIRST) + sum(map(len, LATER))
    assert dict(sb.counts) == {w: 1 for w in STORY_B}  # FIRST's tokens left B completely
    assert sa.counts["app"] == 1 and c._index["app"] == {a: 1}
    assert c._docs == 5  # D counts each document once
    assert not c.refine().moves  # each batch is refined once


def test_refinement_disabled_keeps_first_placement() -> None:
    c, _a, b = _two_stories(ClusterParams(refine_margin=0.0))
    c.assign(Doc(10, FIRST))
    for i, t in enumerate(LATER):
        c.assign(Doc(11 + i, t))
    assert not c.refine().moves
    assert c.cluster_of(10) == b


def test_document_alone_in_its_cluster_stays() -> None:
    c = OnlineClusterer()
    river, _ = c.assign(Doc(1, ["rate", "river", "card"]))
    c.refine()
    first, created = c.assign(Doc(2, ["close", "app", "river", "flood"]))  # opens a cluster, narrowly
    assert created
    assert c.assign(Doc(3, ["river", "rate", "close", "delay"])) == (river, False)
    assert not c.refine().moves  # it would fit the river story now, but its cluster is not dissolved
    assert c.cluster_of(2) == first and c.active[first].m == 1


def test_original_of_a_duplicate_in_the_batch_stays_with_it() -> None:
    c, _a, b = _two_stories()
    c.assign(Doc(10, FIRST))
    assert c.assign(Doc(20, FIRST, duplicate_of=10)) == (b, False)
    for i, t in enumerate(LATER):
        c.assign(Doc(11 + i, t))
    assert not c.refine().moves
    assert c.cluster_of(10) == c.cluster_of(20) == b


def test_run_reports_final_clusters_and_is_deterministic() -> None:
    docs = [Doc(1, STORY_A), Doc(2, STORY_B), Doc(10, FIRST)] + [Doc(11 + i, t) for i, t in enumerate(LATER)]
    out = OnlineClusterer().run(docs, batch=2)
    assert out == [out[0], out[1], out[0], out[0], out[0]]
    assert out[0] != out[1]
    assert OnlineClusterer().run(docs, batch=2) == out
    assert OnlineClusterer(ClusterParams(refine_margin=0.0)).run(docs, batch=2)[2] == out[1]


def test_clear_decisions_are_not_rechecked() -> None:
    c = OnlineClusterer()
    a, _ = c.assign(Doc(1, ["earthquake", "tsunami", "coast", "warning"]))
    assert c.assign(Doc(2, ["earthquake", "tsunami", "coast", "warning"])) == (a, False)
    assert list(c._unsure) == []  # joined by far more than the margin


def _en(ctx: AppContext, mid: int, words: list[str]) -> AnalysedMention:
    return AnalysedMention(
        mention_id=mid,
        source_id=2,
        platform="news",
        source_tier="media",
        url=None,
        title=" ".join(words),
        text="",
        author=f"a{mid}",
        author_followers=10,
        published_at=ctx.clock.now(),
        lang="en",
        duplicate_of_id=None,
        sentiment="neutral",
        negative_prob=0.1,
        targets=(),
        risk_type=None,
        influence=1.0,
    )


def test_service_stores_the_refined_placement(ctx: AppContext) -> None:
    ctx.settings.events.cluster_vector_weight = (
        0.0  # the bag-of-words scenario above, as in the clusterer tests
    )
    svc = EventService(ctx)
    with ctx.db.session() as s:
        first = svc.process(s, [_en(ctx, 1, STORY_A), _en(ctx, 2, STORY_B)])
    a, b = first.created
    with ctx.db.session() as s:
        second = svc.process(s, [_en(ctx, 10, FIRST)] + [_en(ctx, 11 + i, t) for i, t in enumerate(LATER)])
    with ctx.db.session() as s:
        links = dict(s.execute(select(EventMention.mention_id, EventMention.event_id)).all())
        counts = {e.id: e.mention_count for e in s.scalars(select(Event))}
    assert second.created == []
    assert links == {1: a, 2: b, 10: a, 11: a, 12: a}
    assert counts == {a: 4, b: 1}
    clusterer = ctx.extras[CLUSTERER_KEY]
    assert isinstance(clusterer, OnlineClusterer)
    assert clusterer.cluster_of(10) == a
    assert (clusterer.active[a].m, clusterer.active[b].m) == (4, 1)
