"""Full-text search over mentions that understands Chinese.

Text is segmented with rjieba (search mode, so ``招商银行`` is also found by ``银行``) and stored
as space-separated tokens in ``mention_search``. One interface, two implementations:

- PostgreSQL: a GIN index on ``to_tsvector('simple', tokens)``; queries use ``plainto_tsquery``.
- SQLite: an inverted index table ``mention_terms`` (term, mention_id); a query keeps the
  mentions holding every term. (FTS5 virtual tables create shadow tables that the migration
  check cannot tell apart from drift; see docs/web.md.)

Sync: the ``mentions.ingested`` bus topic is handled by :func:`handle_ingested` (wired in
``yuqing.web.stage``), and every search first catches up on mentions above the highest indexed
id (:func:`catch_up`), so the index is complete even when no handler ran.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import rjieba
from sqlalchemy import Select, delete, func, insert, select, text
from sqlalchemy.orm import Session

from yuqing.core.bus import Message
from yuqing.core.context import AppContext
from yuqing.errors import ValidationError
from yuqing.sources.models import Mention
from yuqing.web.models import MentionSearch, MentionTerm

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
MAX_TERM = 100
MAX_QUERY_TERMS = 12
CATCH_UP_BATCH = 2000


@functools.cache
def _jieba() -> Any:
    return rjieba.Jieba()


def _norm(tokens: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for tok in tokens:
        tok = tok.strip().lower()
        if not tok or not _WORD.search(tok) or " " in tok:
            continue
        tok = tok[:MAX_TERM]
        if tok not in seen:
            seen.add(tok)
            out.append(tok)
    return out


def index_terms(title: str, body: str) -> list[str]:
    """Terms stored for a mention: search-mode segmentation (words and their sub-words)."""
    return _norm(_jieba().cut_for_search(f"{title}\n{body}", True))


def query_terms(query: str) -> list[str]:
    """Terms of a user query (precise mode); every one must match."""
    terms = _norm(_jieba().cut(query[:500], True))
    if not terms:
        raise ValidationError("搜索词无效 / the search query has no words", code="invalid_query")
    return terms[:MAX_QUERY_TERMS]


class SearchIndex(Protocol):
    def write(self, s: Session, rows: Sequence[tuple[int, list[str]]]) -> None: ...

    def matching_ids(self, terms: list[str]) -> Select[Any]: ...


class PostgresIndex:
    def write(self, s: Session, rows: Sequence[tuple[int, list[str]]]) -> None:
        pass  # the GIN index over mention_search.tokens is maintained by PostgreSQL

    def matching_ids(self, terms: list[str]) -> Select[Any]:
        tsv = func.to_tsvector(text("'simple'::regconfig"), MentionSearch.tokens)
        query = func.plainto_tsquery(text("'simple'::regconfig"), " ".join(terms))
        return select(MentionSearch.mention_id).where(tsv.op("@@")(query))


class SqliteTermIndex:
    def write(self, s: Session, rows: Sequence[tuple[int, list[str]]]) -> None:
        ids = [mid for mid, _ in rows]
        s.execute(delete(MentionTerm).where(MentionTerm.mention_id.in_(ids)))
        values = [{"term": t, "mention_id": mid} for mid, terms in rows for t in terms]
        if values:
            s.execute(insert(MentionTerm), values)

    def matching_ids(self, terms: list[str]) -> Select[Any]:
        return (
            select(MentionTerm.mention_id)
            .where(MentionTerm.term.in_(terms))
            .group_by(MentionTerm.mention_id)
            .having(func.count(func.distinct(MentionTerm.term)) == len(terms))
        )


def backend_for(s: Session) -> SearchIndex:
    return PostgresIndex() if s.get_bind().dialect.name == "postgresql" else SqliteTermIndex()


def index_mentions(ctx: AppContext, s: Session, mention_ids: Iterable[int]) -> int:
    """(Re)index the given mentions in one batch; idempotent."""
    ids = sorted(set(mention_ids))
    if not ids:
        return 0
    found = s.execute(select(Mention.id, Mention.title, Mention.text).where(Mention.id.in_(ids))).all()
    rows = [(mid, index_terms(title or "", body or "")) for mid, title, body in found]
    if not rows:
        return 0
    now = ctx.clock.now()
    s.execute(delete(MentionSearch).where(MentionSearch.mention_id.in_([r[0] for r in rows])))
    s.execute(
        insert(MentionSearch),
        [{"mention_id": mid, "tokens": " ".join(terms), "indexed_at": now} for mid, terms in rows],
    )
    backend_for(s).write(s, rows)
    return len(rows)


def catch_up(ctx: AppContext, s: Session, limit: int = CATCH_UP_BATCH) -> int:
    """Index mentions above the highest indexed id (at most ``limit`` per call)."""
    mark = s.scalar(select(func.max(MentionSearch.mention_id))) or 0
    ids = list(s.scalars(select(Mention.id).where(Mention.id > mark).order_by(Mention.id).limit(limit)))
    return index_mentions(ctx, s, ids)


def reindex_all(ctx: AppContext, batch: int = 5000) -> int:
    """Rebuild the whole index (``yuqing search reindex``)."""
    total = 0
    last = 0
    while True:
        with ctx.db.session() as s:
            ids = list(
                s.scalars(select(Mention.id).where(Mention.id > last).order_by(Mention.id).limit(batch))
            )
            if not ids:
                return total
            total += index_mentions(ctx, s, ids)
            last = ids[-1]


def handle_ingested(ctx: AppContext, batch: list[Message]) -> None:
    """Bus handler for ``mentions.ingested``: index the batch (redelivery re-indexes, never duplicates)."""
    ids = [int(m["mention_id"]) for m in batch if "mention_id" in m]
    with ctx.db.session() as s:
        index_mentions(ctx, s, ids)


def ensure_indexed(ctx: AppContext, rounds: int = 5) -> None:
    """Catch up on unindexed mentions before a search; a concurrent indexer winning is fine."""
    from sqlalchemy.exc import IntegrityError

    for _ in range(rounds):
        try:
            with ctx.db.session() as s:
                if catch_up(ctx, s) < CATCH_UP_BATCH:
                    return
        except IntegrityError:
            return


def search_filter(s: Session, query: str) -> Select[Any]:
    """A sub-select of mention ids matching every term of ``query``."""
    return backend_for(s).matching_ids(query_terms(query))
