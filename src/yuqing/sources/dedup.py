"""Duplicate detection: exact keys and near-duplicate grouping with MinHash + LSH.

Exact duplicates (not stored again): the same ``(source, external_id)``, the same canonical URL,
or the same content hash from the same source and author when neither carries a different
vendor id or URL (see :func:`exact_keys`).

Near duplicates (stored, linked to their original): a repost or lightly edited copy whose
estimated Jaccard similarity over character shingles of its *dedup key* reaches the threshold.
The dedup key (:func:`dedup_key`) strips repost chains (``转发微博``, ``//@某某:``, ``RT @x:``,
``回复@x:``), URLs, punctuation, symbols, emoji and whitespace, and folds case, so that those
edits do not lower similarity. Shingles are ``k``-grams of the key (default 3); a key shorter
than ``min_chars`` is never near-deduplicated (boilerplate such as "转发微博" alone).

:class:`NearDupIndex` is in-memory and bounded: at most ``max_items`` signatures, and only those
whose time lies within ``window`` of the newest one; the oldest are evicted first. The service
rebuilds it from recent mentions at start. A copy always links to the *root* of its group (the
first item), never to another copy.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH

_REPOST = re.compile(
    r"(?:转发微博|轉發微博|repost|//\s*@[^:：\s]{1,40}\s*[:：]|回复\s*@[^:：\s]{1,40}\s*[:：]|\bRT\s+@\w{1,40}\s*:?)",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def strip_links(text: str) -> str:
    """The text without URLs and repost markers (``//@user:``, ``回复@user:``, ``RT @user:``, 转发微博):
    they say where a post came from, not what it says (a shared t.co link is not a shared topic)."""
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text or "转发" in text or "轉發" in text or "epost" in text or "EPOST" in text:
        text = _REPOST.sub(" ", text)  # every marker has one of these
    return text


def dedup_key(text: str) -> str:
    """The normalised string shingled for near-duplicate detection."""
    return _NON_WORD.sub("", strip_links(text)).casefold()


def shingles(key: str, k: int = 3) -> set[bytes]:
    if len(key) <= k:
        return {key.encode("utf-8", "surrogatepass")} if key else set()
    return {key[i : i + k].encode("utf-8", "surrogatepass") for i in range(len(key) - k + 1)}


_P = np.uint64(1_000_003)
_CHUNK = 16  # documents per vectorised block (keeps the temporary matrix in cache)


def _window_hashes(cps: np.ndarray, k: int) -> np.ndarray:
    """Finalised 32-bit hashes of every ``k``-window of a code-point array (``uint64``)."""
    n = max(cps.size - k + 1, 0)
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        h = h * _P + cps[j : j + n] + np.uint64(1)
    # fold to 32 bits and finalise (murmur3 fmix32) once per shingle; the per-permutation
    # hashing below then needs only one multiply-add in fast 32-bit arithmetic
    x = ((h ^ (h >> np.uint64(29))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return x


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def shingle_hashes(key: str, k: int = 3) -> np.ndarray:
    """64-bit polynomial hashes of the ``k``-character shingles of ``key`` (repeats allowed)."""
    cps = _code_points(key)
    return _window_hashes(cps, min(k, max(int(cps.size), 1)))


def shingle_hashes_many(keys: list[str], k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shingle_hashes` of many keys, concatenated, and the count per key.

    One pass over the joined keys; the windows that straddle two keys are dropped. Keys shorter
    than ``k`` are hashed one by one (their single shingle is the whole key).
    """
    lengths = np.fromiter((len(key) for key in keys), dtype=np.int64, count=len(keys))
    if lengths.size == 0 or int(lengths.min()) < k:
        parts = [shingle_hashes(key, k) for key in keys]
        counts = np.fromiter((p.size for p in parts), dtype=np.int64, count=len(parts))
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)), counts
    hashes = _window_hashes(_code_points("".join(keys)), k)
    if k > 1 and len(keys) > 1:
        # window starts in the last k-1 positions of every key but the final one straddle a boundary
        ends = np.cumsum(lengths)[:-1]
        straddling = (ends[:, None] - np.arange(k - 1, 0, -1)[None, :]).ravel()
        hashes = np.delete(hashes, straddling)
    return hashes, lengths - (k - 1)


class Signature:
    """A MinHash signature (one 32-bit minimum per permutation)."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: np.ndarray) -> None:
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)

    def jaccard(self, other: Signature) -> float:
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)


@dataclass(frozen=True)
class ExactKeys:
    source_external: tuple[int, str] | None
    canonical_url: str | None
    content: tuple[int, str, str] | None  # (source_id, author, content hash)


def exact_keys(
    source_id: int, external_id: str | None, canonical_url: str | None, author: str | None, chash: str
) -> ExactKeys:
    """The keys under which an item is an exact duplicate of an earlier one.

    The content key applies only to items without their own vendor id or URL: two items with
    different ids or URLs and the same text are separate posts (e.g. identical complaints), which
    near-duplicate grouping may still fold.
    """
    content = (source_id, author or "", chash) if external_id is None and canonical_url is None else None
    return ExactKeys(
        source_external=(source_id, external_id) if external_id is not None else None,
        canonical_url=canonical_url,
        content=content,
    )


@lru_cache(maxsize=32)
def band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` of the LSH for a threshold: datasketch's choice for ``MinHashLSH``, which
    minimises the summed false-positive and false-negative probability mass."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


@dataclass(frozen=True)
class NearMatch:
    root_slot: int
    root_mention_id: int | None
    similarity: float


class NearDupIndex:
    """Bounded MinHash-LSH index of recent items; keys are internal slot numbers.

    Banded LSH: a signature is cut into ``bands`` bands of ``rows`` values (see
    :func:`band_params`); an indexed item is a candidate when one of its bands equals the query's,
    and a candidate matches when its estimated Jaccard similarity reaches the threshold. The state
    lives in flat dicts of values the garbage collector does not track (ints, bytes, numpy arrays,
    datetimes, tuples of ints), so that even a large index adds nothing to collection pauses.
    """

    def __init__(
        self,
        threshold: float = 0.7,
        num_perm: int = 64,
        k: int = 3,
        min_chars: int = 20,
        max_items: int = 100_000,
        window: timedelta = timedelta(days=7),
    ) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.k = k
        self.min_chars = min_chars
        self.max_items = max_items
        self.window = window
        self.bands, self.rows = band_params(threshold, num_perm)
        rng = np.random.default_rng(20260105)
        self._a = rng.integers(0, 2**31, size=num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint32)
        # per band: band bytes -> slots having them
        self._tables: list[dict[bytes, tuple[int, ...]]] = [{} for _ in range(self.bands)]
        # per slot: signature values, the group's root slot, the mention id (once stored), the time
        self._sig: dict[int, np.ndarray] = {}
        self._root: dict[int, int] = {}
        self._mention: dict[int, int | None] = {}
        self._at: dict[int, datetime] = {}
        self._order: collections.deque[int] = collections.deque()
        self._next = 0
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._sig)

    def signature(self, text: str) -> Signature | None:
        key = dedup_key(text)
        if len(key) < self.min_chars:
            return None
        return self.signature_of_key(key)

    def signature_of_key(self, key: str) -> Signature:
        return self.signatures_of_keys([key])[0]

    def signatures(self, texts: list[str]) -> list[Signature | None]:
        """Signatures of many texts at once (vectorised); ``None`` for texts too short to compare."""
        out: list[Signature | None] = [None] * len(texts)
        todo: list[int] = []
        keys: list[str] = []
        for i, text in enumerate(texts):
            key = dedup_key(text)
            if len(key) >= self.min_chars:
                todo.append(i)
                keys.append(key)
        for i, sig in zip(todo, self.signatures_of_keys(keys), strict=True):
            out[i] = sig
        return out

    def signatures_of_keys(self, keys: list[str]) -> list[Signature]:
        """Signatures of dedup keys, in order."""
        hashes, counts = shingle_hashes_many(keys, self.k)
        ends = np.cumsum(counts)
        out: list[Signature] = []
        for start in range(0, len(keys), _CHUNK):
            stop = min(start + _CHUNK, len(keys))
            lo = int(ends[start - 1]) if start else 0
            out.extend(self._signatures(hashes[lo : int(ends[stop - 1])], counts[start:stop]))
        return out

    def _signatures(self, flat: np.ndarray, lengths: np.ndarray) -> list[Signature]:
        # One bijective 32-bit affine map per permutation (random odd multiplier, random offset)
        # over the finalised shingle hashes; the minimum per document via reduceat.
        values = self._a[:, None] * flat[None, :]  # (num_perm, shingles): rows stay contiguous
        values += self._b[:, None]
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        mins = np.ascontiguousarray(np.minimum.reduceat(values, starts, axis=1).T)
        return [Signature(row) for row in mins]

    def _band_keys(self, values: np.ndarray) -> list[bytes]:
        raw = values.tobytes()
        width = self.rows * values.itemsize
        return [raw[i * width : (i + 1) * width] for i in range(self.bands)]

    def _candidates(self, values: np.ndarray) -> set[int]:
        found: set[int] = set()
        for table, key in zip(self._tables, self._band_keys(values), strict=True):
            bucket = table.get(key)
            if bucket is not None:
                found.update(bucket)
        return found

    def find(self, sig: Signature) -> NearMatch | None:
        """The best match at or above the threshold, resolved to its group's root."""
        values = sig.hashvalues
        best: tuple[float, int] | None = None
        for slot_no in self._candidates(values):
            root = self._root.get(slot_no)
            if root is None or root not in self._root:
                continue  # gone, or a copy whose original left the window: not linkable
            sim = float(np.count_nonzero(values == self._sig[slot_no])) / len(values)
            if sim >= self.threshold and (
                best is None or sim > best[0] or (sim == best[0] and slot_no < best[1])
            ):
                best = (sim, slot_no)
        if best is None:
            return None
        root = self._root[best[1]]
        return NearMatch(root, self._mention[root], best[0])

    def add(
        self, sig: Signature, at: datetime, root: int | None = None, mention_id: int | None = None
    ) -> int:
        values = sig.hashvalues
        if len(values) != self.num_perm:
            raise ValueError(f"expecting a signature of {self.num_perm} values, got {len(values)}")
        slot_no = self._next
        self._next += 1
        self._sig[slot_no] = values
        self._root[slot_no] = slot_no if root is None else root
        self._mention[slot_no] = mention_id
        self._at[slot_no] = at
        self._order.append(slot_no)
        for table, key in zip(self._tables, self._band_keys(values), strict=True):
            bucket = table.get(key)
            table[key] = (slot_no,) if bucket is None else (*bucket, slot_no)
        if self._newest is None or at > self._newest:
            self._newest = at
        self._evict()
        return slot_no

    def bind(self, slot_no: int, mention_id: int) -> None:
        if slot_no in self._mention:
            self._mention[slot_no] = mention_id

    def mention_id(self, slot_no: int) -> int | None:
        return self._mention.get(slot_no)

    def discard(self, slot_nos: Iterable[int]) -> None:
        for slot_no in slot_nos:
            values = self._sig.pop(slot_no, None)
            if values is None:
                continue
            del self._root[slot_no], self._mention[slot_no], self._at[slot_no]
            for table, key in zip(self._tables, self._band_keys(values), strict=True):
                rest = tuple(s for s in table.get(key, ()) if s != slot_no)
                if rest:
                    table[key] = rest
                else:
                    table.pop(key, None)

    def _evict(self) -> None:
        horizon = self._newest - self.window if self._newest else None
        while self._order:
            head = self._order[0]
            at = self._at.get(head)
            if at is None:
                self._order.popleft()
                continue
            if len(self._sig) > self.max_items or (horizon is not None and at < horizon):
                self._order.popleft()
                self.discard([head])
                continue
            break
