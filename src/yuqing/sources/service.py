"""The ingest service: raw payloads in, deduplicated mentions out, failures to quarantine.

Flow of :func:`ingest_payloads`: every payload is stored as a ``RawItem`` (bytes as received,
SHA-256, size, headers) and committed *before* it is parsed; ``connector.parse`` turns it into
item drafts; each draft is normalised (:func:`normalise_draft`); drafts are deduplicated and
inserted in batches of ``settings.ingest.batch_size`` (one transaction and a handful of queries
per batch); ``MENTIONS_INGESTED`` is published for every stored mention, near-duplicates
included. Whole-payload and per-item failures land in ``Quarantine`` and never reach the caller.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from yuqing.core.bus import MENTIONS_INGESTED
from yuqing.core.context import AppContext
from yuqing.errors import ConfigError, ParseError, ValidationError, YuqingError
from yuqing.sources.base import Connector, ItemDraft, ItemError, RawPayload
from yuqing.sources.dedup import NearDupIndex, Signature, exact_keys
from yuqing.sources.models import SOURCE_TIERS, Mention, Quarantine, RawItem, Source, Target
from yuqing.sources.normalise import clean_text, content_hash, guess_lang
from yuqing.sources.timeparse import TimeParseError, parse_published
from yuqing.sources.urls import canonicalise

log = logging.getLogger(__name__)

INDEX_KEY = "sources.near_dup_index"
LOCK_KEY = "sources.ingest_lock"
MAX_TITLE = 2000
MAX_TEXT = 200_000
MAX_URL = 2000
_IN_CHUNK = 900  # bound of an IN (...) list
MENTIONS = cast(Table, Mention.__table__)
SOURCES = cast(Table, Source.__table__)
QUARANTINE = cast(Table, Quarantine.__table__)


# --- results ------------------------------------------------------------------------------------


@dataclass
class ItemOutcome:
    """What became of one draft: ``accepted`` (new or near-duplicate), ``duplicate`` or ``rejected``."""

    status: str
    mention_id: int | None = None
    duplicate_of_id: int | None = None
    code: str | None = None
    message: str | None = None


@dataclass
class IngestReport:
    raw_items: int = 0
    new: int = 0
    exact_dupes: int = 0
    near_dupes: int = 0
    quarantined: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def merge(self, other: IngestReport) -> IngestReport:
        self.raw_items += other.raw_items
        self.new += other.new
        self.exact_dupes += other.exact_dupes
        self.near_dupes += other.near_dupes
        self.quarantined += other.quarantined
        self.mention_ids.extend(other.mention_ids)
        return self

    def counts(self) -> dict[str, int]:
        return {
            "raw_items": self.raw_items,
            "new": self.new,
            "exact_dupes": self.exact_dupes,
            "near_dupes": self.near_dupes,
            "quarantined": self.quarantined,
        }


# --- normalisation of one draft -------------------------------------------------------------------

_COUNT = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([万亿kKmMwW千]?)\s*\+?\s*$")
_COUNT_UNITS = {
    "": 1,
    "千": 1_000,
    "k": 1_000,
    "K": 1_000,
    "万": 10_000,
    "w": 10_000,
    "W": 10_000,
    "m": 1_000_000,
    "M": 1_000_000,
    "亿": 100_000_000,
}
MAX_COUNT = 10**15


def parse_count(value: Any) -> int:
    """Follower / engagement counts: ints, floats, "1,234", "1.2万", "3k", "10w+"; anything else 0."""
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return min(max(value, 0), MAX_COUNT)
    if isinstance(value, float):
        return 0 if not math.isfinite(value) else min(max(int(value), 0), MAX_COUNT)
    m = _COUNT.match(str(value))
    if not m:
        return 0
    number = float(m.group(1).replace(",", "")) * _COUNT_UNITS[m.group(2)]
    return min(int(number), MAX_COUNT) if math.isfinite(number) else 0


_SCALARS = frozenset({str, int, bool, type(None)})


def _flat(value: dict[Any, Any]) -> bool:
    for k, v in value.items():
        if type(k) is not str:
            return False
        t = type(v)
        if t not in _SCALARS and not (t is float and math.isfinite(v)):
            return False
    return True


def json_safe(value: Any) -> Any:
    """Plain JSON data (str for anything else), so ``extra`` always stores."""
    if type(value) is dict and _flat(value):
        return dict(value)  # the common case: a flat dict of scalars
    return json.loads(json.dumps(value, ensure_ascii=False, default=str), parse_constant=lambda _c: None)


def _opt_str(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = clean_text(str(value)) if not isinstance(value, str) else value.strip()
    return text[:limit] or None


@dataclass
class Record:
    """A normalised draft ready for dedup and insert."""

    row: dict[str, Any]
    raw_item_id: int | None
    draft: ItemDraft


def normalise_draft(
    draft: ItemDraft, source: Source, now: datetime, tz: str, raw_item_id: int | None = None
) -> Record:
    """Clean, parse and hash one draft; raises :class:`ItemError` when nothing usable is left."""
    title = clean_text(draft.title or "")[:MAX_TITLE]
    text = clean_text(draft.text or "")[:MAX_TEXT]
    if not title and not text:
        raise ItemError("empty_item", "标题和正文都为空 / item has neither title nor text")
    extra: dict[str, Any] = json_safe(draft.extra) if draft.extra else {}
    url = draft.url.strip()[:MAX_URL] if isinstance(draft.url, str) and draft.url.strip() else None
    canonical = canonicalise(url) if url else None
    if canonical is not None and len(canonical) > MAX_URL:
        canonical = None
    if draft.published is None or draft.published == "":
        published = now
        extra["published_missing"] = True
    else:
        try:
            published = parse_published(draft.published, now, tz)
        except TimeParseError as exc:
            published = now
            extra["published_raw"] = str(draft.published)[:200]
            extra["published_error"] = str(exc)[:200]
    external_id = _opt_str(draft.external_id, 300) if draft.external_id is not None else None
    author = _opt_str(draft.author, 300)
    platform = (draft.platform or source.platform or "web")[:100]
    lang = (draft.lang or guess_lang(f"{title}\n{text}"))[:10]
    row = {
        "source_id": source.id,
        "raw_item_id": raw_item_id,
        "external_id": external_id,
        "platform": platform,
        "url": url,
        "canonical_url": canonical,
        "title": title,
        "text": text,
        "author": author,
        "author_followers": parse_count(draft.author_followers),
        "published_at": published,
        "ingested_at": now,
        "reposts": parse_count(draft.reposts),
        "comments": parse_count(draft.comments),
        "likes": parse_count(draft.likes),
        "views": parse_count(draft.views),
        "lang": lang,
        "content_hash": content_hash(title, text),
        "duplicate_of_id": None,
        "dup_similarity": None,
        "dup_count": 0,
        "dup_reach": 0,
        "extra": extra,
    }
    return Record(row=row, raw_item_id=raw_item_id, draft=draft)


def reach_of(row: dict[str, Any]) -> int:
    """What a copy adds to its original's reach: the copier's followers plus its engagement."""
    return int(row["author_followers"] + row["reposts"] + row["comments"] + row["likes"])


def draft_payload(draft: ItemDraft) -> dict[str, Any]:
    data = dataclasses.asdict(draft)
    if isinstance(draft.published, datetime):
        data["published"] = draft.published.isoformat()
    return dict(json_safe(data))


def draft_from_payload(data: dict[str, Any]) -> ItemDraft:
    names = {f.name for f in dataclasses.fields(ItemDraft)}
    return ItemDraft(**{k: v for k, v in data.items() if k in names})


# --- sources, targets, connectors -------------------------------------------------------------------


def ensure_source(ctx: AppContext, name: str, kind: str, **fields: Any) -> Source:
    """The source called ``name``, created with ``fields`` when missing (existing ones are kept)."""
    tier = fields.get("tier")
    if tier is not None and tier not in SOURCE_TIERS:
        raise ValidationError(
            f"未知信源等级 / unknown source tier '{tier}' (known: {', '.join(SOURCE_TIERS)})"
        )
    with ctx.db.session() as s:
        found = s.scalar(select(Source).where(Source.name == name))
        if found is not None:
            return found
        source = Source(
            name=name,
            kind=kind,
            created_at=ctx.clock.now(),
            config=fields.pop("config", None) or {},
            **{k: v for k, v in fields.items() if v is not None},
        )
        s.add(source)
        try:
            s.flush()
        except IntegrityError:  # created concurrently
            s.rollback()
            found = s.scalar(select(Source).where(Source.name == name))
            if found is None:
                raise
            return found
        return source


def get_source(ctx: AppContext, name_or_id: str | int) -> Source:
    from yuqing.errors import NotFound

    with ctx.db.session() as s:
        if isinstance(name_or_id, int) or str(name_or_id).isdigit():
            source = s.get(Source, int(name_or_id))
        else:
            source = s.scalar(select(Source).where(Source.name == str(name_or_id)))
    if source is None:
        raise NotFound(f"信源不存在 / no such source: {name_or_id}")
    return source


def add_target(
    ctx: AppContext,
    name: str,
    *,
    kind: str = "organisation",
    aliases: Sequence[str] = (),
    executives: Sequence[str] = (),
    products: Sequence[str] = (),
    rule: str | None = None,
    exclude: Sequence[str] = (),
    is_own: bool = True,
) -> Target:
    """Create (or update, by name) a watch target."""
    with ctx.db.session() as s:
        target = s.scalar(select(Target).where(Target.name == name))
        if target is None:
            target = Target(name=name, created_at=ctx.clock.now())
            s.add(target)
        target.kind = kind
        target.aliases = list(aliases)
        target.executives = list(executives)
        target.products = list(products)
        target.rule = rule
        target.exclude = list(exclude)
        target.is_own = is_own
        target.enabled = True
        s.flush()
        return target


def get_connector(kind: str) -> Connector:
    from yuqing.core.plugins import CONNECTORS, load

    factory = load(CONNECTORS, kind)
    connector = factory() if isinstance(factory, type) else factory
    if not isinstance(connector, Connector):
        raise ConfigError(f"插件不是连接器 / plugin '{kind}' does not implement Connector")
    return connector


# --- raw items and quarantine ----------------------------------------------------------------------


def store_raw(ctx: AppContext, source: Source | None, payload: RawPayload) -> int:
    """Store one payload exactly as received (its own transaction) and return the RawItem id."""
    body = payload.body if isinstance(payload.body, bytes) else bytes(payload.body or b"")
    with ctx.db.session() as s:
        raw = RawItem(
            source_id=source.id if source is not None else None,
            received_at=ctx.clock.now(),
            url=payload.url,
            content_type=(payload.content_type or "")[:200] or None,
            encoding=(payload.encoding or "")[:50] or None,
            http_status=payload.http_status,
            headers=json_safe(dict(payload.headers)) if payload.headers else None,
            body=body,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            status="new",
        )
        s.add(raw)
        s.flush()
        return int(raw.id)


def _set_raw_status(ctx: AppContext, raw_item_id: int, status: str) -> None:
    with ctx.db.session() as s:
        s.execute(update(RawItem).where(RawItem.id == raw_item_id).values(status=status))


def quarantine(
    ctx: AppContext,
    *,
    stage: str,
    reason: str,
    error: str,
    source_id: int | None = None,
    raw_item_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    with ctx.db.session() as s:
        q = Quarantine(
            source_id=source_id,
            raw_item_id=raw_item_id,
            stage=stage[:50],
            reason=reason[:100],
            error=error[:10_000],
            payload=json_safe(payload) if payload is not None else None,
            created_at=ctx.clock.now(),
            status="open",
            attempts=0,
        )
        s.add(q)
        s.flush()
        return int(q.id)


def _quarantine_many(ctx: AppContext, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = ctx.clock.now()
    for r in rows:
        r.setdefault("created_at", now)
        r.setdefault("status", "open")
        r.setdefault("attempts", 0)
        r.setdefault("raw_item_id", None)
        r.setdefault("source_id", None)
        r.setdefault("payload", None)
        r["error"] = str(r["error"])[:10_000]
        if r["payload"] is not None:
            r["payload"] = json_safe(r["payload"])
    with ctx.db.engine.begin() as conn:
        conn.execute(insert(QUARANTINE), rows)


def error_reason(exc: BaseException) -> str:
    if isinstance(exc, ItemError):
        return exc.reason
    if isinstance(exc, YuqingError):
        return exc.code
    return type(exc).__name__.lower()


# --- garbage collection during batches -------------------------------------------------------


_gc_guard = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic garbage collection paused for one batch (re-entrant, thread-safe).

    A batch allocates thousands of short-lived containers (drafts, rows, parameters) that
    reference counting frees when the batch ends. Collections in the middle of a batch would only
    traverse them and promote them to older generations, which in turn triggers full collections
    of the whole heap. Cyclic garbage made during the batch is collected after it.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_guard:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_guard:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


# --- the near-duplicate index ------------------------------------------------------------------------


def _lock(ctx: AppContext) -> threading.Lock:
    lock = ctx.extras.get(LOCK_KEY)
    if lock is None:
        lock = ctx.extras.setdefault(LOCK_KEY, threading.Lock())
    return lock


def near_dup_index(ctx: AppContext) -> NearDupIndex:
    """The context's index, rebuilt from recent mentions on first use (bounded window and size)."""
    index = ctx.extras.get(INDEX_KEY)
    if index is None:
        index = rebuild_index(ctx)
        ctx.extras[INDEX_KEY] = index
    return index


def rebuild_index(ctx: AppContext) -> NearDupIndex:
    cfg = ctx.settings.ingest
    index = NearDupIndex(
        threshold=cfg.near_dup_threshold,
        num_perm=cfg.near_dup_num_perm,
        k=cfg.near_dup_shingle,
        min_chars=cfg.near_dup_min_chars,
        max_items=cfg.near_dup_max_items,
        window=timedelta(days=cfg.near_dup_window_days),
    )
    since = ctx.clock.now() - index.window
    with ctx.db.session() as s:
        newest = s.execute(
            select(Mention.id, Mention.duplicate_of_id, Mention.title, Mention.text, Mention.ingested_at)
            .where(Mention.ingested_at >= since)
            .order_by(Mention.id.desc())
            .limit(index.max_items)
        ).all()
    rows = list(reversed(newest))
    slot_of: dict[int, int] = {}
    step = 2000
    for start in range(0, len(rows), step):
        block = rows[start : start + step]
        sigs = index.signatures([f"{title}\n{text}" for _, _, title, text, _ in block])
        for (mid, dup_of, _, _, at), sig in zip(block, sigs, strict=True):
            if sig is None:
                continue
            root = slot_of.get(dup_of) if dup_of is not None else None
            if dup_of is not None and root is None:
                continue  # a copy whose original is outside the window: never link to a copy
            slot_of[mid] = index.add(sig, at, root=root, mention_id=mid)
    log.info("near-dup index rebuilt with %d mentions", len(index))
    return index


# --- dedup and insert ------------------------------------------------------------------------------


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _existing(
    conn: Connection, source_id: int, records: list[Record]
) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    ext_ids = sorted({r.row["external_id"] for r in records if r.row["external_id"] is not None})
    urls = sorted({r.row["canonical_url"] for r in records if r.row["canonical_url"] is not None})
    hashes = sorted(
        {
            r.row["content_hash"]
            for r in records
            if r.row["external_id"] is None and r.row["canonical_url"] is None
        }
    )
    t = MENTIONS.c
    seen_ext: set[str] = set()
    seen_url: set[str] = set()
    seen_content: set[tuple[str, str]] = set()
    for part in _chunks(ext_ids):
        seen_ext.update(
            conn.execute(
                select(t.external_id).where(t.source_id == source_id, t.external_id.in_(part))
            ).scalars()
        )
    for part in _chunks(urls):
        seen_url.update(conn.execute(select(t.canonical_url).where(t.canonical_url.in_(part))).scalars())
    for part in _chunks(hashes):
        for author, chash in conn.execute(
            select(t.author, t.content_hash).where(
                t.source_id == source_id,
                t.content_hash.in_(part),
                t.external_id.is_(None),
                t.canonical_url.is_(None),
            )
        ):
            seen_content.add((author or "", chash))
    return seen_ext, seen_url, seen_content


_BindProcessor = Callable[[Any], Any]


@lru_cache(maxsize=8)
def _dbapi_insert(
    dialect: Dialect, keys: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[_BindProcessor | None, ...]]:
    """The mentions INSERT of ``keys`` as DBAPI SQL, its parameter order, and each parameter's
    bind processor (the dialect's own: what ``conn.execute(insert(...), rows)`` would apply)."""
    compiled = insert(MENTIONS).compile(dialect=dialect, column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        raise RuntimeError(f"unexpected INSERT parameters {order}")
    processors = tuple(MENTIONS.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in order)
    return compiled.string, order, processors


def _executemany_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(insert(MENTIONS), rows)`` with the parameters prepared in one pass.

    Same SQL and the same bind processing, minus SQLAlchemy's per-row parameter bookkeeping,
    which is a large share of a bulk insert's CPU time. Rows must share their keys.
    """
    sql, order, processors = _dbapi_insert(conn.dialect, tuple(rows[0]))
    steps = tuple(zip(order, processors, strict=True))
    params = [tuple([row[k] if proc is None else proc(row[k]) for k, proc in steps]) for row in rows]
    conn.exec_driver_sql(sql, params)


def _insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (one executemany) and return their ids in order."""
    if conn.dialect.name == "sqlite":
        # SQLite has one writer and this transaction holds the write lock: rowids of one
        # executemany are consecutive after the current maximum. (RETURNING with a guaranteed
        # parameter order would fall back to one statement per row here.)
        _executemany_rows(conn, rows)
        last = int(conn.execute(select(func.max(MENTIONS.c.id))).scalar_one())
        return list(range(last - len(rows) + 1, last + 1))
    result = conn.execute(insert(MENTIONS).returning(MENTIONS.c.id, sort_by_parameter_order=True), rows)
    return [int(r[0]) for r in result]


def _store_batch(
    ctx: AppContext, source: Source, records: list[Record], near_dup: bool
) -> tuple[list[ItemOutcome], list[int]]:
    """Dedup and insert one batch in one transaction; returns outcomes (in order) and new ids."""
    index = near_dup_index(ctx) if near_dup else None
    outcomes: list[ItemOutcome | None] = [None] * len(records)
    new_slots: list[int] = []
    table = MENTIONS
    try:
        with ctx.db.engine.begin() as conn:
            seen_ext, seen_url, seen_content = _existing(conn, source.id, records)
            keep: list[int] = []
            for i, rec in enumerate(records):
                row = rec.row
                keys = exact_keys(
                    source.id, row["external_id"], row["canonical_url"], row["author"], row["content_hash"]
                )
                if (
                    (keys.source_external is not None and keys.source_external[1] in seen_ext)
                    or (keys.canonical_url is not None and keys.canonical_url in seen_url)
                    or (keys.content is not None and (keys.content[1], keys.content[2]) in seen_content)
                ):
                    outcomes[i] = ItemOutcome(
                        "duplicate", code="duplicate", message="已存在 / already ingested"
                    )
                    continue
                if keys.source_external is not None:
                    seen_ext.add(keys.source_external[1])
                if keys.canonical_url is not None:
                    seen_url.add(keys.canonical_url)
                if keys.content is not None:
                    seen_content.add((keys.content[1], keys.content[2]))
                keep.append(i)
            # near-duplicates, in order, against the index (which includes this batch's earlier items)
            slot_of: dict[int, int] = {}
            root_slot_of: dict[int, int] = {}  # record index -> root slot (copies only)
            if index is not None and keep:
                sigs: list[Signature | None] = index.signatures(
                    [f"{records[i].row['title']}\n{records[i].row['text']}" for i in keep]
                )
                for i, sig in zip(keep, sigs, strict=True):
                    if sig is None:
                        continue
                    at = records[i].row["ingested_at"]
                    match = index.find(sig)
                    if match is None:
                        slot_of[i] = index.add(sig, at)
                    else:
                        records[i].row["dup_similarity"] = round(match.similarity, 4)
                        if match.root_mention_id is not None:
                            records[i].row["duplicate_of_id"] = match.root_mention_id
                        root_slot_of[i] = match.root_slot
                        slot_of[i] = index.add(sig, at, root=match.root_slot)
                    new_slots.append(slot_of[i])
            ids = _insert_rows(conn, [records[i].row for i in keep]) if keep else []
            id_of = dict(zip(keep, ids, strict=True))
            for i, slot_no in slot_of.items():
                index.bind(slot_no, id_of[i]) if index is not None else None
            # copies whose original came in this same batch, then the originals' counters
            late: list[dict[str, Any]] = []
            bumps: dict[int, list[int]] = {}
            for i, root_slot in root_slot_of.items():
                root_id = index.mention_id(root_slot) if index is not None else None
                if root_id is None:
                    continue
                if records[i].row["duplicate_of_id"] is None:
                    records[i].row["duplicate_of_id"] = root_id
                    late.append({"b_id": id_of[i], "b_root": root_id})
                bump = bumps.setdefault(root_id, [0, 0])
                bump[0] += 1
                bump[1] += reach_of(records[i].row)
            if late:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(duplicate_of_id=bindparam("b_root")),
                    late,
                )
            if bumps:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        dup_count=table.c.dup_count + bindparam("b_n"),
                        dup_reach=table.c.dup_reach + bindparam("b_r"),
                    ),
                    [{"b_id": k, "b_n": v[0], "b_r": v[1]} for k, v in bumps.items()],
                )
            if ids:
                conn.execute(
                    update(SOURCES)
                    .where(SOURCES.c.id == source.id)
                    .values(items_total=SOURCES.c.items_total + len(ids))
                )
    except BaseException:
        # nothing of this batch was stored: forget its signatures too
        if index is not None:
            index.discard(new_slots)
        raise
    for i in keep:
        row = records[i].row
        outcomes[i] = ItemOutcome(
            "accepted", mention_id=id_of[i], duplicate_of_id=row["duplicate_of_id"], code=None, message=None
        )
    return [o for o in outcomes if o is not None], ids


def ingest_drafts(
    ctx: AppContext,
    source: Source,
    drafts: Sequence[tuple[int | None, ItemDraft]],
    *,
    quarantine_errors: bool = True,
    publish: bool = True,
) -> tuple[IngestReport, list[ItemOutcome]]:
    """Normalise, dedup and store ``(raw_item_id, draft)`` pairs; one outcome per draft, in order."""
    report = IngestReport()
    outcomes: list[ItemOutcome] = [ItemOutcome("rejected")] * len(drafts)
    tz = str((source.config or {}).get("timezone") or ctx.settings.timezone)
    near_dup = bool((source.config or {}).get("near_dup", True))
    batch_size = ctx.settings.ingest.batch_size
    qrows: list[dict[str, Any]] = []
    for start in range(0, len(drafts), batch_size):
        now = ctx.clock.now()
        records: list[Record] = []
        positions: list[int] = []
        ids: list[int] = []
        with gc_paused():
            for pos in range(start, min(start + batch_size, len(drafts))):
                raw_item_id, draft = drafts[pos]
                try:
                    records.append(normalise_draft(draft, source, now, tz, raw_item_id))
                    positions.append(pos)
                except Exception as exc:
                    reason = error_reason(exc)
                    outcomes[pos] = ItemOutcome("rejected", code=reason, message=str(exc)[:500])
                    if quarantine_errors:
                        qrows.append(
                            {
                                "source_id": source.id,
                                "raw_item_id": raw_item_id,
                                "stage": "normalise",
                                "reason": reason,
                                "error": str(exc),
                                "payload": {"draft": draft_payload(draft)},
                            }
                        )
            if records:
                with _lock(ctx):
                    try:
                        batch_outcomes, ids = _store_batch(ctx, source, records, near_dup)
                    except IntegrityError:
                        # a concurrent writer stored some of these first: dedup again against them
                        for rec in records:
                            rec.row.update(duplicate_of_id=None, dup_similarity=None)
                        batch_outcomes, ids = _store_batch(ctx, source, records, near_dup)
                for pos, outcome in zip(positions, batch_outcomes, strict=True):
                    outcomes[pos] = outcome
                    if outcome.status == "duplicate":
                        report.exact_dupes += 1
                    elif outcome.duplicate_of_id is not None:
                        report.near_dupes += 1
                    else:
                        report.new += 1
                report.mention_ids.extend(ids)
        if publish and ids:
            ctx.bus.publish(MENTIONS_INGESTED, [{"mention_id": i} for i in ids])
    if qrows:
        _quarantine_many(ctx, qrows)
        report.quarantined += len(qrows)
    return report, outcomes


def parse_payload(
    ctx: AppContext, source: Source, connector: Connector, raw_item_id: int, payload: RawPayload
) -> tuple[list[ItemDraft], list[ItemError], Exception | None]:
    try:
        result = connector.parse(source, payload)
    except Exception as exc:  # a connector bug must not lose the payload either
        return [], [], exc
    return list(result.items), list(result.errors), None


def ingest_payloads(
    ctx: AppContext,
    source: Source,
    payloads: Iterable[RawPayload],
    connector: Connector,
    *,
    publish: bool = True,
) -> IngestReport:
    """Store, parse, normalise, dedup and insert; see the module docstring. Never raises on bad input."""
    report = IngestReport()
    pending: list[tuple[int | None, ItemDraft]] = []
    limit = ctx.settings.ingest.batch_size
    for payload in payloads:
        if payload.not_modified:
            continue
        with gc_paused():  # parsing allocates a few containers per row
            raw_item_id = store_raw(ctx, source, payload)
            report.raw_items += 1
            drafts, errors, fatal = parse_payload(ctx, source, connector, raw_item_id, payload)
            qrows: list[dict[str, Any]] = []
            if fatal is not None:
                reason = error_reason(fatal) if isinstance(fatal, YuqingError) else "parse_failed"
                if not isinstance(fatal, ParseError):
                    log.warning("connector %s failed on raw item %s: %r", connector.name, raw_item_id, fatal)
                qrows.append(
                    {
                        "source_id": source.id,
                        "raw_item_id": raw_item_id,
                        "stage": "parse",
                        "reason": reason,
                        "error": f"{type(fatal).__name__}: {fatal}",
                    }
                )
            for err in errors:
                qrows.append(
                    {
                        "source_id": source.id,
                        "raw_item_id": raw_item_id,
                        "stage": "parse",
                        "reason": err.reason,
                        "error": str(err),
                        "payload": {"item": err.payload} if err.payload is not None else None,
                    }
                )
            if qrows:
                _quarantine_many(ctx, qrows)
                report.quarantined += len(qrows)
            _set_raw_status(ctx, raw_item_id, "quarantined" if fatal is not None else "parsed")
            pending.extend((raw_item_id, d) for d in drafts)
        if len(pending) >= limit:
            sub, _ = ingest_drafts(ctx, source, pending, publish=publish)
            report.merge(sub)
            pending = []
    if pending:
        sub, _ = ingest_drafts(ctx, source, pending, publish=publish)
        report.merge(sub)
    return report
