"""Quarantine: rejected input, visible and replayable.

``replay`` re-reads a quarantined entry with the source's *current* connector and mapping:
an item-level entry (a row or pushed item, or a draft that failed normalisation) is re-parsed
on its own; a payload-level entry re-parses the stored raw item (rows already ingested come
back as exact duplicates and are skipped). A replay that fails again records the new error on
the same entry (``status = failed``) instead of creating another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from yuqing.core.context import AppContext
from yuqing.errors import NotFound
from yuqing.sources.base import ItemDraft, ItemError, RawPayload
from yuqing.sources.models import Quarantine, RawItem, Source
from yuqing.sources.service import (
    IngestReport,
    draft_from_payload,
    error_reason,
    get_connector,
    ingest_drafts,
)

STATUSES = ("open", "replayed", "failed", "dropped")


@dataclass
class ReplayResult:
    quarantine_id: int
    status: str  # replayed | failed
    error: str | None
    report: IngestReport


def list_entries(
    ctx: AppContext, *, status: str | None = None, source: str | None = None, limit: int = 50
) -> list[Quarantine]:
    with ctx.db.session() as s:
        q = select(Quarantine).order_by(Quarantine.id.desc()).limit(limit)
        if status:
            q = q.where(Quarantine.status == status)
        if source:
            q = q.join(Source, Source.id == Quarantine.source_id).where(Source.name == source)
        return list(s.scalars(q))


def counts(ctx: AppContext) -> dict[str, int]:
    with ctx.db.session() as s:
        return {
            str(status): int(n)
            for status, n in s.execute(select(Quarantine.status, func.count()).group_by(Quarantine.status))
        }


def get_entry(ctx: AppContext, entry_id: int) -> tuple[Quarantine, RawItem | None, Source | None]:
    with ctx.db.session() as s:
        entry = s.get(Quarantine, entry_id)
        if entry is None:
            raise NotFound(f"隔离记录不存在 / no quarantine entry {entry_id}")
        raw = s.get(RawItem, entry.raw_item_id) if entry.raw_item_id else None
        source = s.get(Source, entry.source_id) if entry.source_id else None
        return entry, raw, source


def _payload(raw: RawItem) -> RawPayload:
    return RawPayload(
        body=bytes(raw.body),
        url=raw.url,
        content_type=raw.content_type,
        encoding=raw.encoding,
        http_status=raw.http_status,
        headers=dict(raw.headers or {}),
    )


def replay(ctx: AppContext, entry_id: int) -> ReplayResult:
    entry, raw, source = get_entry(ctx, entry_id)
    report = IngestReport()
    error: str | None = None
    if source is None:
        error = "信源已不存在 / the source no longer exists"
    else:
        try:
            report, error = _replay(ctx, entry, raw, source)
        except Exception as exc:  # replay must record, never crash
            error = f"{error_reason(exc)}: {exc}"
    status = "failed" if error else "replayed"
    with ctx.db.session() as s:
        row = s.get(Quarantine, entry_id)
        assert row is not None
        row.attempts = (row.attempts or 0) + 1
        row.replayed_at = ctx.clock.now()
        row.status = status
        row.replay_error = error[:10_000] if error else None
    return ReplayResult(entry_id, status, error, report)


def _replay(
    ctx: AppContext, entry: Quarantine, raw: RawItem | None, source: Source
) -> tuple[IngestReport, str | None]:
    connector = get_connector(source.kind)
    payload: dict[str, Any] = dict(entry.payload or {})
    drafts: list[ItemDraft] = []
    if "draft" in payload:
        drafts = [draft_from_payload(payload["draft"])]
    elif "item" in payload and payload["item"] is not None:
        parse_item = getattr(connector, "parse_item", None)
        if parse_item is None:
            if raw is None:
                return IngestReport(), "连接器不支持单条重放 / connector cannot replay one item"
        else:
            try:
                drafts = [parse_item(source, payload["item"])]
            except ItemError as err:
                return IngestReport(), f"{err.reason}: {err}"
    if not drafts:
        if raw is None:
            return IngestReport(), "原始数据已不存在 / the raw item is gone"
        result = connector.parse(source, _payload(raw))
        drafts = list(result.items)
        if result.errors and entry.stage == "parse" and not payload:
            # payload-level entry: the rows that still fail are reported, not re-quarantined
            first = result.errors[0]
            report, _ = ingest_drafts(ctx, source, [(raw.id, d) for d in drafts], quarantine_errors=False)
            return report, f"{len(result.errors)} 条仍失败 / still failing: {first.reason}: {first}"
    raw_id = raw.id if raw is not None else None
    report, outcomes = ingest_drafts(ctx, source, [(raw_id, d) for d in drafts], quarantine_errors=False)
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected:
        return report, f"{rejected[0].code}: {rejected[0].message}"
    return report, None


def replay_all(ctx: AppContext, *, status: str = "open", limit: int = 1000) -> list[ReplayResult]:
    with ctx.db.session() as s:
        ids = list(
            s.scalars(
                select(Quarantine.id).where(Quarantine.status == status).order_by(Quarantine.id).limit(limit)
            )
        )
    return [replay(ctx, i) for i in ids]
