"""Online event clustering: a deterministic, single-pass MStream-style Dirichlet-multinomial model.

Each document (a mention, reduced to a bag of tokens) arrives once, in arrival order, and either
joins the active cluster ``z`` that maximises

    log m_z + sum_w sum_{j<c_w} log(n_zw + beta + j) - sum_{i<L} log(n_z + V*beta + i)

or opens a new cluster, scored

    log(alpha * D) + sum_w sum_{j<c_w} log(beta + j) - sum_{i<L} log(V*beta + i)

(Yin et al., KDD 2018, "Model-based clustering of short text streams", with the argmax instead of
Gibbs sampling so that the same input always gives the same clusters). ``m_z`` is the number of
documents in ``z``, ``n_z`` its token count, ``n_zw`` the count of token ``w``, ``D`` the number of
documents in the active set, ``V`` the active vocabulary size and ``L`` the document length.

Size cap: in the scores a cluster with more than ``size_cap`` tokens in a partition counts as if its
counts there were scaled down to ``size_cap`` (``n_zw * size_cap / n_z``): its word distribution
keeps its shape but gets no sharper. The plain model makes a big cluster pay ~log(n_z / V*beta) for
each word of the document that it has not seen, so a short follow-up of a long story, made of a few
key terms and new chatter, joined any small event that shared the watched bank's name (issue #4).
The cap is applied to the placement scores only; the stored counts stay exact.

Only clusters sharing a token with the document are scored (an inverted index); a cluster that
shares nothing always loses to a new cluster. Memory is bounded: clusters idle for longer than
``dormant_after`` leave the active set and keep a compact summary (their top tokens) in a bounded
dormant store; a document that would open a new cluster first checks whether a dormant cluster
explains it better, and wakes that cluster up if so.

Word vectors (optional, :mod:`yuqing.events.vectors`): with a table of English word vectors, a
cluster's score also gets ``vector_weight * sqrt(L / 8) * (cos - vector_threshold)``, where ``cos``
compares the document's mean word vector with the cluster's, both minus the active set's mean, and
``L`` is the number of the document's words that have a vector. Titles of one story that share
few words ("fed raises rates" / "central bank hikes borrowing costs") then join; the bag of words
alone opened a new cluster for most of them (Google News titles: NMI 0.875 -> 0.907, see
docs/benchmarks/events.md). The vectors are sums over token counts, so they follow the counts
through every placement, move, merge, split, dormancy and restart. Documents or clusters without
English words get no vector term, and none is given before ``vector_min_events`` active clusters
have a vector (the mean of a few clusters is mostly those clusters).

Near-duplicates join their original's cluster without scoring. Clusters can be pinned "closed"
(merged away by an analyst): they never receive documents again.

Bounded refinement (:meth:`OnlineClusterer.refine`, called once per batch): a document placed by a
margin of less than ``refine_margin`` nats (its best cluster vs a new cluster) is re-scored at the end
of its batch, against the clusters as the rest of the batch left them, and moves to another active
cluster if that now beats both staying and a new cluster. Only the current batch's documents move,
before the caller stores them; a document alone in its cluster stays (no cluster is dissolved: a new
story's first document keeps its cluster for the next batches).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from yuqing.events.vectors import TokenVectors

NEUTRAL = frozenset({"struct", "shared"})  # language-neutral partitions, weighted by ``struct_weight``

__all__ = ["ClusterParams", "ClusterState", "Doc", "OnlineClusterer", "Refinement"]


@dataclass(frozen=True)
class ClusterParams:
    alpha: float = 0.3  # prior weight of opening a new cluster (per active document)
    beta: float = 0.03  # pseudo-count of a token in a cluster
    dormant_after: timedelta | None = timedelta(hours=72)  # idle clusters leave the active set
    max_active: int = 5000  # hard bound of the active set (oldest idle evicted first)
    max_dormant: int = 20000  # bound of the dormant store (oldest forgotten)
    dormant_top_tokens: int = 60  # tokens kept per dormant cluster
    max_doc_tokens: int = 200  # longer documents are truncated (their first tokens count most)
    min_vocab: int = 2000  # floor of V (the vocabulary size)
    min_docs: int = 1000  # floor of D, so that the first documents of a stream do not all merge
    # Tokens with this prefix (watch targets, ``@t:<id>``) must overlap when both the document and the
    # cluster have some: a mention about bank B never joins a story about bank A only.
    exclusive_prefix: str | None = "@t:"  # tokens.TARGET_PREFIX
    # log-bonus of an event that shares a watch target with the mention. Target tokens are kept out of
    # the multinomial: a shared target is one piece of evidence, however many mentions the event has.
    target_bonus: float = 3.0
    # Weight of the language-neutral partitions (``@`` analysis facets: watch targets, risk type,
    # entities; ``~`` bilingual concepts) vs the words of one language.
    struct_weight: float = 1.5
    # Effective size cap (tokens per partition) of a cluster in the scores: a bigger cluster is scored
    # as if its counts were scaled down to this size (same word distribution, no sharper). Without it
    # a long-running story pays ~log(n_z / V*beta) nats for every word of a short follow-up that it
    # has not seen, and the follow-up rather joins a one-mention event that shares only the bank's
    # name (issue #4). 0 disables the cap.
    size_cap: float = 300.0
    # End-of-batch re-check of the placements decided by less than this log-odds (3 nats ~ 20:1);
    # 0 disables the refinement.
    refine_margin: float = 3.0
    # Word-vector term (used when the clusterer has a vector table): nats per unit of centred cosine
    # for a document of 8 words with a vector (scaled by sqrt(words / 8): more words, surer cosine),
    # and the cosine at which the term is zero (above it pulls the document in, below pushes it away).
    vector_weight: float = 25.0
    vector_threshold: float = 0.3
    # The term needs this many active events with a vector (their mean is the centre of the cosines).
    vector_min_events: int = 20


@dataclass(frozen=True)
class Doc:
    key: int
    tokens: Sequence[str]
    time: datetime | None = None
    duplicate_of: int | None = None  # key of the original document


@dataclass
class ClusterState:
    cluster_id: int
    counts: Counter[str] = field(default_factory=Counter)
    m: int = 0  # documents
    n: int = 0  # tokens
    last_seen: datetime | None = None
    closed: bool = False
    groups: Counter[str] = field(default_factory=Counter)  # counts of the exclusive-prefix tokens
    parts: Counter[str] = field(default_factory=Counter)  # tokens per partition (zh | latin | shared)
    vec: np.ndarray | None = None  # sum of the word vectors of its tokens (when vectors are in use)
    vec_n: int = 0  # tokens with a vector


@dataclass
class Refinement:
    """What :meth:`OnlineClusterer.refine` changed: the moved documents (no cluster is left empty)."""

    moves: dict[int, int] = field(default_factory=dict)  # doc key -> its new cluster id


class _MeanRows:
    """The mean word vector of each active cluster with one, as rows of one matrix (one gather per
    document instead of an array per candidate)."""

    def __init__(self, dim: int) -> None:
        self.rows = np.zeros((64 if dim else 0, dim), dtype=np.float32)
        self.slot: dict[int, int] = {}
        self._free: list[int] = []

    def put(self, cid: int, mean: np.ndarray) -> None:
        i = self.slot.get(cid)
        if i is None:
            if self._free:
                i = self._free.pop()
            else:
                i = len(self.slot)
                if i >= len(self.rows):
                    self.rows = np.concatenate([self.rows, np.zeros_like(self.rows)])
            self.slot[cid] = i
        self.rows[i] = mean

    def drop(self, cid: int) -> None:
        i = self.slot.pop(cid, None)
        if i is not None:
            self._free.append(i)


class OnlineClusterer:
    """The online clusterer used by both the service and ``yuqing eval events``.

    Cluster ids come from the caller (``new_cluster_id``) so that the service can use database ids;
    by default they count up from 1.
    """

    def __init__(self, params: ClusterParams | None = None, vectors: TokenVectors | None = None) -> None:
        self.params = params or ClusterParams()
        self.vectors = vectors if vectors is not None and self.params.vector_weight > 0 else None
        # sum and count of the word vectors of the active set (its mean is subtracted before a cosine)
        self._gvec: np.ndarray | None = None
        self._gn = 0
        self._means = _MeanRows(self.vectors.dim if self.vectors is not None else 0)
        self.active: dict[int, ClusterState] = {}
        self.dormant: OrderedDict[int, ClusterState] = OrderedDict()
        self._index: dict[str, dict[int, int]] = {}  # token -> {active cluster id: count}
        self._dormant_index: dict[str, set[int]] = {}
        self._doc_cluster: dict[int, int] = {}  # doc key -> cluster id (for duplicates)
        self._max_doc_memory = 200_000
        self._docs = 0  # documents in the active set (D)
        self._next_id = 1
        self._parts: dict[str, str] = {}
        # active cluster id -> {partition: size_cap / tokens} for its partitions over ``size_cap``
        self._scale: dict[int, dict[str, float]] = {}
        # the same by partition: {partition: {cluster id: scale}} and {partition: {cluster id: table of
        # log(1 + n * scale / beta) for n < 4096}} (the hot path looks a posting's cluster up once)
        self._scale_by_part: dict[str, dict[int, float]] = {}
        self._lnb_by_part: dict[str, dict[int, list[float]]] = {}
        self._tables: dict[int, list[float]] = {}  # scale level -> that table
        # weight of each partition's log-likelihood (the words of one language: 1)
        self._pweight = dict.fromkeys(NEUTRAL, self.params.struct_weight)
        self._lnbr = [math.log((n + self.params.beta) / self.params.beta) for n in range(4096)]
        self._last_margin: tuple[int, float] | None = None  # (doc key, margin) of the last choose()
        # (doc key, its word-vector sum) of the last choose(): place() adds the same sum
        self._last_sum: tuple[int, tuple[np.ndarray | None, int]] | None = None
        # close placements since the last refine(), with the sequence number of their placement
        self._unsure: deque[tuple[Doc, int]] = deque(maxlen=10_000)
        self._touched: dict[int, int] = {}  # cluster id -> sequence number of its last placement
        self._seq = 0
        self._dup_of: set[int] = set()  # originals of the duplicates placed since the last refine()

    # -- state --------------------------------------------------------------------------------

    def _vocab(self) -> int:
        return max(len(self._index), self.params.min_vocab)

    def new_cluster_id(self) -> int:
        cid = self._next_id
        self._next_id += 1
        return cid

    def restore(self, cluster_id: int, counts: dict[str, int], m: int, last_seen: datetime | None) -> None:
        """Load an active cluster (service start-up from the database)."""
        state = ClusterState(cluster_id, Counter(), 0, 0, last_seen)
        self.active[cluster_id] = state
        self._add_counts(state, counts, m)
        self._next_id = max(self._next_id, cluster_id + 1)

    def remember_doc(self, key: int, cluster_id: int) -> None:
        self._doc_cluster[key] = cluster_id
        if len(self._doc_cluster) > self._max_doc_memory:
            for old in list(self._doc_cluster)[: self._max_doc_memory // 10]:
                del self._doc_cluster[old]

    def cluster_of(self, key: int) -> int | None:
        return self._doc_cluster.get(key)

    def _add_counts(
        self,
        state: ClusterState,
        counts: dict[str, int],
        docs: int,
        vec_sum: tuple[np.ndarray | None, int] | None = None,
    ) -> None:
        """Add tokens (and ``vec_sum``, their word-vector sum when already known) to a cluster."""
        prefix = self.params.exclusive_prefix
        for w, c in counts.items():
            if c <= 0:
                continue
            if prefix and w.startswith(prefix):
                state.groups[w] += c
                continue
            state.counts[w] += c
            state.n += c
            state.parts[self.part_of(w)] += c
            posting = self._index.get(w)
            if posting is None:
                self._index[w] = {state.cluster_id: c}
            else:
                posting[state.cluster_id] = posting.get(state.cluster_id, 0) + c
        state.m += docs
        self._docs += docs
        self._rescale(state)
        if self.vectors is not None:
            self._add_vector(state, *(vec_sum or self.vectors.sum_vector(counts)), sign=1)

    def _add_vector(self, state: ClusterState, vec: np.ndarray | None, n: int, sign: int) -> None:
        """Add (sign 1) or take away (sign -1, tokens the cluster held) the vector sum of some tokens."""
        if vec is None or not n:
            return
        state.vec = vec * sign if state.vec is None else state.vec + vec * sign
        state.vec_n += sign * n
        self._gvec = vec * sign if self._gvec is None else self._gvec + vec * sign
        self._gn += sign * n
        if state.vec_n > 0:
            self._means.put(state.cluster_id, state.vec / state.vec_n)
        else:
            self._means.drop(state.cluster_id)

    def _levels(self, parts: Counter[str]) -> dict[str, int]:
        """Scale level ``k`` (scale ``2 ** (-k / 8)`` ~ ``size_cap / n``) of the partitions over the cap.

        The scale is rounded to eighths of a power of two (within 4.5 %) so that the hot path can use
        one precomputed table per level instead of a logarithm per posting."""
        cap = self.params.size_cap
        if not cap:
            return {}
        out = {}
        for p, n in parts.items():
            if n > cap:
                k = round(8 * math.log2(n / cap))
                if k > 0:
                    out[p] = k
        return out

    def _scales(self, parts: Counter[str]) -> dict[str, float]:
        return {p: 2.0 ** (-k / 8) for p, k in self._levels(parts).items()}

    def _table(self, k: int) -> list[float]:
        table = self._tables.get(k)
        if table is None:
            f = 2.0 ** (-k / 8) / self.params.beta
            table = self._tables[k] = [math.log1p(n * f) for n in range(len(self._lnbr))]
        return table

    def _rescale(self, state: ClusterState) -> None:
        cap = self.params.size_cap
        cid = state.cluster_id
        if not cap or (cid not in self._scale and max(state.parts.values(), default=0) <= cap):
            return
        levels = self._levels(state.parts)
        self._unscale(cid)
        if levels:
            self._scale[cid] = {p: 2.0 ** (-k / 8) for p, k in levels.items()}
            for p, k in levels.items():
                self._scale_by_part.setdefault(p, {})[cid] = 2.0 ** (-k / 8)
                self._lnb_by_part.setdefault(p, {})[cid] = self._table(k)

    def _unscale(self, cid: int) -> None:
        for p in self._scale.pop(cid, ()):
            del self._scale_by_part[p][cid]
            del self._lnb_by_part[p][cid]

    def _remove_counts(self, state: ClusterState, counts: dict[str, int], docs: int) -> None:
        removed: dict[str, int] = {}
        for w, c in counts.items():
            if w in state.groups:
                left_g = state.groups[w] - c
                if left_g > 0:
                    state.groups[w] = left_g
                else:
                    del state.groups[w]
                continue
            have = state.counts.get(w, 0)
            c = min(c, have)
            if c <= 0:
                continue
            left = have - c
            removed[w] = c
            state.n -= c
            state.parts[self.part_of(w)] -= c
            posting = self._index[w]
            if left:
                state.counts[w] = left
                posting[state.cluster_id] = left
            else:
                del state.counts[w]
                del posting[state.cluster_id]
                if not posting:
                    del self._index[w]
        docs = min(docs, state.m)
        state.m -= docs
        self._docs -= docs
        self._rescale(state)
        if self.vectors is not None and removed:
            self._add_vector(state, *self.vectors.sum_vector(removed), sign=-1)

    def _deactivate(self, cid: int) -> ClusterState:
        state = self.active.pop(cid)
        for w in state.counts:
            posting = self._index.get(w)
            if posting is not None:
                posting.pop(cid, None)
                if not posting:
                    del self._index[w]
        self._docs -= state.m
        self._unscale(cid)
        if state.vec is not None and self._gvec is not None:
            self._gvec = self._gvec - state.vec
            self._gn -= state.vec_n
        self._means.drop(cid)
        return state

    def close(self, cluster_id: int) -> None:
        """An analyst merged this cluster away: it never receives documents again."""
        if cluster_id in self.active:
            self._deactivate(cluster_id)
        self._forget_dormant(cluster_id)

    def absorb(self, into: int, counts: dict[str, int], docs: int, last_seen: datetime | None) -> None:
        """Add documents' tokens to a cluster (analyst merge), waking it if needed."""
        state = self.active.get(into) or self._wake(into)
        if state is None:
            state = ClusterState(into)
            self.active[into] = state
        self._add_counts(state, counts, docs)
        if last_seen is not None and (state.last_seen is None or last_seen > state.last_seen):
            state.last_seen = last_seen

    def withdraw(self, cluster_id: int, counts: dict[str, int], docs: int) -> None:
        """Remove documents' tokens from a cluster (analyst split)."""
        state = self.active.get(cluster_id)
        if state is not None:
            self._remove_counts(state, counts, docs)

    # -- dormancy -----------------------------------------------------------------------------

    def expire(self, now: datetime) -> list[int]:
        """Move clusters idle for longer than ``dormant_after`` to the dormant store; returns their ids."""
        after = self.params.dormant_after
        if after is None:
            return []
        limit = now - after
        gone = [cid for cid, s in self.active.items() if s.last_seen is not None and s.last_seen < limit]
        for cid in gone:
            self._to_dormant(self._deactivate(cid))
        return gone

    def expire_one(self, cluster_id: int) -> None:
        """Move one active cluster to the dormant store (start-up of dormant events)."""
        if cluster_id in self.active:
            self._to_dormant(self._deactivate(cluster_id))

    def _to_dormant(self, state: ClusterState) -> None:
        top = dict(state.counts.most_common(self.params.dormant_top_tokens))
        summary = ClusterState(state.cluster_id, Counter(top), state.m, sum(top.values()), state.last_seen)
        summary.groups = Counter(state.groups)
        for w, c in top.items():
            summary.parts[self.part_of(w)] += c
        if self.vectors is not None:
            summary.vec, summary.vec_n = self.vectors.sum_vector(top)
        self.dormant[state.cluster_id] = summary
        for w in top:
            self._dormant_index.setdefault(w, set()).add(state.cluster_id)
        while len(self.dormant) > self.params.max_dormant:
            old = next(iter(self.dormant))
            self._forget_dormant(old)

    def _forget_dormant(self, cid: int) -> ClusterState | None:
        state = self.dormant.pop(cid, None)
        if state is None:
            return None
        for w in state.counts:
            ids = self._dormant_index.get(w)
            if ids is not None:
                ids.discard(cid)
                if not ids:
                    del self._dormant_index[w]
        return state

    def _wake(self, cid: int) -> ClusterState | None:
        state = self._forget_dormant(cid)
        if state is None:
            return None
        fresh = ClusterState(cid, Counter(), 0, 0, state.last_seen)
        self.active[cid] = fresh
        self._add_counts(fresh, dict(state.counts), state.m)
        for g, c in state.groups.items():
            if g not in fresh.groups:
                fresh.groups[g] = c
        return fresh

    def _evict_oldest(self) -> None:
        while len(self.active) >= self.params.max_active:
            oldest = min(
                self.active.values(), key=lambda s: (s.last_seen is not None, s.last_seen or 0, s.cluster_id)
            )
            self._to_dormant(self._deactivate(oldest.cluster_id))

    # -- assignment ---------------------------------------------------------------------------

    def _doc_counts(self, tokens: Sequence[str]) -> dict[str, int]:
        return dict(Counter(tokens[: self.params.max_doc_tokens]))

    def part_of(self, w: str) -> str:
        """Partition of a token: struct (``@`` facets), shared (``~`` concepts), zh or latin."""
        p = self._parts.get(w)
        if p is None:
            if w[:1] == "@":
                p = "struct"
            elif w[:1] == "~":
                p = "shared"
            elif any("\u3400" <= ch <= "\u9fff" for ch in w):
                p = "zh"
            else:
                p = "latin"
            if len(self._parts) < 1_000_000:
                self._parts[w] = p
        return p

    def _doc_parts(self, counts: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for w, c in counts.items():
            p = self.part_of(w)
            out[p] = out.get(p, 0) + c
        return out

    def _score(
        self,
        state_m: int,
        parts: Counter[str],
        overlap: list[tuple[str, int, int]],
        doc_parts: dict[str, int],
        vbeta: float,
    ) -> float:
        """log score of joining a cluster, relative to the token terms shared with a new cluster.

        Each partition of the vocabulary is its own multinomial: an English story's words are judged
        against the English words of a cluster, so a Chinese cluster neither rewards nor penalises them,
        and the language-neutral tokens (targets, risk type, entities, bilingual concepts) decide; their
        log-likelihood is weighted by ``struct_weight``. :meth:`best` computes the same
        in one pass.
        """
        beta = self.params.beta
        pw = self._pweight
        lg = math.lgamma
        s = math.log(state_m)
        scale = self._scales(parts)
        for p, length in doc_parts.items():
            n = parts.get(p, 0) * scale.get(p, 1.0)
            s += pw.get(p, 1.0) * (lg(n + vbeta) - lg(n + vbeta + length))
        for w, n_zw, c in overlap:
            p = self.part_of(w)
            n = n_zw * scale.get(p, 1.0)
            s += pw.get(p, 1.0) * (lg(n + beta + c) - lg(n + beta) - lg(beta + c) + lg(beta))
        return s

    def _new_score(self, doc_parts: dict[str, int], vbeta: float) -> float:
        s = math.log(self.params.alpha * max(self._docs, self.params.min_docs))
        pw = self._pweight
        for p, length in doc_parts.items():
            s += pw.get(p, 1.0) * (math.lgamma(vbeta) - math.lgamma(vbeta + length))
        return s

    def _scored(self, counts: dict[str, int]) -> dict[str, int]:
        """The document's tokens that enter the multinomial (watch-target tokens do not)."""
        prefix = self.params.exclusive_prefix
        if not prefix:
            return counts
        return {w: c for w, c in counts.items() if not w.startswith(prefix)}

    def _groups(self, counts: dict[str, int]) -> set[str]:
        prefix = self.params.exclusive_prefix
        return {w for w in counts if w.startswith(prefix)} if prefix else set()

    def best(
        self, counts: dict[str, int], vec_sum: tuple[np.ndarray | None, int] | None = None
    ) -> tuple[int | None, float, float]:
        """(best active cluster or None, its score, the new-cluster score); ``vec_sum`` is the
        document's word-vector sum when the caller has it.

        Same score as :meth:`_score`, computed in one pass over the inverted index (the hot path)."""
        groups = self._groups(counts)
        counts = self._scored(counts)
        doc_parts = self._doc_parts(counts)
        vbeta = self._vocab() * self.params.beta
        new = self._new_score(doc_parts, vbeta)
        beta = self.params.beta
        lnb = self._lnbr
        size = len(lnb)
        pw = self._pweight
        lg = math.lgamma
        bonus: dict[int, float] = {}
        get = bonus.get
        index = self._index
        big = self._scale
        scale_by_part = self._scale_by_part
        lnb_by_part = self._lnb_by_part
        log1p = math.log1p
        for w, c in counts.items():
            posting = index.get(w)
            if not posting:
                continue
            p = self.part_of(w)
            wt = pw.get(p, 1.0)
            tables = lnb_by_part.get(p)
            if c == 1 and wt == 1.0:
                if not tables:
                    for cid, n_zw in posting.items():
                        bonus[cid] = get(cid, 0.0) + (lnb[n_zw] if n_zw < size else log1p(n_zw / beta))
                    continue
                scales = scale_by_part[p]
                for cid, n_zw in posting.items():
                    if n_zw < size:
                        bonus[cid] = get(cid, 0.0) + tables.get(cid, lnb)[n_zw]
                    else:
                        bonus[cid] = get(cid, 0.0) + log1p(n_zw * scales.get(cid, 1.0) / beta)
            else:
                scales = scale_by_part.get(p) or {}
                for cid, n_zw in posting.items():
                    n = n_zw * scales.get(cid, 1.0) if scales else n_zw
                    b = lg(n + beta + c) - lg(n + beta) - lg(beta + c) + lg(beta)
                    bonus[cid] = get(cid, 0.0) + wt * b
        active = self.active
        tb = self.params.target_bonus
        dparts = [(p, length, pw.get(p, 1.0)) for p, length in doc_parts.items()]
        scores: dict[int, float] = {}
        for cid, b in bonus.items():
            st = active[cid]
            if st.closed or st.m <= 0:
                continue
            if groups and st.groups:
                if groups.isdisjoint(st.groups):
                    continue
                b += tb
            score = math.log(st.m) + b
            parts = st.parts
            scale = big.get(cid) if big else None
            for p, length, pwt in dparts:
                n_p = parts.get(p, 0) + vbeta
                if scale is not None and p in scale:
                    n_p = parts[p] * scale[p] + vbeta
                score += pwt * (lg(n_p) - lg(n_p + length))
            scores[cid] = score
        if self.vectors is not None and scores:
            self._add_vector_terms(scores, counts, vec_sum)
        best_id: int | None = None
        best_score = -math.inf
        for cid, score in scores.items():
            if score > best_score or (score == best_score and best_id is not None and cid < best_id):
                best_id, best_score = cid, score
        return best_id, best_score, new

    # -- word vectors -------------------------------------------------------------------------

    def _centre(self) -> np.ndarray:
        """The active set's mean word vector."""
        assert self._gvec is not None
        return np.asarray(self._gvec / self._gn, dtype=np.float32)

    def _doc_direction(
        self, counts: dict[str, int], vec_sum: tuple[np.ndarray | None, int] | None = None
    ) -> tuple[np.ndarray | None, float]:
        """(unit vector of the document's mean word vector minus the active mean, nats per cosine).

        None while fewer than ``vector_min_events`` active events have a vector: the active mean of a
        handful of events is mostly those events themselves, so every cosine would be noise (a second
        mention of the only English story would be pushed away from it)."""
        if self.vectors is None or len(self._means.slot) < self.params.vector_min_events or not self._gn:
            return None, 0.0
        vec, n = vec_sum or self.vectors.sum_vector(counts)
        if vec is None:
            return None, 0.0
        d = vec / n - self._centre()
        norm = float(np.linalg.norm(d))
        if norm <= 0:
            return None, 0.0
        return d / norm, self.params.vector_weight * math.sqrt(n / 8)

    def _cosines(self, means: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Cosines between ``d`` and each row of ``means`` minus the active mean."""
        centred = means - self._centre()
        norms = np.linalg.norm(centred, axis=1)
        return np.asarray(centred @ d / np.where(norms > 0, norms, 1.0), dtype=np.float64)

    def _add_vector_terms(
        self, scores: dict[int, float], counts: dict[str, int], vec_sum: tuple[np.ndarray | None, int] | None
    ) -> None:
        """Add the word-vector term to the scores that it could still lift to the top."""
        d, weight = self._doc_direction(counts, vec_sum)
        if d is None:
            return
        tau = self.params.vector_threshold
        # the term lies in [-weight * (1 + tau), weight * (1 - tau)]: it closes a gap by at most 2 * weight
        floor = max(scores.values()) - 2 * weight
        slot = self._means.slot
        ids = [cid for cid, sc in scores.items() if sc >= floor and cid in slot]
        if not ids:
            return
        cos = self._cosines(self._means.rows[[slot[cid] for cid in ids]], d)
        for cid, c in zip(ids, cos.tolist(), strict=True):
            scores[cid] += weight * (c - tau)

    def _vector_term(self, st: ClusterState, direction: tuple[np.ndarray | None, float]) -> float:
        """The term for one cluster, ``direction`` being the document's :meth:`_doc_direction`."""
        d, weight = direction
        if d is None or st.vec is None or st.vec_n <= 0:
            return 0.0
        return weight * (
            float(self._cosines((st.vec / st.vec_n)[None, :], d)[0]) - self.params.vector_threshold
        )

    def _best_dormant(
        self, counts: dict[str, int], new: float, vec_sum: tuple[np.ndarray | None, int] | None = None
    ) -> int | None:
        groups = self._groups(counts)
        counts = self._scored(counts)
        doc_parts = self._doc_parts(counts)
        vbeta = self._vocab() * self.params.beta
        direction = self._doc_direction(counts, vec_sum)
        cands: set[int] = set()
        for w in counts:
            ids = self._dormant_index.get(w)
            if ids:
                cands.update(ids)
        best_id, best_score = None, new
        for cid in sorted(cands):
            st = self.dormant[cid]
            if groups and st.groups and groups.isdisjoint(st.groups):
                continue
            ov = [(w, st.counts[w], c) for w, c in counts.items() if w in st.counts]
            sc = self._score(max(st.m, 1), st.parts, ov, doc_parts, vbeta) + self._vector_term(st, direction)
            if groups and st.groups:
                sc += self.params.target_bonus
            if sc > best_score:
                best_id, best_score = cid, sc
        return best_id

    def choose(self, doc: Doc) -> int | None:
        """The cluster a document should join, or None when it opens a new one (no state change)."""
        self._last_margin = None
        counts = self._doc_counts(doc.tokens)
        vec_sum = self.vectors.sum_vector(counts) if self.vectors is not None else None
        self._last_sum = (doc.key, vec_sum) if vec_sum is not None else None
        if doc.duplicate_of is not None:
            orig = self._doc_cluster.get(doc.duplicate_of)
            if orig is not None and (orig in self.active or orig in self.dormant):
                return orig
        if not counts:
            return None
        best_id, best_score, new = self.best(counts, vec_sum)
        if best_id is not None and best_score > new:
            self._last_margin = (doc.key, best_score - new)
            return best_id
        if self.dormant:
            woken = self._best_dormant(counts, new, vec_sum)
            if woken is not None:
                return woken
        if best_id is not None:
            self._last_margin = (doc.key, new - best_score)
        return None

    def place(self, doc: Doc, cluster_id: int) -> None:
        """Add a document to a cluster (existing, dormant or brand new)."""
        state = self.active.get(cluster_id) or self._wake(cluster_id)
        if state is None:
            self._evict_oldest()
            state = ClusterState(cluster_id)
            self.active[cluster_id] = state
            self._next_id = max(self._next_id, cluster_id + 1)
        chosen, self._last_sum = self._last_sum, None
        vec_sum = chosen[1] if chosen is not None and chosen[0] == doc.key else None
        self._add_counts(state, self._doc_counts(doc.tokens), 1, vec_sum)
        if doc.time is not None and (state.last_seen is None or doc.time > state.last_seen):
            state.last_seen = doc.time
        self.remember_doc(doc.key, cluster_id)
        last, self._last_margin = self._last_margin, None
        if self.params.refine_margin <= 0 or len(self._touched) >= 100_000:
            return  # refinement off, or never called: keep nothing
        self._seq += 1
        self._touched[cluster_id] = self._seq
        if doc.duplicate_of is not None:
            self._dup_of.add(doc.duplicate_of)
        elif last is not None and last[0] == doc.key and last[1] < self.params.refine_margin:
            self._unsure.append((doc, self._seq))

    def refine(self) -> Refinement:
        """Re-check the close placements made since the last call (the end of a batch).

        Each such document, in arrival order, is taken out of its cluster and scored again against
        its own cluster, a new cluster and the clusters that received documents after it (the
        others are as they were when it lost to its own cluster); it moves when one of those beats
        staying and a new cluster (it never opens a new cluster or wakes a dormant one here). A
        document alone in its cluster and the originals of near-duplicates placed in the same span
        stay put, so no cluster is left empty and duplicates stay with their original. Deterministic."""
        out = Refinement()
        unsure = list(self._unsure)
        self._unsure.clear()
        keep, self._dup_of = self._dup_of, set()
        touched, self._touched = self._touched, {}
        for doc, seq in unsure:
            if doc.key in keep:
                continue
            cid = self._doc_cluster.get(doc.key)
            state = self.active.get(cid) if cid is not None else None
            if cid is None or state is None or state.closed or state.m <= 1:
                continue  # a document alone in its cluster stays: a new cluster is never dissolved
            later = [c for c, at in touched.items() if at > seq and c != cid and c in self.active]
            if not later:
                continue
            counts = self._doc_counts(doc.tokens)
            self._remove_counts(state, counts, 1)
            groups = self._groups(counts)
            scored = self._scored(counts)
            doc_parts = self._doc_parts(scored)
            vbeta = self._vocab() * self.params.beta
            direction = self._doc_direction(scored)
            best_id: int | None = None
            best_score = self._new_score(doc_parts, vbeta)
            stay = self._score_one(state, scored, groups, doc_parts, vbeta, direction)
            if stay is not None and stay >= best_score:
                best_score = stay
            for other in later:
                sc = self._score_one(self.active[other], scored, groups, doc_parts, vbeta, direction)
                if sc is not None and sc > best_score:
                    best_id, best_score = other, sc
            if best_id is None:
                self._add_counts(state, counts, 1)
                continue
            target = self.active[best_id]
            self._add_counts(target, counts, 1)
            if doc.time is not None and (target.last_seen is None or doc.time > target.last_seen):
                target.last_seen = doc.time
            self.remember_doc(doc.key, best_id)
            self._seq += 1
            touched[best_id] = self._seq
            out.moves[doc.key] = best_id
        return out

    def _score_one(
        self,
        st: ClusterState,
        scored: dict[str, int],
        groups: set[str],
        doc_parts: dict[str, int],
        vbeta: float,
        direction: tuple[np.ndarray | None, float],
    ) -> float | None:
        """The score :meth:`best` gives cluster ``st`` (None when best() would not consider it);
        ``direction`` is the document's :meth:`_doc_direction`, computed once per document."""
        if st.closed or st.m <= 0:
            return None
        bonus = 0.0
        if groups and st.groups:
            if groups.isdisjoint(st.groups):
                return None
            bonus = self.params.target_bonus
        ov = [(w, n, c) for w, c in scored.items() if (n := st.counts.get(w, 0)) > 0]
        if not ov:
            return None
        return self._score(st.m, st.parts, ov, doc_parts, vbeta) + bonus + self._vector_term(st, direction)

    def assign(self, doc: Doc) -> tuple[int, bool]:
        """Place one document; returns (cluster id, created)."""
        target = self.choose(doc)
        created = target is None
        cid = self.new_cluster_id() if target is None else target
        self.place(doc, cid)
        return cid, created

    def run(self, docs: Iterable[Doc], batch: int = 100) -> list[int]:
        """Cluster a stream in batches of ``batch`` documents (each refined at its end, as the
        service does); returns the final cluster id of each document in order."""
        out: list[int] = []
        keys: list[int] = []
        start = 0
        for doc in docs:
            if doc.time is not None:
                self.expire(doc.time)
            out.append(self.assign(doc)[0])
            keys.append(doc.key)
            if len(out) - start >= batch:
                self._apply(self.refine(), keys, out, start)
                start = len(out)
        if len(out) > start:
            self._apply(self.refine(), keys, out, start)
        return out

    @staticmethod
    def _apply(refined: Refinement, keys: list[int], out: list[int], start: int) -> None:
        if refined.moves:
            for i in range(start, len(out)):
                moved = refined.moves.get(keys[i])
                if moved is not None:
                    out[i] = moved
